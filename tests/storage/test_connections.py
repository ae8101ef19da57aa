"""Pooled PostgreSQL connections the server closed are replaced before use, without the
round trips of a pre-ping (storage/db.py)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import select

from storage.models import Member


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
