"""The stored encrypted values as a whole: which keys wrote them, is the key given the right
one, encrypting rows written before encryption existed, re-encrypting under a new key.

Works on the raw column text (no decryption through the ORM types), in batches of primary
keys, each batch its own transaction; an UPDATE only applies if the value is still the one
read (compare and set), so it is safe while the bot runs and edits cases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.crypto import ENCRYPTED_TYPES, PREFIX, DataKeyError, Keyring
from storage.db import Database

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    column: str
    key: tuple[str, ...]  # primary key columns

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


def encrypted_columns() -> list[EncryptedColumn]:
    """Every column of the models with an encrypted type (new tables are found by type)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, ENCRYPTED_TYPES):
                found.append(EncryptedColumn(table.name, column.name,
                                             tuple(c.name for c in table.primary_key.columns)))
    return found


def _raw(col: EncryptedColumn) -> tuple[sa.TableClause, sa.ColumnClause, list[sa.ColumnClause]]:
    keys = [sa.column(name) for name in col.key]
    value = sa.column(col.column, sa.Text)
    return sa.table(col.table, value, *keys), value, keys


@dataclass
class KeyCheck:
    """What the database holds: key ids in use and how many plain-text values are left."""

    key_ids: set[str]
    plaintext: int
    unknown: set[str]  # key ids the keyring lacks (None keyring: every key id)


async def inspect(db: Database, keyring: Keyring | None) -> KeyCheck:
    """The key ids the stored values use (one scan of each encrypted column), and one value
    per key id decrypted with `keyring`: DataKeyError("tampered") if the key is wrong."""
    key_ids: set[str] = set()
    plaintext = 0
    samples: dict[str, str] = {}
    start = len(PREFIX) + 1
    async with db.session() as session:
        for col in encrypted_columns():
            table, value, _keys = _raw(col)
            ids = sa.func.substr(value, start, 8)
            rows = (await session.exec(
                sa.select(ids, sa.func.min(value)).select_from(table)
                .where(value.like(PREFIX + "%")).group_by(ids))).all()
            for kid, sample in rows:
                key_ids.add(kid)
                samples.setdefault(kid, sample)
            plaintext += (await session.exec(
                sa.select(sa.func.count()).select_from(table)
                .where(value.is_not(None), sa.not_(value.like(PREFIX + "%"))))).scalar_one()
    known = keyring.key_ids if keyring is not None else frozenset()
    for kid, sample in samples.items():
        if kid in known:
            keyring.decrypt(sample)  # raises DataKeyError("tampered") on a wrong key
    return KeyCheck(key_ids=key_ids, plaintext=plaintext, unknown=key_ids - known)


async def reencrypt(db: Database, keyring: Keyring, *, only_plaintext: bool = False,
                    batch: int = BATCH) -> dict[str, int]:
    """Every stored value under the current key (or, with only_plaintext, just the values
    still in plain text). Returns how many values changed per column."""
    changed: dict[str, int] = {}
    for col in encrypted_columns():
        table, value, keys = _raw(col)
        todo = sa.not_(value.like(PREFIX + "%"))
        if not only_plaintext:
            todo = sa.or_(todo, sa.not_(value.like(f"{PREFIX}{keyring.current_id}:%")))
        after: tuple | None = None
        count = 0
        while True:
            async with db.session() as session:
                stmt = (sa.select(*keys, value).select_from(table)
                        .where(value.is_not(None), todo).order_by(*keys).limit(batch))
                if after is not None:
                    stmt = stmt.where(sa.tuple_(*keys) > sa.tuple_(*after))
                rows = (await session.exec(stmt)).all()
                for row in rows:
                    *ids, old = row
                    where = [k == v for k, v in zip(keys, ids, strict=True)]
                    # SQLite gives numbers written before encryption back as numbers.
                    text = old if isinstance(old, str) else repr(old)
                    result = await session.exec(
                        sa.update(table).where(*where, value == old)
                        .values({col.column: keyring.reencrypt(text)}))
                    count += result.rowcount or 0
            if len(rows) < batch:
                break
            after = tuple(rows[-1][:-1])
        if count:
            changed[str(col)] = count
            log.info("%s: %d values encrypted under key %s", col, count, keyring.current_id)
    return changed


async def prepare(db: Database, keyring: Keyring) -> KeyCheck:
    """At start, after the migrations: refuse a key that cannot read the stored values
    (DataKeyError "unknown" or "tampered"), then encrypt what is still in plain text."""
    check = await inspect(db, keyring)
    if check.unknown:
        raise DataKeyError("unknown", sorted(check.unknown)[0])
    if check.plaintext:
        await reencrypt(db, keyring, only_plaintext=True)
    old = check.key_ids - {keyring.current_id}
    if old:
        log.warning("values under the old key(s) %s remain: run `treem rotate-key`",
                    ", ".join(sorted(old)))
    return check
