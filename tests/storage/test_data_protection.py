"""The audit log is append-only in the database itself; the SQLite file and its folder are
private to the bot's user."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from storage import audit
from storage.db import Database


async def test_the_audit_log_refuses_updates_and_deletes(db, clock):
    async with db.session() as session:
        await audit.record(session=session, at=clock.now(), actor_user_id=1, action="case_viewed",
                           object_type="case", object_id=1)
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.session() as session:
                await session.exec(sa.text(statement))
    async with db.session() as session:
        await audit.record(session=session, at=clock.now(), actor_user_id=2, action="case_viewed",
                           object_type="case", object_id=1)
        rows = (await session.exec(sa.text("SELECT action FROM audit_log"))).all()
    assert [r[0] for r in rows] == ["case_viewed", "case_viewed"]


def _mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_is_private(tmp_path):
    path = tmp_path / "new" / "data" / "treem.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    async with database.session() as session:
        await session.exec(sa.text("CREATE TABLE t (x TEXT)"))
        await session.exec(sa.text("INSERT INTO t VALUES ('0912345678')"))
    await database.dispose()
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600
    for extra in (path.with_name("treem.db-wal"), path.with_name("treem.db-shm")):
        if extra.exists():
            assert _mode(extra) == 0o600, extra


async def test_an_existing_database_readable_by_others_is_made_private(tmp_path):
    path = tmp_path / "treem.db"
    path.touch()
    path.chmod(0o644)
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.dispose()
    assert _mode(path) == 0o600
