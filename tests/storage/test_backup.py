"""Backups: `treem backup` / `treem restore` for SQLite (the online backup API, so a running
bot's last writes are in the copy), and the README's pg_dump / pg_restore commands for
PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.cli import main
from storage import migrate
from storage.db import Database
from storage.migrate import alembic_config
from tests.conftest import EXAMPLE_SETUP, PG_URL, without_bot_settings

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.fixture
def treem(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    without_bot_settings(monkeypatch)

    def run(*args: str, database: str) -> tuple[int, str]:
        monkeypatch.setenv("DATABASE_URL", database)
        try:
            status = main([str(a) for a in args])
        except SystemExit as exc:
            status = exc.code
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    return run


def _communes(path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute(
            "SELECT name FROM units WHERE kind = 'commune'")]


def test_backup_while_the_bot_writes_then_restore_elsewhere(treem, tmp_path):
    live = tmp_path / "data" / "treem.db"
    live_url = f"sqlite+aiosqlite:///{live}"
    assert treem("setup", "import", EXAMPLE_SETUP, database=live_url)[0] == 0
    # A running bot: a connection in WAL mode whose last write is not yet in the main file.
    bot = sqlite3.connect(live)
    bot.execute("PRAGMA journal_mode=WAL")
    bot.execute("PRAGMA wal_autocheckpoint=0")
    bot.execute("UPDATE units SET name = 'Xã Minh Tân (mới)' WHERE kind = 'commune'")
    bot.commit()
    try:
        status, output = treem("backup", tmp_path / "backup.db", database=live_url)
        assert status == 0 and "Đã sao lưu" in output, output
        # The same name again is refused unless --force.
        status, output = treem("backup", tmp_path / "backup.db", database=live_url)
        assert status == 2 and "đã tồn tại" in output and "--force" in output
        assert treem("backup", tmp_path / "backup.db", "--force", database=live_url)[0] == 0
    finally:
        bot.close()

    restored = tmp_path / "restored" / "treem.db"
    restored.parent.mkdir()
    status, output = treem("restore", tmp_path / "backup.db",
                           database=f"sqlite+aiosqlite:///{restored}")
    assert status == 0 and "Đã khôi phục" in output and HEAD in output, output
    assert _communes(restored) == ["Xã Minh Tân (mới)"]  # the write in the WAL is there
    # Restoring over a database with data needs --force.
    status, output = treem("restore", tmp_path / "backup.db", database=live_url)
    assert status == 2 and "đã có dữ liệu" in output and "--force" in output
    assert treem("restore", tmp_path / "backup.db", "--force", database=live_url)[0] == 0


def test_restore_migrates_an_older_backup(treem, tmp_path):
    old = tmp_path / "old.db"

    async def migrate_to_0003() -> None:
        database = Database(f"sqlite+aiosqlite:///{old}")
        await migrate.upgrade(database, "0003")
        await database.dispose()

    asyncio.run(migrate_to_0003())
    target = tmp_path / "treem.db"
    status, output = treem("restore", old, database=f"sqlite+aiosqlite:///{target}")
    assert status == 0 and HEAD in output, output


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: None, "không tồn tại"),
        (lambda p: p.write_bytes(b"not a database at all" * 100),
         "không phải cơ sở dữ liệu SQLite"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE x (a)").connection.commit(),
         "không phải cơ sở dữ liệu của treem-bot"),
    ],
    ids=["missing", "not sqlite", "not treem"],
)
def test_restore_refuses_what_is_not_a_backup(treem, tmp_path, make, says):
    candidate = tmp_path / "candidate.db"
    make(candidate)
    status, output = treem("restore", candidate,
                           database=f"sqlite+aiosqlite:///{tmp_path}/treem.db")
    assert status == 2 and says in output, output
    assert not (tmp_path / "treem.db").exists() or not _communes(tmp_path / "treem.db")


def test_backup_of_postgresql_points_to_pg_dump(treem, tmp_path):
    status, output = treem("backup", tmp_path / "b.db",
                           database="postgresql+asyncpg://treem@db.example/treem")
    assert status == 2 and "pg_dump" in output


@pytest.mark.skipif(not PG_URL.startswith("postgresql") or not shutil.which("pg_dump"),
                    reason="needs TEST_DATABASE_URL and pg_dump")
def test_the_readme_pg_dump_and_pg_restore_commands(treem, tmp_path):
    """The commands of README "Backup and restore", on two new databases."""
    base = make_url(PG_URL)
    names = [f"treem_backup_{uuid.uuid4().hex[:8]}", f"treem_restore_{uuid.uuid4().hex[:8]}"]
    plain = [base.set(drivername="postgresql", database=n).render_as_string(hide_password=False)
             for n in names]
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    for name in names:
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    try:
        source = base.set(database=names[0]).render_as_string(hide_password=False)
        assert treem("setup", "import", EXAMPLE_SETUP, database=source)[0] == 0
        dump = tmp_path / "treem.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", plain[0]], check=True)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                        f"--dbname={plain[1]}", str(dump)], check=True)
        target = base.set(database=names[1]).render_as_string(hide_password=False)
        status, output = treem("db", "upgrade", database=target)
        assert status == 0 and HEAD in output
        found = subprocess.run(["psql", plain[1], "-Atc",
                                "SELECT name FROM units WHERE kind = 'commune'"],
                               check=True, capture_output=True, text=True).stdout.split()
        assert " ".join(found) == "Xã Minh Tân"
    finally:
        for name in names:
            subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'],
                           check=False)
