"""Alembic, driven from code: `treem db upgrade` and the start-up upgrade call this."""

from __future__ import annotations

import pathlib
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

MIGRATIONS_DIR = pathlib.Path(__file__).with_name("migrations")


def compare_type(context, inspected_column, metadata_column,  # noqa: ANN001
                 inspected_type, metadata_type) -> bool | None:  # noqa: ANN001
    """Alembic's type comparison, except for encrypted columns on SQLite: they keep their
    declared type there (any text fits any SQLite column; see migration 0012)."""
    from storage.crypto import ENCRYPTED_TYPES

    if context.dialect.name == "sqlite" and isinstance(metadata_type, ENCRYPTED_TYPES):
        return False
    return None  # the default comparison


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be doubled for configparser; URLs may contain escaped characters.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _run(connection, cfg: Config, fn, *args: Any, **kwargs: Any) -> None:  # noqa: ANN001
    cfg.attributes["connection"] = connection
    fn(cfg, *args, **kwargs)


async def _with_connection(db: Database, fn, *args: Any, **kwargs: Any) -> None:  # noqa: ANN001
    cfg = alembic_config(db.url)
    async with db.engine.connect() as conn:
        conn: AsyncConnection
        await conn.run_sync(_run, cfg, fn, *args, **kwargs)
        await conn.commit()


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe to call from several instances at once
    on PostgreSQL (env.py takes an advisory lock)."""
    await _with_connection(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    await _with_connection(db, command.downgrade, revision)


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _read(sync_conn) -> str | None:  # noqa: ANN001
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_read)


async def autogenerate(db: Database, message: str) -> None:
    """Developer helper: write a new revision from the models' difference."""
    await _with_connection(db, command.revision, message=message, autogenerate=True)
