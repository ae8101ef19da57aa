"""Broadcast throughput against the fake Telegram enforcing Telegram's limits.

The fake Telegram runs in its own process (as Telegram does), so the numbers measure
the bot, not the two sharing one interpreter.

5,000 subscribed chats, one broadcast, time-scaled (every rate-limit window shortened
TIME_SCALE times in both the bot's limiter and the fake server, so the run takes seconds,
not minutes). Prints messages/second as a fraction of the (scaled) 30/s limit, the 429s
the fake server answered, duplicates and missing recipients.

    .venv/bin/python bench/broadcast.py [recipients] [time_scale]
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, start_application, stop_application  # noqa: E402
from bot.fakeapi import FakeTelegram, Limits  # noqa: E402
from bot.fakeapi.server import SANDBOX_TOKEN  # noqa: E402
from bot.jobs import get_sender  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from domain.clock import SystemClock  # noqa: E402
from domain.roles import Actor, Role  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from services import calendar as calendar_service  # noqa: E402
from storage import migrate, units  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Subscription  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

FIRST_USER = 10_000_000
TEXT = "Thông báo thử nghiệm"


def run_fake(recipients: int, scale: float, conn) -> None:  # noqa: ANN001
    """The fake Telegram process: serve until told to stop, then report what arrived."""

    async def serve() -> None:
        fake = FakeTelegram(token=SANDBOX_TOKEN, limits=Limits(time_scale=scale))
        await fake.start()
        for i in range(recipients):
            fake.add_user(FIRST_USER + i, f"U{i}")
            fake.chats[FIRST_USER + i].started = True
        conn.send(fake.url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
        received = collections.Counter(
            chat_id for chat_id, chat in fake.chats.items()
            for m in chat.messages.values() if m.get("text") == TEXT)
        conn.send({"received": dict(received),
                   "429": sum(1 for c in fake.calls if c.status == 429),
                   "429_at": [i for i, c in enumerate(fake.calls) if c.status == 429],
                   "violations": len(fake.violations)})
        await fake.stop()

    asyncio.run(serve())


async def main(recipients: int, scale: float) -> None:
    tmp = tempfile.mkdtemp(prefix="treem-bench-")
    db = Database(os.environ.get("BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/bench.db"))
    await migrate.upgrade(db)
    clock = SystemClock()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=run_fake, args=(recipients, scale, child))
    server.start()
    fake_url = parent.recv()
    async with db.session() as session:
        summary = await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                                     session=session, now=clock.now())
        commune_id = summary.commune_id
        for i in range(recipients):
            session.add(Subscription(chat_id=FIRST_USER + i, commune_id=commune_id, kind="person",
                                     role="officer", created_by=0, created_at=clock.now()))
    async with db.session() as session:
        scope = await units.get_unit_scope(commune_id, session=session)
    admin = Actor(user_id=1, role=Role.ADMIN, scope=scope)
    async with db.session() as session:
        draft = await calendar_service.start_broadcast(admin, session=session, now=clock.now())
        await calendar_service.set_broadcast_text(draft, TEXT, session=session)
        broadcast_id = draft.id
    async with db.session() as session:
        _b, count = await calendar_service.confirm_broadcast(
            admin, broadcast_id, "all", session=session, now=clock.now(), progress_chat_id=1)
    settings = load_settings(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake_url,
                             DATABASE_URL=db.url, TREEM_MODE="polling", TREEM_ADMIN_IDS="",
                             TREEM_WEBHOOK_URL=None, TREEM_WEBHOOK_SECRET=None,
                             TREEM_DATA_KEY=BENCH_DATA_KEY,
                             TREEM_RATE_LIMIT_TIME_SCALE=str(scale))
    runtime = Runtime(settings=settings, db=db, clock=clock)
    application = build_application(runtime)
    await start_application(application, runtime, polling=False)
    application.job_queue.scheduler.pause()
    started = time.perf_counter()
    result = await get_sender(application).run()
    elapsed = time.perf_counter() - started
    await stop_application(application)
    await db.dispose()
    parent.send("stop")
    report = parent.recv()
    server.join()

    received = report["received"]
    duplicates = sum(1 for n in received.values() if n > 1)
    missing = recipients - len(received)
    too_many = report["429"]
    limit = 30 * scale
    rate = sum(received.values()) / elapsed
    print(f"recipients            {count}")
    print(f"time scale            {scale:g}x (Telegram's 30/s becomes {limit:g}/s)")
    print(f"elapsed               {elapsed:.2f} s")
    print(f"messages per second   {rate:.1f} = {rate / limit:.3f} of the limit (target ≥ 0.9)")
    print(f"429 answers           {too_many} (target 0) at calls {report['429_at'][:10]}")
    print(f"duplicates            {duplicates} (target 0)")
    print(f"missing               {missing} (target 0)")
    print(f"sender summary        sent={result.sent} failed={result.failed} "
          f"retried={result.retried} uncertain={result.uncertain}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    s = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    asyncio.run(main(n, s))
