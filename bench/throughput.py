"""Updates per second: this bot against a bare python-telegram-bot echo bot, alternated in one
run, against the fake Telegram in its own process (rate limits off: this measures the bot's
own cost per update, not Telegram's pacing).

A mixed workload of USERS people, each sending /start, a question typed as text, /help,
the emergency numbers and a tracking code lookup (all updates queued at once). A run ends
when the bot has sent nothing for a second; updates/s is counted up to its last message.
Also prints CPU time per update of the bot's process.

    .venv/bin/python bench/throughput.py [users] [rounds]
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/throughput.py
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, MessageHandler, filters  # noqa: E402

from bench.lib.database import bench_database  # noqa: E402
from bot.app import build_application, start_application, stop_application  # noqa: E402
from bot.fakeapi import FakeTelegram, Limits  # noqa: E402
from bot.fakeapi.driver import FakeUser  # noqa: E402
from bot.fakeapi.server import SANDBOX_TOKEN  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from domain.clock import SystemClock  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

FIRST_USER = 20_000_000
WARM_UP_QUIET, GIVE_UP_QUIET = 3.0, 30.0
WORKLOAD = ["/start", "Cho tôi hỏi số điện thoại của xã", "/help", "/sos", "/status ABCD-EFGH"]


def run_fake(users: int, conn) -> None:  # noqa: ANN001
    """The fake Telegram: on ("go", expected), queue every update at once and report when the
    bot has sent `expected` messages (the time of the last one). With `expected` None (a
    warm-up round) the round ends when the bot, having answered, has been quiet for 3 s: that
    round tells how many messages the workload makes. Ending a measured round on a quiet
    second instead cut rounds short whenever the machine paused the bot for a second."""

    async def serve() -> None:
        fake = FakeTelegram(token=SANDBOX_TOKEN, limits=Limits(enabled=False))
        await fake.start()
        people = [FakeUser(fake, FIRST_USER + i, f"U{i}") for i in range(users)]
        conn.send(fake.url)
        loop = asyncio.get_running_loop()
        while (order := await loop.run_in_executor(None, conn.recv)) != "stop":
            _, expected = order

            def sent() -> int:
                return sum(len(chat.events) for chat in fake.chats.values())

            before = sent()
            started = time.perf_counter()
            for text in WORKLOAD:
                for person in people:
                    await person.send(text)
            count, last_change = sent(), time.perf_counter()
            quiet = WARM_UP_QUIET if expected is None else GIVE_UP_QUIET
            while expected is None or count - before < expected:
                await asyncio.sleep(0.005)
                if (now := sent()) != count:
                    count, last_change = now, time.perf_counter()
                elif count > before and time.perf_counter() - last_change > quiet:
                    break
            conn.send({"updates": users * len(WORKLOAD), "messages": count - before,
                       "seconds": last_change - started})
        await fake.stop()

    asyncio.run(serve())


async def echo(update: Update, _context) -> None:  # noqa: ANN001
    await update.effective_message.reply_text(update.effective_message.text or "?")


async def run_echo(url: str, conn) -> dict:  # noqa: ANN001
    application = (Application.builder().token(SANDBOX_TOKEN).base_url(f"{url}/bot")
                   .base_file_url(f"{url}/file/bot").concurrent_updates(64)
                   .connection_pool_size(64).build())
    application.add_handler(MessageHandler(filters.ALL, echo))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=10)
    result = await _warm_up_and_measure(conn)
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    return result


async def run_treem(url: str, db: Database, conn) -> dict:  # noqa: ANN001
    settings = load_settings(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=url,
                             DATABASE_URL=db.url, TREEM_MODE="polling", TREEM_ADMIN_IDS="",
                             TREEM_WEBHOOK_URL=None, TREEM_WEBHOOK_SECRET=None,
                             TREEM_DATA_KEY=BENCH_DATA_KEY,
                             TREEM_RATE_LIMIT_TIME_SCALE="1000")
    runtime = Runtime(settings=settings, db=db, clock=SystemClock())
    application = build_application(runtime)
    # No flood guard here: the simulated people send faster than any person would.
    application.update_processor.flood = None
    application.bot.rate_limiter.flood = None
    await start_application(application, runtime, poll_interval=0.0)
    application.job_queue.scheduler.pause()
    result = await _warm_up_and_measure(conn)
    await stop_application(application)
    return result


async def _warm_up_and_measure(conn) -> dict:  # noqa: ANN001
    """A warm-up round (not counted: connections, caches, everyone's first /start) tells how
    many messages a round makes; the measured round ends when that many have been sent."""
    warm_up = await _measure(conn, None)
    measured = await _measure(conn, warm_up["messages"])
    if measured["messages"] < warm_up["messages"]:
        print(f"  (a round stopped short: {measured['messages']} of {warm_up['messages']} "
              "messages after 30 s of silence)")
    return measured


async def _measure(conn, expected: int | None) -> dict:  # noqa: ANN001
    cpu = time.process_time()
    conn.send(("go", expected))
    report = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    report["cpu"] = time.process_time() - cpu
    return report


async def main(users: int, rounds: int) -> None:
    tmp = tempfile.mkdtemp(prefix="treem-throughput-")
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/bench.db")
    async with bench_database(url) as db:
        await _compare(db, users, rounds)


async def _compare(db: Database, users: int, rounds: int) -> None:
    async with db.session() as session:
        await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                           session=session, now=SystemClock().now())
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=run_fake, args=(users, child))
    server.start()
    fake_url = parent.recv()
    results: dict[str, list[dict]] = {"echo": [], "treem": []}
    for _ in range(rounds):
        results["echo"].append(await run_echo(fake_url, parent))
        results["treem"].append(await run_treem(fake_url, db, parent))
    parent.send("stop")
    server.join()

    print(f"{users} users × {len(WORKLOAD)} updates, {rounds} rounds, {db.backend}")
    rates = {}
    for name, runs in results.items():
        per_second = [r["updates"] / r["seconds"] for r in runs]
        cpu = [r["cpu"] / r["updates"] * 1000 for r in runs]
        rates[name] = statistics.median(per_second)
        print(f"{name:<6} updates/s {' '.join(f'{x:7.1f}' for x in per_second)}  "
              f"(median {rates[name]:.1f}); CPU per update {statistics.median(cpu):.1f} ms; "
              f"messages sent {runs[-1]['messages']}")
    print(f"ratio  this bot / echo bot = {rates['treem'] / rates['echo']:.2f} (target ≥ 0.7)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200,
                     int(sys.argv[2]) if len(sys.argv) > 2 else 2))
