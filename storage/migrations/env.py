"""Alembic environment. Runs on a connection handed in by storage.migrate."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables on SQLModel.metadata
from storage.migrate import compare_type

# Any constant shared by every instance: serialises concurrent upgrades on PostgreSQL.
_PG_LOCK_KEY = 7_361_280_514

target_metadata = SQLModel.metadata


def _configure_and_run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=compare_type,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `treem db upgrade` (storage.migrate)")
_configure_and_run(connection)
