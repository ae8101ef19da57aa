"""Engine and sessions. One session (one transaction) per update or job."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and write transactions that start as writers.

    pysqlite's deferred BEGIN lets two transactions both read, then fail when one
    tries to write ("database is locked"); BEGIN IMMEDIATE makes them queue instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        inline = isinstance(dbapi_connection.driver_connection, _InlineConnection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # An inline connection never waits on the event loop: it waits in its thread instead.
        cursor.execute(f"PRAGMA busy_timeout={0 if inline else BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            return  # Database.read(): each statement stands alone, as on PostgreSQL
        driver = connection.connection.driver_connection
        if isinstance(driver, _InlineConnection):
            driver.begin_pending = True  # sent with the first statement, in the same call
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# How long a statement waits for another process's write lock before "database is locked".
BUSY_TIMEOUT_MS = 10_000

# Execution option of `Database.read()`'s engine: no transaction around its statements.
READ_ONLY = "treem_read_only"

# A server that accepts connections but never answers must not hang the bot: asyncpg gives
# up connecting after this long (its default is 60 s), and so does the start-up check.
CONNECT_TIMEOUT = 10.0


class _InlineCursor(aiosqlite.Cursor):
    """The statement and its rows in one call to SQLite (aiosqlite makes four: a cursor, the
    statement, its rows, closing the cursor); making and closing the cursor do no I/O."""

    def __init__(self, conn: _InlineConnection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._connection = conn
        self._rows: list | None = None

    def _begin_if_pending(self) -> None:
        """Before the statement: the transaction's BEGIN IMMEDIATE (still pending if it was
        refused as busy, so the call made again in the worker thread sends it)."""
        if self._connection.begin_pending:
            self._cursor.execute("BEGIN IMMEDIATE")
            self._connection.begin_pending = False

    async def execute(self, sql: str, parameters=None) -> _InlineCursor:  # noqa: ANN001
        cursor = self._cursor

        def run() -> list | None:
            self._begin_if_pending()
            cursor.execute(sql, [] if parameters is None else parameters)
            return cursor.fetchall() if cursor.description else None

        self._rows = await self._execute(run)
        return self

    async def executemany(self, sql: str, parameters) -> _InlineCursor:  # noqa: ANN001
        def run() -> None:
            self._begin_if_pending()
            self._cursor.executemany(sql, parameters)

        self._rows = None
        await self._execute(run)
        return self

    async def fetchone(self) -> Any:
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


class _InlineConnection(aiosqlite.Connection):
    """SQLite called on the event loop itself, not in aiosqlite's worker thread.

    SQLite answers the bot's statements from its page cache in microseconds, while each
    hand-off to the worker thread and back (a queue, the event loop's self-pipe, the GIL
    changing threads twice) cost far more: measured with bench/throughput.py (SQLite, 200
    users), 4.2 ms of CPU per update with the thread and 2.5 ms without it, 229 and 403
    updates per second. The one wait SQLite can make, for another process's write lock (a
    `treem` command run beside the bot), must not stop the event loop: the connection's busy
    timeout is 0, and a call refused as busy is run again in the worker thread, which waits
    up to BUSY_TIMEOUT_MS (only a refused BEGIN, COMMIT or statement outside a transaction:
    those did nothing, so running them again is safe).

    A transaction's BEGIN IMMEDIATE goes with its first statement, and ending a transaction
    that never began (a unit of work that ran no statement, or `Database.read()`, which has
    none) calls nothing. SQLAlchemy uses the connection for one call at a time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.begin_pending = False
        # Calls handed to the worker thread and not finished there. While there is one,
        # every call (a rollback, closing) queues behind it: the task that handed it over
        # may have been cancelled, but the worker still uses the connection.
        self._in_worker = 0
        self._in_worker_lock = threading.Lock()

    async def _execute(self, fn, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN001
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if not self._in_worker:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not self._may_wait_and_retry(exc, fn):
                    raise
        with self._in_worker_lock:
            self._in_worker += 1
        return await super()._execute(self._waiting, fn, args, kwargs)

    def _may_wait_and_retry(self, exc: sqlite3.OperationalError, fn: Any) -> bool:
        """A call refused as busy did nothing when it was the transaction's BEGIN, a COMMIT,
        or a statement outside a transaction; any other refusal is raised (SQLite's advice:
        roll the transaction back)."""
        if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) != sqlite3.SQLITE_BUSY:
            return False
        return self.begin_pending or not self._conn.in_transaction or fn == self._conn.commit

    def _waiting(self, fn, args: tuple, kwargs: dict) -> Any:  # noqa: ANN001
        """In the worker thread: the call again, allowed to wait for the lock."""
        try:
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            try:
                return fn(*args, **kwargs)
            finally:
                self._conn.execute("PRAGMA busy_timeout=0")
        finally:
            with self._in_worker_lock:
                self._in_worker -= 1

    def cursor(self) -> _ReadyCursor:  # what SQLAlchemy awaits (`async with` or `await`)
        return _ReadyCursor(_InlineCursor(self, self._conn.cursor()))

    async def commit(self) -> None:
        if self._ended_without_work():
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._ended_without_work():
            return
        await super().rollback()

    def _ended_without_work(self) -> bool:
        if self.begin_pending:
            self.begin_pending = False
            return True
        return not self._conn.in_transaction


