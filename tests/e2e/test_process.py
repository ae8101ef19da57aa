"""The real `treem` command: polling until SIGTERM, then a clean stop; the sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.fakeapi import FakeUser
from bot.fakeapi.server import SANDBOX_TOKEN
from tests.conftest import ROOT

TREEM = [sys.executable, "-m", "bot.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TREEM_", "TELEGRAM_", "DATABASE_URL"))}
    env.update(extra)
    return env


async def test_run_polls_and_stops_cleanly_on_sigterm(fake, tmp_path):
    env = _env(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake.url,
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/treem.db", TREEM_LOG_LEVEL="INFO")
    process = await asyncio.create_subprocess_exec(
        *TREEM, "run", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        citizen = FakeUser(fake, 1001, "Lan")
        await citizen.start()
        menu = await citizen.reply(timeout=30)
        assert "Chào Lan" in menu.text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    log = output.decode()
    assert process.returncode == 0, log
    assert "stopping" in log
    assert SANDBOX_TOKEN not in log and "Lan" not in log  # no token, no personal data in logs


async def test_invalid_configuration_is_explained(tmp_path):
    env = _env(TELEGRAM_BOT_TOKEN="changeme", TREEM_ADMIN_IDS="abc")
    process = await asyncio.create_subprocess_exec(
        *TREEM, "check", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    text = err.decode()
    assert process.returncode == 2
    assert "Cấu hình không hợp lệ" in text
    assert "TELEGRAM_BOT_TOKEN" in text and "TREEM_ADMIN_IDS" in text


async def test_sandbox_shows_menus_to_each_person(tmp_path):
    script = "\n".join(["#2", ":as admin", "/start", "#5", "#1", ":as officer", "/start",
                        ":quit"]) + "\n"
    process = await asyncio.create_subprocess_exec(
        *TREEM, "sandbox", "--db", str(tmp_path / "sandbox.db"), cwd=ROOT, env=_env(),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(script.encode()), 90)
    text = output.decode()
    assert process.returncode == 0, text
    assert "Chào Lan! Mình là trợ lý bảo vệ trẻ em" in text  # the citizen's first screen
    assert "Tổng đài quốc gia bảo vệ trẻ em" in text  # after pressing [2]
    assert "Chào Mai! Bạn là quản trị viên của Xã Minh Tân" in text
    assert "https://t.me/treem_sandbox_bot?start=i_" in text  # an invitation was created
    assert "Chào Hùng! Bạn là cán bộ bảo vệ trẻ em của Xã Minh Tân" in text
    assert "fake Telegram refused" not in text


async def _start_bot_process(fake, tmp_path):  # noqa: ANN001, ANN202
    env = _env(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake.url,
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/treem.db")
    return await asyncio.create_subprocess_exec(
        *TREEM, "run", cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


async def test_kill_9_mid_report_loses_nothing(fake, tmp_path):
    """The citizen answers, the process is killed with SIGKILL, a new one starts: the
    citizen continues where they were and every earlier answer is still there."""
    import sqlite3

    from domain.setup_file import load_setup_file
    from services.setup import import_commune
    from tests.conftest import EXAMPLE_SETUP

    await import_commune(f"sqlite+aiosqlite:///{tmp_path}/treem.db", load_setup_file(EXAMPLE_SETUP))
    process = await _start_bot_process(fake, tmp_path)
    citizen = FakeUser(fake, 1001, "Lan")
    try:
        await citizen.send("/baotin")
        _intro, danger = await citizen.replies(2, timeout=30)
        await citizen.press(danger, "Không, nhưng")
        (what,) = await citizen.replies(1)
        await citizen.press(what, "Bị bỏ rơi")
        (where,) = await citizen.replies(1)
        await citizen.send("Cạnh chợ xã, nhà có mái tôn xanh")
        (age,) = await citizen.replies(1)
        assert "bao nhiêu tuổi" in age.text
    finally:
        process.kill()  # SIGKILL: no clean shutdown, no persistence flush
        await process.wait()

    process = await _start_bot_process(fake, tmp_path)
    try:
        citizen.mark()
        await citizen.send("/start")
        menu = (await citizen.replies(1, timeout=30))[-1]
        await citizen.settle(quiet=1.0)  # a repeated last update, if any, is answered too
        assert "Bạn có một tin báo chưa gửi" in menu.text
        citizen.mark()
        await citizen.press(menu, "Tiếp tục tin báo đang soạn")
        (offer,) = await citizen.replies(1)
        citizen.mark()
        await citizen.press(offer, "Tiếp tục")
        (age,) = await citizen.replies(1)
        assert "bao nhiêu tuổi" in age.text  # the same question, not the beginning
        for label in ("11–15 tuổi", "1 em", "Bỏ qua"):
            citizen.mark()
            await citizen.press(age, label)
            (age,) = await citizen.replies(1)
        citizen.mark()
        await citizen.send("Em bé thường ở nhà một mình cả ngày, không ai cho ăn.")
        (identity,) = await citizen.replies(1)
        citizen.mark()
        await citizen.press(identity, "Ẩn danh")
        (relation,) = await citizen.replies(1)
        citizen.mark()
        await citizen.press(relation, "Hàng xóm")
        (review,) = await citizen.replies(1)
        assert "Bị bỏ rơi" in review.text and "Cạnh chợ xã" in review.text
        citizen.mark()
        await citizen.press(review, "Gửi tin báo")
        (thanks,) = await citizen.replies(1)
        assert "Mã theo dõi" in thanks.text
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    with sqlite3.connect(tmp_path / "treem.db") as conn:
        rows = conn.execute("SELECT category, address FROM reports").fetchall()
    assert rows == [("neglect", "Cạnh chợ xã, nhà có mái tôn xanh")]
    assert fake.violations == []
