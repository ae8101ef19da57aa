"""Engine and sessions. One session (one transaction) per update or job."""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
from collections.abc import AsyncIterator

import aiosqlite
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and write transactions that start as writers.

    pysqlite's deferred BEGIN lets two transactions both read, then fail when one
    tries to write ("database is locked"); BEGIN IMMEDIATE makes them queue instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class _OneHopCursor(aiosqlite.Cursor):
    """aiosqlite runs every call in its worker thread: a cursor, the statement, its rows and
    closing the cursor cost SQLAlchemy four thread hand-offs per statement. Here the
    statement and its rows are one; making and closing the cursor (no I/O) stay on the
    event loop (the connection is opened with check_same_thread=False and used by one
    statement at a time)."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._rows: list | None = None

    async def execute(self, sql: str, parameters=None) -> _OneHopCursor:  # noqa: ANN001
        cursor = self._cursor

        def run() -> list | None:
            cursor.execute(sql, [] if parameters is None else parameters)
            return cursor.fetchall() if cursor.description else None

        self._rows = await self._execute(run)
        return self

    async def fetchone(self):  # noqa: ANN201
        if self._rows is None:
            return await super().fetchone()
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list:
        if self._rows is None:
            return await super().fetchmany(size)
        size = size or self._cursor.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list:
        if self._rows is None:
            return await super().fetchall()
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._cursor.close()


class _OneHopConnection(aiosqlite.Connection):
    def cursor(self):  # noqa: ANN201 - what SQLAlchemy awaits (`async with` or `await`)
        return _ReadyCursor(_OneHopCursor(self, self._conn.cursor()))


class _ReadyCursor:
    def __init__(self, cursor: _OneHopCursor) -> None:
        self._cursor = cursor

    def __await__(self):  # noqa: ANN204
        async def ready() -> _OneHopCursor:
            return self._cursor
        return ready().__await__()

    async def __aenter__(self) -> _OneHopCursor:
        return self._cursor

    async def __aexit__(self, *exc_info: object) -> None:
        await self._cursor.close()


def _sqlite_creator(path: str):  # noqa: ANN202
    async def connect() -> aiosqlite.Connection:
        def connector() -> sqlite3.Connection:
            return sqlite3.connect(path, check_same_thread=False)

        return await _OneHopConnection(connector, 64)
    return connect


def create_engine(url: str, **kwargs) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = pathlib.Path(parsed.database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            # SQLite has one writer at a time and every transaction here is a writer (BEGIN
            # IMMEDIATE): one connection, handed over in order, instead of several that
            # sleep in SQLite's busy handler while they wait (and one worker thread, not
            # many). The session always ends its transaction itself (commit or rollback),
            # so the pool need not send one more ROLLBACK through the thread on return.
            kwargs = {"async_creator": _sqlite_creator(str(path)), "pool_size": 1,
                      "max_overflow": 0, "pool_timeout": 60, "pool_reset_on_return": None,
                      **kwargs}
        engine = create_async_engine(url, **kwargs)
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """Owns the engine; hands out sessions that commit once at the end."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits if the block succeeds, rolls back if it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports, never raises
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
