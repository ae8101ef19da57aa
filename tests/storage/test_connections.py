"""Pooled PostgreSQL connections the server closed are replaced before use, without the
round trips of a pre-ping; SQLite called on the event loop, waiting for locks off it
(storage/db.py)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import select

from storage.models import Member, ProcessedUpdate


async def _backend_pid(db) -> int:
    async with db.session() as session:
        return (await session.exec(sa.text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_connection_the_server_closed_is_replaced_before_use(db):
    if db.backend != "postgresql":
        pytest.skip("SQLite has no server to close a connection")
    pooled = await _backend_pid(db)
    assert await _backend_pid(db) == pooled  # one idle connection in the pool, reused
    # Another client (not this pool) has the server end it, as a restart would.
    dsn = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(dsn)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pooled)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the closed socket reaches asyncpg through the event loop
    # A unit of work as the handlers run it: no error, on a new server process.
    async with db.session() as session:
        assert (await session.exec(select(Member))).all() == []
        assert (await session.exec(sa.text("SELECT pg_backend_pid()"))).scalar_one() != pooled


async def _two_transaction_ids(unit) -> tuple[int, int]:
    async with unit() as session:
        ids = [(await session.exec(sa.text("SELECT txid_current()"))).scalar_one()
               for _ in range(2)]
    return ids[0], ids[1]


async def test_a_quick_read_needs_no_transaction_round_trips(db):
    if db.backend != "postgresql":
        pytest.skip("SQLite's transactions cost no round trip")
    # A unit of work is one transaction; a read (the check before every command) runs
    # each statement on its own, with no BEGIN and COMMIT to wait for.
    first, second = await _two_transaction_ids(db.session)
    assert first == second
    first, second = await _two_transaction_ids(db.read)
    assert first != second


@contextlib.contextmanager
def _calls_into_sqlite(db) -> Iterator[list[str]]:
    """Every call the connection makes into SQLite while the block runs (a spy on aiosqlite's
    `_execute`, which each one goes through)."""
    calls: list[str] = []

    def spy(dbapi_connection, _record, _proxy) -> None:
        driver = dbapi_connection.driver_connection
        original = driver.__class__._execute.__get__(driver)

        async def counted(fn, *args, **kwargs):
            calls.append(getattr(fn, "__name__", "?"))
            return await original(fn, *args, **kwargs)

        driver._execute = counted

    def unspy(dbapi_connection, _record) -> None:
        dbapi_connection.driver_connection.__dict__.pop("_execute", None)

    sa.event.listen(db.engine.sync_engine, "checkout", spy)
    sa.event.listen(db.engine.sync_engine, "checkin", unspy)
    try:
        yield calls
    finally:
        sa.event.remove(db.engine.sync_engine, "checkout", spy)
        sa.event.remove(db.engine.sync_engine, "checkin", unspy)


async def test_sqlite_a_unit_of_work_sends_its_begin_with_its_first_statement(db):
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    with _calls_into_sqlite(db) as calls:
        async with db.session() as session:
            assert (await session.exec(select(Member))).all() == []
            assert (await session.exec(select(Member))).all() == []
    assert len(calls) == 3  # two statements (the first carries BEGIN IMMEDIATE), COMMIT
    with _calls_into_sqlite(db) as calls:
        async with db.session():
            pass  # a unit of work that ran nothing began nothing and has nothing to commit
    assert calls == []


async def test_sqlite_a_quick_read_holds_no_transaction(db):
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    path = make_url(db.url).database
    with _calls_into_sqlite(db) as calls:
        async with db.read() as session:
            assert (await session.exec(select(Member))).all() == []
            # No BEGIN was sent: another writer (another process, say) is not kept waiting.
            other = sqlite3.connect(path, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            finally:
                other.close()
    assert len(calls) == 1  # the statement alone: no BEGIN, no COMMIT


async def test_sqlite_a_unit_of_work_holds_the_write_lock_from_its_first_statement(db):
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    path = make_url(db.url).database
    async with db.session() as session:
        await session.exec(select(Member))  # a read first: the transaction is a writer anyway
        other = sqlite3.connect(path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


async def test_sqlite_a_failed_unit_of_work_leaves_nothing(db):
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            when = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
            session.add(ProcessedUpdate(update_id=1, received_at=when))
            await session.flush()
            raise RuntimeError("the handler failed after writing")
    async with db.session() as session:
        assert (await session.exec(select(ProcessedUpdate))).all() == []
    # And a unit of work whose BEGIN was still pending when it failed.
    with pytest.raises(RuntimeError):
        async with db.session():
            raise RuntimeError("failed before any statement")
    async with db.session() as session:
        assert (await session.exec(select(Member))).all() == []


async def _largest_pause(task_done: asyncio.Event) -> float:
    """The longest the event loop went without running this ticker (every 10 ms)."""
    loop = asyncio.get_running_loop()
    last, largest = loop.time(), 0.0
    while not task_done.is_set():
        await asyncio.sleep(0.01)
        now = loop.time()
        largest, last = max(largest, now - last), now
    return largest


async def test_sqlite_another_process_s_write_lock_is_waited_for_off_the_event_loop(db):
    if db.backend != "sqlite":
        pytest.skip("SQLite's locks only")
    path = make_url(db.url).database
    other = sqlite3.connect(path, isolation_level=None)  # a `treem` command, say
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, other.execute, "COMMIT")  # runs only if the loop is free meanwhile
    done = asyncio.Event()
    ticker = asyncio.create_task(_largest_pause(done))
    try:
        started = loop.time()
        async with db.read() as session:  # readers are never kept waiting (WAL)
            assert (await session.exec(select(ProcessedUpdate))).all() == []
        assert loop.time() - started < 0.4
        async with db.session() as session:
            session.add(ProcessedUpdate(update_id=7, received_at=dt.datetime.now(dt.UTC)))
        waited = loop.time() - started
    finally:
        done.set()
        pause = await ticker
        other.close()
    assert waited >= 0.45  # it waited for the other writer…
    assert pause < 0.25  # …without stopping the event loop
    async with db.session() as session:
        assert [row.update_id for row in (await session.exec(select(ProcessedUpdate))).all()] \
            == [7]


async def test_sqlite_a_write_lock_held_too_long_fails_as_before_and_the_bot_goes_on(
        db, monkeypatch):
    if db.backend != "sqlite":
        pytest.skip("SQLite's locks only")
    monkeypatch.setattr("storage.db.BUSY_TIMEOUT_MS", 300)
    path = make_url(db.url).database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            async with db.session() as session:
                session.add(ProcessedUpdate(update_id=8, received_at=dt.datetime.now(dt.UTC)))
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with db.session() as session:  # the connection is whole again, and quick
        session.add(ProcessedUpdate(update_id=9, received_at=dt.datetime.now(dt.UTC)))
    async with db.read() as session:
        assert [row.update_id for row in (await session.exec(select(ProcessedUpdate))).all()] \
            == [9]


async def test_sqlite_a_unit_of_work_cancelled_while_it_waits_for_the_lock(db):
    """A task cancelled while its BEGIN waits in the worker thread for another process's
    lock (a job stopped, the bot shutting down): SQLAlchemy then rolls back and closes the
    connection, and those calls must queue behind the worker's, not use the connection
    from the event loop while the worker still does (that crashed the process)."""
    if db.backend != "sqlite":
        pytest.skip("SQLite only")
    path = make_url(db.url).database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.6, other.execute, "COMMIT")

    async def unit_of_work() -> None:
        async with db.session() as session:
            session.add(ProcessedUpdate(update_id=10, received_at=dt.datetime.now(dt.UTC)))

    done = asyncio.Event()
    ticker = asyncio.create_task(_largest_pause(done))
    try:
        task = asyncio.create_task(unit_of_work())
        await asyncio.sleep(0.2)  # waiting in the worker thread by now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.6)  # the other process commits; the worker's call ends
    finally:
        done.set()
        pause = await ticker
        other.close()
    assert pause < 0.25
    async with db.session() as session:  # the database is whole and usable
        session.add(ProcessedUpdate(update_id=11, received_at=dt.datetime.now(dt.UTC)))
    async with db.read() as session:
        assert [row.update_id for row in (await session.exec(select(ProcessedUpdate))).all()] \
            == [11]