class _ReadyCursor:
    def __init__(self, cursor: _InlineCursor) -> None:
        self._cursor = cursor

    def __await__(self):  # noqa: ANN204
        async def ready() -> _InlineCursor:
            return self._cursor
        return ready().__await__()

    async def __aenter__(self) -> _InlineCursor:
        return self._cursor

    async def __aexit__(self, *exc_info: object) -> None:
        await self._cursor.close()


def _sqlite_creator(path: str):  # noqa: ANN202
    async def connect() -> aiosqlite.Connection:
        def connector() -> sqlite3.Connection:
            # timeout=0: the pragmas at connect run on the event loop too (see above).
            return sqlite3.connect(path, timeout=0, check_same_thread=False)

        return await _InlineConnection(connector, 64)
    return connect


def private_sqlite_file(path: pathlib.Path) -> None:
    """The database holds children's cases and reporters' phones: its folder is created
    0700 and the file 0600 (SQLite gives its -wal and -shm files the file's mode). An
    existing file readable by others is made private; an existing folder is left as it is
    (it may be shared on purpose), and `treem check` warns about it."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for candidate in (path, path.with_name(path.name + "-wal"),
                      path.with_name(path.name + "-shm")):
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = pathlib.Path(parsed.database).expanduser()
            # Best effort: an unwritable place is reported by check_connection, not here.
            with contextlib.suppress(OSError):
                private_sqlite_file(path)
            # SQLite has one writer at a time and every transaction here is a writer (BEGIN
            # IMMEDIATE): one connection, handed over in order, instead of several that
            # sleep in SQLite's busy handler while they wait. The session always ends its
            # transaction itself (commit or rollback), so the pool need not send one more
            # ROLLBACK on return.
            kwargs = {"async_creator": _sqlite_creator(str(path)), "pool_size": 1,
                      "max_overflow": 0, "pool_timeout": 60, "pool_reset_on_return": None,
                      **kwargs}
        engine = create_async_engine(url, **kwargs)
        _prepare_sqlite(engine)
        return engine
    engine = create_async_engine(url, **kwargs)
    _replace_closed_connections(engine)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a PostgreSQL restart, an idle timeout,
    pg_terminate_backend) is replaced before use, for free.

    `pool_pre_ping` found them by a round trip per checkout, three with asyncpg (BEGIN, ";",
    ROLLBACK): about two fifths of the bot's round trips to the database. asyncpg watches
    its socket, so it already knows a connection the server closed; asking costs nothing. Raising
    DisconnectionError here is SQLAlchemy's documented way to have the pool discard the
    connection and check out another (a connection lost in use invalidates the pool too).
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        driver_connection = getattr(dbapi_connection, "_connection", None)
        is_closed = getattr(driver_connection, "is_closed", None)
        if is_closed is not None and is_closed():
            raise DisconnectionError("the server closed this connection")


class DatabaseProblem(StrEnum):
    """Why the database cannot be used, as far as the bot can tell."""

    REFUSED = "refused"  # nothing listens there, or the host does not resolve
    NO_ANSWER = "no_answer"  # connected (or trying) but no answer in CONNECT_TIMEOUT
    LOGIN = "login"  # wrong user or password
    NO_DATABASE = "no_database"  # the server has no database of that name
    FILE = "file"  # SQLite: the file or its folder cannot be created, read or written
    OTHER = "other"


def where(url: str) -> str:
    """Where the database is, without the password: host:port/name or the SQLite path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(pathlib.Path(parsed.database or "").expanduser())
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


