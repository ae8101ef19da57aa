"""Faults at the edges: a database or a Telegram that cannot be reached, a port already taken,
a configuration that cannot work. Each ends in one clear line in Vietnamese and English, soon,
never in a traceback. The real `treem` command runs in a subprocess."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import pytest
from sqlalchemy.engine import make_url

from bot.fakeapi.server import SANDBOX_TOKEN
from tests.conftest import PG_URL
from tests.e2e.test_process import _env

TREEM = [sys.executable, "-m", "bot.cli"]
# Telegram and the database answer in milliseconds here, but the machine running the tests
# may be busy: time limits below leave room for Python starting slowly.
SECRET = "s3cret-webhook-token_0123456789"


async def treem(*args: str, cwd, **env: str) -> tuple[int, str, float]:
    """Runs `treem ARGS`; returns the exit status, stderr and how long it took."""
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *TREEM, *args, cwd=cwd, env=_env(**env), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, err.decode(), time.monotonic() - began


def _one_clear_line(stderr: str, vietnamese: str, english: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if vietnamese in line]
    assert len(lines) == 1, stderr
    assert english in lines[0] and " / " in lines[0], lines[0]
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word (a hung PostgreSQL)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


async def test_database_refusing_connections_at_start(tmp_path):
    url = f"postgresql+asyncpg://treem@127.0.0.1:{_closed_port()}/treem"
    status, err, took = await treem("run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
                                    DATABASE_URL=url)
    assert status == 1
    line = _one_clear_line(err, "Không kết nối được cơ sở dữ liệu",
                           "Cannot connect to the database")
    assert "127.0.0.1" in line


async def test_database_that_never_answers_gives_up_after_the_connect_timeout(tmp_path,
                                                                             silent_server):
    url = f"postgresql+asyncpg://treem:pw@127.0.0.1:{silent_server}/treem"
    status, err, took = await treem("check", cwd=tmp_path, DATABASE_URL=url,
                                    TREEM_DB_CONNECT_TIMEOUT="1")
    assert status == 1
    line = _one_clear_line(err, "không trả lời trong 1 giây", "did not answer within 1 seconds")
    assert "pw" not in line  # the password is never shown
    assert took < 25  # asyncpg alone would wait 60 s (plus the start of Python on a busy CI)


async def test_default_connect_timeout_is_ten_seconds(tmp_path, silent_server):
    url = f"postgresql+asyncpg://treem@127.0.0.1:{silent_server}/treem"
    status, err, took = await treem("check", cwd=tmp_path, DATABASE_URL=url)
    assert status == 1
    _one_clear_line(err, "không trả lời trong 10 giây", "did not answer within 10 seconds")
    assert 9 < took < 40  # not asyncpg's 60 s


@pytest.mark.parametrize("place", ["a file", "/proc"])
async def test_unwritable_sqlite_path(tmp_path, place):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "treem.db" if place == "a file" else "/proc/treem/treem.db"
    status, err, _took = await treem("check", cwd=tmp_path,
                                     DATABASE_URL=f"sqlite+aiosqlite:///{path}")
    assert status == 1
    line = _one_clear_line(err, "Không tạo hoặc ghi được tệp cơ sở dữ liệu SQLite",
                           "cannot be created or written")
    assert str(path) in line


@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs TEST_DATABASE_URL")
async def test_wrong_database_user_and_missing_database(tmp_path):
    url = make_url(PG_URL)
    for wrong, vietnamese in (
        (url.set(username="no_such_treem_user"), "từ chối tên người dùng hoặc mật khẩu"),
        (url.set(database="no_such_treem_database"), "không có cơ sở dữ liệu tên này"),
    ):
        status, err, _took = await treem(
            "check", cwd=tmp_path, DATABASE_URL=wrong.render_as_string(hide_password=False))
        assert status == 1
        _one_clear_line(err, vietnamese, "DATABASE_URL")


async def test_database_url_without_server_or_name_is_refused(tmp_path):
    for url in ("postgresql+asyncpg://", "postgresql+asyncpg://user@host",
                "postgresql+asyncpg:///treem"):
        status, err, _took = await treem("check", cwd=tmp_path, DATABASE_URL=url)
        assert status == 2
        assert "Cấu hình không hợp lệ" in err and "Traceback" not in err
        _one_clear_line(err, "DATABASE_URL: hãy ghi máy chủ và tên cơ sở dữ liệu",
                        "name the server and the database")


async def test_check_connects_to_a_good_database(tmp_path):
    status, _err, _took = await treem("check", cwd=tmp_path,
                                      DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db")
    assert status == 0


async def test_telegram_unreachable_at_start(tmp_path):
    status, err, took = await treem(
        "run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{_closed_port()}",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db")
    assert status == 1
    _one_clear_line(err, "Không kết nối được Telegram", "Cannot reach Telegram")


async def test_webhook_port_already_in_use(fake, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, err, _took = await treem(
            "run", cwd=tmp_path, TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake.url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db", TREEM_MODE="webhook",
            TREEM_WEBHOOK_URL="https://bot.example.vn/telegram", TREEM_WEBHOOK_SECRET=SECRET,
            TREEM_HTTP_PORT=str(port))
    assert status == 1
    line = _one_clear_line(err, "Không mở được cổng", "Cannot listen on")
    assert f"127.0.0.1:{port}" in line
    assert fake.webhook is None  # nothing was registered with Telegram
