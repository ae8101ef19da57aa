"""The data key from the command line: keygen, check refusing a missing or wrong key with
one clear line, and a rotation the bot survives."""

from __future__ import annotations

import asyncio
import sys

from bot.fakeapi.server import SANDBOX_TOKEN
from domain.setup_file import load_setup_file
from storage import migrate
from storage.crypto import Keyring, parse_key
from storage.db import Database
from storage.setup_import import import_setup
from tests.conftest import EXAMPLE_SETUP, START, TEST_DATA_KEY
from tests.e2e.test_process import _env
from tests.storage.seed_private import SECRETS, seed_case

TREEM = [sys.executable, "-m", "bot.cli"]


async def treem(*args: str, cwd, **env) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *TREEM, *args, cwd=cwd, env=_env(**env), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


async def _seeded(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/treem.db"
    db = Database(url)
    await migrate.upgrade(db)
    async with db.session() as session:
        await import_setup(load_setup_file(EXAMPLE_SETUP), session=session, now=START)
        await seed_case(session, now=START)
    await db.dispose()
    return url


def _one_clear_line(stderr: str, words: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if words in line]
    assert len(lines) == 1 and " / " in lines[0], stderr
    return lines[0]


async def test_keygen_prints_a_new_usable_key_each_time(tmp_path):
    status, out, err = await treem("keygen", cwd=tmp_path)
    status2, out2, _err = await treem("keygen", cwd=tmp_path)
    assert status == status2 == 0
    assert len(parse_key(out.strip())) == 32 and out.strip() != out2.strip()
    assert "TREEM_DATA_KEY" in err


async def test_check_refuses_a_missing_or_wrong_key(tmp_path):
    url = await _seeded(tmp_path)
    real = {"TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN, "DATABASE_URL": url}
    status, _out, err = await treem("check", cwd=tmp_path, TREEM_DATA_KEY=None, **real)
    assert status == 1
    _one_clear_line(err, "TREEM_DATA_KEY")
    other = Keyring.from_text(TEST_DATA_KEY).current_id
    status, _out, err = await treem("check", cwd=tmp_path, TREEM_DATA_KEY=_new_key(), **real)
    assert status == 1
    assert other in _one_clear_line(err, "TREEM_DATA_KEY")
    status, _out, err = await treem("check", cwd=tmp_path, **real)
    assert status == 0, err


async def test_rotate_key_from_the_command_line(tmp_path):
    url = await _seeded(tmp_path)
    new = _new_key()
    status, out, err = await treem("rotate-key", "--batch", "3", cwd=tmp_path, DATABASE_URL=url,
                                   TREEM_DATA_KEY=new, TREEM_DATA_KEY_OLD=TEST_DATA_KEY)
    assert status == 0, err
    assert Keyring.from_text(new).current_id in out
    real = {"TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN, "DATABASE_URL": url}
    assert (await treem("check", cwd=tmp_path, TREEM_DATA_KEY=new, **real))[0] == 0
    assert (await treem("check", cwd=tmp_path, **real))[0] == 1  # the old key alone: refused
    db = Database(url)
    try:
        from storage.crypto import use_keyring
        from storage.models import Report

        previous = use_keyring(Keyring.from_text(new))
        async with db.session() as session:
            assert (await session.get(Report, 1)).story == SECRETS["story"]
        use_keyring(previous)
    finally:
        await db.dispose()


def _new_key() -> str:
    from storage.crypto import generate_key

    return generate_key()


async def test_retention_is_scheduled_and_runs_once_a_day_on_the_bot(bot):
    from bot.jobs import run_retention_jobs

    assert [job.name for job in bot.application.job_queue.get_jobs_by_name("retention")] == [
        "retention"]
    first = await run_retention_jobs(bot.runtime)
    assert first is not None and first.day == bot.clock.now().astimezone(bot.runtime.tz).date()
    assert await run_retention_jobs(bot.runtime) is None  # the day is taken
