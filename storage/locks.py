"""PostgreSQL session-level advisory locks on one dedicated connection kept open.

A session-level lock lives as long as the connection that took it: when the process
holding it dies (even kill -9), PostgreSQL ends that backend and the lock is free. Each
instance holds one lock naming itself (so others can tell it is alive) and tries to
hold the scheduler's lock (whoever holds it is the active instance). Keys are derived
from the database and schema, so several installations on one server do not collide.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)


def lock_key(*parts: str) -> int:
    """A signed 64-bit key, as pg_advisory_lock(bigint) takes."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLocks:
    """One dedicated connection; its loss means every lock it held is gone."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        self._busy = asyncio.Lock()  # one statement at a time on the one connection
        self.namespace = ""

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> None:
        conn = await self.db.engine.connect()
        # Autocommit: a session-level lock must not wait for a transaction to end, and an
        # idle connection must not sit "idle in transaction".
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await conn.execute(sa.text("SELECT current_database(), current_schema()"))).one()
        self.namespace = f"{row[0]}.{row[1]}"
        self._conn = conn

    def key(self, name: str) -> int:
        return lock_key("treem", self.namespace, name)

    async def try_lock(self, key: int) -> bool:
        result = await self._execute("SELECT pg_try_advisory_lock(:k)", k=key)
        return bool(result.scalar())

    async def unlock(self, key: int) -> None:
        await self._execute("SELECT pg_advisory_unlock(:k)", k=key)

    async def is_free(self, key: int) -> bool:
        """True if nobody holds `key` (checked by taking and releasing it)."""
        if await self.try_lock(key):
            await self.unlock(key)
            return True
        return False

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` on every NOTIFY on `channel`, as long as this connection lives."""
        async with self._busy:
            if self._conn is None:
                raise ConnectionError("advisory lock connection is not open")
            raw = await self._conn.get_raw_connection()
            await raw.driver_connection.add_listener(channel, lambda *_args: callback())

    async def ping(self) -> None:
        await self._execute("SELECT 1")

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                # Invalidated, not returned to the pool: a pooled connection keeps its
                # session, so its locks would outlive this instance's stop (and a later
                # try_lock on that same connection would wrongly succeed, re-entrantly).
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.debug("advisory lock connection closed with an error", exc_info=True)

    async def _execute(self, sql: str, **params: object):  # noqa: ANN202
        async with self._busy:
            if self._conn is None:
                raise ConnectionError("advisory lock connection is not open")
            try:
                return await self._conn.execute(sa.text(sql), params)
            except Exception:
                await self.close()  # every lock of this connection is to be considered lost
                raise
