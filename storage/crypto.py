"""Encryption at rest of the sensitive fields: AES-256-GCM from the `cryptography` package.

A stored value is ``enc1:<key id>:<base64(nonce + ciphertext + tag)>``:

- ``enc1`` is the format, so a later format can live next to this one;
- the key id is 8 hex characters derived from the key (HMAC-SHA256 of a constant), so a
  value says which key wrote it and rotation can run while the bot answers: the keyring
  decrypts with any key it holds and always encrypts with the current one;
- GCM authenticates: a changed byte, or a value written with another key, is refused
  (`DataKeyError`), never returned as garbage.

The column types (`EncryptedText`, `EncryptedJSON`, `EncryptedFloat`) encrypt on write and
decrypt on read, so services and handlers see plain values. Encrypted columns cannot be
searched or compared in SQL (each write uses a fresh random nonce): a field that needs an
equality look-up (a phone number, a child's name in the register) stores `blind_index()`
of the value in a column of its own and is looked up by that.

The keyring is one per process (`use_keyring`), installed at start from TREEM_DATA_KEY
(and TREEM_DATA_KEY_OLD while rotating), by the sandbox from its key file, by tests from a
fixed test key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import TypeDecorator

FORMAT = "enc1"
PREFIX = FORMAT + ":"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
_AAD = b"treem-bot field v1"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{43}=?$")  # 32 bytes in base64url


class DataKeyError(Exception):
    """The data key is missing, malformed, unknown to this keyring, or a value was altered.

    `code`: missing | malformed | unknown | tampered | not_encrypted; `key_id` when known.
    """

    def __init__(self, code: str, key_id: str | None = None) -> None:
        super().__init__(code if key_id is None else f"{code} ({key_id})")
        self.code = code
        self.key_id = key_id


def generate_key() -> str:
    """A new random key as text (base64url, 44 characters): what `treem keygen` prints."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key written by generate_key(); DataKeyError("malformed") if not."""
    cleaned = "".join(text.split())
    if not _KEY_RE.match(cleaned):
        raise DataKeyError("malformed")
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError("malformed") from exc
    if len(raw) != KEY_BYTES:
        raise DataKeyError("malformed")
    return raw


def key_id(key: bytes) -> str:
    """Names a key in stored values without revealing it."""
    return hmac.new(key, b"treem key id", hashlib.sha256).hexdigest()[:8]


def is_encrypted(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)


def stored_key_id(value: str) -> str:
    """The key id of a stored value (DataKeyError("not_encrypted") if it is plain text)."""
    if not is_encrypted(value):
        raise DataKeyError("not_encrypted")
    return value[len(PREFIX):len(PREFIX) + 8]


class Keyring:
    """The current key (encrypts) and older keys (decrypt only, during a rotation)."""

    def __init__(self, current: bytes, old: Iterable[bytes] = ()) -> None:
        self.current_id = key_id(current)
        self._ciphers = {key_id(key): AESGCM(key) for key in (*old, current)}
        self._current = self._ciphers[self.current_id]
        self._index_key = hmac.new(current, b"treem blind index", hashlib.sha256).digest()

    @classmethod
    def from_text(cls, current: str, old: str | None = None) -> Keyring:
        """From TREEM_DATA_KEY and TREEM_DATA_KEY_OLD (comma-separated if several)."""
        olds = [parse_key(part) for part in (old or "").split(",") if part.strip()]
        return cls(parse_key(current), olds)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, text.encode("utf-8"), _AAD)
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{PREFIX}{self.current_id}:{body}"

    def decrypt(self, value: str) -> str:
        kid = stored_key_id(value)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DataKeyError("unknown", kid)
        try:
            raw = base64.b64decode(value[len(PREFIX) + 9:], validate=True)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DataKeyError("tampered", kid) from exc

    def reencrypt(self, value: str) -> str:
        """A stored value under the current key: plain text (rows written before encryption
        existed) is encrypted, a value under an older key decrypted and encrypted again."""
        if not is_encrypted(value):
            return self.encrypt(value)
        if stored_key_id(value) == self.current_id:
            return value
        return self.encrypt(self.decrypt(value))

    def blind_index(self, value: str) -> str:
        """HMAC-SHA256 of the normalised value (NFC, case-folded, spaces collapsed): equal
        values give equal indexes, the index alone reveals nothing. It depends on the current
        key: `treem rotate-key` recomputes the blind-index column (the register's duplicate key,
        storage/register.recompute_match_keys)."""
        normal = " ".join(unicodedata.normalize("NFC", value).casefold().split())
        return hmac.new(self._index_key, normal.encode("utf-8"), hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def use_keyring(keyring: Keyring | None) -> Keyring | None:
    """Installs the process's keyring; returns the previous one (tests put it back)."""
    global _keyring
    previous, _keyring = _keyring, keyring
    return previous


def keyring() -> Keyring:
    if _keyring is None:
        raise DataKeyError("missing")
    return _keyring


def blind_index(value: str) -> str:
    return keyring().blind_index(value)


class EncryptedText(TypeDecorator):
    """A string stored encrypted (TEXT in the database, plain str in Python)."""

    impl = sa.Text
    cache_ok = True

    def dump(self, value: Any) -> str:
        return str(value)

    def load(self, text: str) -> Any:
        return text

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(self.dump(value))

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return self.load(keyring().decrypt(value))

    def process_literal_param(self, value: Any, dialect: sa.Dialect) -> str:
        raise NotImplementedError("encrypted values are never written into SQL text")


class EncryptedJSON(EncryptedText):
    """A JSON document (dict or list) stored encrypted as one value."""

    cache_ok = True

    def dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def load(self, text: str) -> Any:
        return json.loads(text)


class EncryptedFloat(EncryptedText):
    """A number (a GPS coordinate) stored encrypted."""

    cache_ok = True

    def dump(self, value: Any) -> str:
        return repr(float(value))

    def load(self, text: str) -> float:
        return float(text)


ENCRYPTED_TYPES = (EncryptedText,)
