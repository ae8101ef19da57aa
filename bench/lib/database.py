"""The database a benchmark measures: SQLite in a file, or PostgreSQL in a private schema
that is dropped afterwards (so a benchmark never touches the tables of the tests or a real
installation on the same server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage import migrate
from storage.db import Database


async def run_sql(url: str, sql: str) -> None:
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(sql)
    await admin.dispose()


@asynccontextmanager
async def bench_database(url: str) -> AsyncIterator[Database]:
    """A migrated database at `url`; for PostgreSQL, in a schema of its own."""
    if not url.startswith("postgresql"):
        db = Database(url)
        try:
            await migrate.upgrade(db)
            yield db
        finally:
            await db.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    await run_sql(url, f'CREATE SCHEMA "{schema}"')
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await migrate.upgrade(db)
        yield db
    finally:
        await db.dispose()
        await run_sql(url, f'DROP SCHEMA "{schema}" CASCADE')
