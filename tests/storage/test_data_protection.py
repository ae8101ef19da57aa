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


def _mode(path) -> int:
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


def test_treem_check_warns_about_files_others_can_read(tmp_path):
    from bot.cli import privacy_warnings
    from bot.settings import load_settings

    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=x\n")
    env.chmod(0o644)
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    settings = load_settings(DATABASE_URL=f"sqlite+aiosqlite:///{folder}/treem.db")
    warnings = privacy_warnings(settings, env)
    assert len(warnings) == 2 and "chmod 600" in warnings[0] and "chmod 700" in warnings[1]
    env.chmod(0o600)
    folder.chmod(0o700)
    assert privacy_warnings(settings, env) == []