def _sqlite_file_problem(url: str) -> bool:
    """True when the SQLite file cannot be created or written where the URL says."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return False
    path = pathlib.Path(database).expanduser()
    if path.exists():
        return not (path.is_file() and os.access(path, os.R_OK | os.W_OK))
    folder = path.parent
    return not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK))


def _classify(error: BaseException) -> DatabaseProblem:
    text = f"{error.__class__.__name__} {error}".lower()
    if isinstance(error, TimeoutError) or "timeout" in text or "timed out" in text:
        return DatabaseProblem.NO_ANSWER
    if "password" in text or "authoriz" in text or ("role" in text and "does not exist" in text):
        return DatabaseProblem.LOGIN
    if "database" in text and "does not exist" in text:
        return DatabaseProblem.NO_DATABASE
    if "unable to open database file" in text or "readonly database" in text:
        return DatabaseProblem.FILE
    if isinstance(error, OSError) or "connect" in text or "refused" in text:
        return DatabaseProblem.REFUSED
    return DatabaseProblem.OTHER


class Database:
    """Owns the engine; hands out sessions that commit once at the end."""

    def __init__(self, url: str, *, connect_timeout: float = CONNECT_TIMEOUT,
                 **engine_kwargs: Any) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        if make_url(url).get_backend_name() != "sqlite":
            engine_kwargs["connect_args"] = {"timeout": connect_timeout,
                                             **engine_kwargs.get("connect_args", {})}
            # The same at most 15 connections as SQLAlchemy's default (5 + 10 overflow), but
            # 10 kept: with 64 updates in flight, 5 meant connections opened and closed all the
            # time (each a login, and every statement prepared again on the new connection).
            engine_kwargs = {"pool_size": 10, "max_overflow": 5, **engine_kwargs}
        self.engine = create_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # PostgreSQL: statements outside a transaction, so a lone read costs one round trip
        # instead of three (BEGIN, the read, COMMIT). Same pool as the units of work.
        self._reads = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.backend == "postgresql" else self.engine.execution_options(**{READ_ONLY: True}),
            class_=AsyncSession, expire_on_commit=False,
        )

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits if the block succeeds, rolls back if it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """For a quick look that writes nothing (a check made on every update, say): each
        statement stands alone, with no transaction around them (PostgreSQL: autocommit;
        SQLite: no BEGIN, so no COMMIT either). Whatever the look finds that leads to a
        change is read again inside `session()`."""
        async with self._reads() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports, never raises
            return False

    async def check_connection(self) -> DatabaseProblem | None:
        """Connects, writes nothing, and says what is wrong (None: the database answers).

        Never raises and never waits much longer than the connect timeout.
        """
        timeout = self.connect_timeout + 1
        if self.backend == "sqlite" and _sqlite_file_problem(self.url):
            return DatabaseProblem.FILE
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - every failure becomes one named problem
            cause = (exc.__cause__ or exc.orig) if isinstance(exc, DBAPIError) else exc
            return _classify(cause or exc)
        return None

    async def dispose(self) -> None:
        await self.engine.dispose()
