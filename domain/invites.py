"""Invite codes: single-use, expiring, unguessable, carried in /start deep links."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from domain.errors import InviteProblem

INVITE_PREFIX = "i_"
# 15 random bytes -> 20 url-safe characters: 120 bits, far beyond guessing.
_CODE_BYTES = 15
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{16,40}")


def new_invite_code() -> str:
    return secrets.token_urlsafe(_CODE_BYTES)


def hash_invite_code(code: str) -> str:
    """Only the hash is stored: a database leak does not leak usable invites."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def deep_link_payload(code: str) -> str:
    """The /start payload (Telegram allows A-Z a-z 0-9 _ - up to 64 characters)."""
    payload = INVITE_PREFIX + code
    assert len(payload) <= 64
    return payload


def parse_invite_payload(payload: str) -> str | None:
    """The invite code in a /start payload, or None if the payload is not an invite."""
    if not payload.startswith(INVITE_PREFIX):
        return None
    code = payload[len(INVITE_PREFIX) :]
    return code if _CODE_RE.fullmatch(code) else ""


def check_redeemable(
    *,
    now: dt.datetime,
    expires_at: dt.datetime,
    used_at: dt.datetime | None,
    revoked_at: dt.datetime | None,
) -> None:
    """Raise InviteProblem unless an invite with these facts can be redeemed now."""
    if revoked_at is not None:
        raise InviteProblem(InviteProblem.REVOKED)
    if used_at is not None:
        raise InviteProblem(InviteProblem.USED)
    if now >= expires_at:
        raise InviteProblem(InviteProblem.EXPIRED)
