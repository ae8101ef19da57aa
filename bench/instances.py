"""A broadcast sent by a province on several instances, and the active one killed mid-way.

Real `treem run` processes (webhook mode) share one PostgreSQL database; the fake
Telegram runs in its own process and enforces Telegram's limits, time-scaled (every
rate-limit window shortened TIME_SCALE times on both sides). A confirmed broadcast to
RECIPIENTS chats is queued; the active instance sends it; with `--kill` it is killed with
SIGKILL when 40% has arrived and a standby takes over. Prints the instances, recipients,
the share of the (scaled) limit used, 429 answers, duplicates, missing, uncertain rows,
and the failover time (kill → the next broadcast message arriving from the standby).

Pacing is each process's own rate limiter: only the active instance sends bulk rows, so
one limiter paces the broadcast; notices sent at the same moment by other instances are
not counted against it (a shared limiter is separate work).

    .venv/bin/python bench/instances.py [instances] [recipients] [time_scale] [--kill]
        (needs BENCH_DATABASE_URL or TEST_DATABASE_URL = postgresql+asyncpg://…)
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import multiprocessing
import os
import pathlib
import signal
import socket
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.fakeapi import FakeTelegram, Limits  # noqa: E402
from bot.fakeapi.server import SANDBOX_TOKEN  # noqa: E402
from domain.roles import Actor, Role  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from services import calendar as calendar_service  # noqa: E402
from services.setup import import_commune  # noqa: E402
from storage import units  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Subscription  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

FIRST_USER = 10_000_000
ADMIN = 900_000_000_001
TEXT = "Thông báo thử nghiệm nhiều máy"
SECRET = "bench-instances-secret_0123456789"


def run_fake(recipients: int, scale: float, conn) -> None:  # noqa: ANN001
    """The fake Telegram process: answers "count" with (total received, last arrival time)
    and "stop" with everything it saw."""

    async def serve() -> None:
        fake = FakeTelegram(token=SANDBOX_TOKEN, limits=Limits(time_scale=scale))
        await fake.start()
        for user_id in [ADMIN, *range(FIRST_USER, FIRST_USER + recipients)]:
            fake.add_user(user_id, "U")
            fake.chats[user_id].started = True
        arrivals: list[float] = []
        original = fake._record

        def record(chat, message, event) -> None:  # noqa: ANN001
            if event == "sent" and message.get("text") == TEXT:
                arrivals.append(time.time())
            original(chat, message, event)

        fake._record = record
        conn.send(fake.url)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "count":
                conn.send((len(arrivals), arrivals[-1] if arrivals else 0.0))
                continue
            received = collections.Counter(
                chat_id for chat_id, chat in fake.chats.items()
                for m in chat.messages.values() if m.get("text") == TEXT)
            admin_texts = [m.get("text") or "" for m in fake.chats[ADMIN].messages.values()]
            conn.send({"received": dict(received), "arrivals": arrivals,
                       "429": sum(1 for c in fake.calls if c.status == 429),
                       "violations": sum(1 for c in fake.violations if c.status != 429),
                       "admin": admin_texts})
            break
        await fake.stop()

    asyncio.run(serve())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _database(base: str) -> str:
    name = f"treem_bench_{uuid.uuid4().hex[:8]}"
    admin = Database(base, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def _drop(base: str, url: str) -> None:
    admin = Database(base, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                   "WITH (FORCE)"))
    await admin.dispose()


async def main(instances: int, recipients: int, scale: float, kill: bool) -> None:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        sys.exit("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL URL")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=run_fake, args=(recipients, scale, child))
    server.start()
    fake_url = parent.recv()

    def count() -> tuple[int, float]:
        parent.send("count")
        return parent.recv()

    url = await _database(base)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="treem-instances-"))
    processes = []
    try:
        await import_commune(url, load_setup_file(ROOT / "examples" / "minh-tan.toml"))
        for n in range(instances):  # started together; one becomes active
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("TREEM_", "TELEGRAM_", "DATABASE_URL"))}
            env.update(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake_url,
                       DATABASE_URL=url, TREEM_DATA_KEY=BENCH_DATA_KEY,
                       TREEM_MODE="webhook", TREEM_LOG_LEVEL="INFO",
                       TREEM_WEBHOOK_URL="https://bot.example.vn/telegram",
                       TREEM_WEBHOOK_SECRET=SECRET, TREEM_HTTP_PORT=str(_free_port()),
                       TREEM_RATE_LIMIT_TIME_SCALE=str(scale), TREEM_DIGEST_TIME="off",
                       TREEM_REMINDER_TIME="23:59")  # only the broadcast is measured
            log = open(workdir / f"i{n}.log", "wb")  # noqa: SIM115 - the child keeps it
            processes.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=workdir, env=env, stdout=log,
                stderr=asyncio.subprocess.STDOUT))
            log.close()

        def logs() -> list[str]:
            return [(workdir / f"i{n}.log").read_text(errors="replace")
                    for n in range(instances)]

        while not all("started (" in text for text in logs()):
            await asyncio.sleep(0.2)
        queued = await _queue_broadcast(url, recipients)
        started = time.time()
        failover = None
        if kill:
            while count()[0] < recipients * 0.4:
                await asyncio.sleep(0.02)
            active = next(n for n, text in enumerate(logs()) if "scheduler: active" in text)
            processes[active].send_signal(signal.SIGKILL)
            killed_at = time.time()
            await processes[active].wait()
            at_kill = count()[0]
            while count()[0] <= at_kill:
                await asyncio.sleep(0.02)
            failover = count()[1] - killed_at
        while count()[0] < recipients and time.time() - started < 600:
            await asyncio.sleep(0.5)
            done = await _statuses(url)
            if not done.get("pending") and not done.get("sending"):
                break
        elapsed = (count()[1] or time.time()) - started
        await asyncio.sleep(2 + 5)  # the summary (the next sweep) reaches the administrator
        statuses = await _statuses(url)
        uncertain_chats = await _uncertain_chats(url)
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
        parent.send("stop")
        report = parent.recv()
        server.join()
        await _drop(base, url)

    received = report["received"]
    limit = 30 * scale
    arrivals = report["arrivals"]
    rate = len(arrivals) / elapsed if elapsed else 0.0
    print(f"instances             {instances}")
    print(f"recipients            {queued}")
    print(f"time scale            {scale:g}x (Telegram's 30/s becomes {limit:g}/s)")
    print(f"elapsed               {elapsed:.2f} s")
    print(f"share of the limit    {rate / limit:.3f} ({rate:.1f} messages/s, failover pause "
          "included)" if kill else f"share of the limit    {rate / limit:.3f} ({rate:.1f}/s)")
    if arrivals:
        first = arrivals[0] - started
        gaps = sorted((b - a for a, b in itertools.pairwise(arrivals)),
                      reverse=True)
        steady = arrivals[-1] - arrivals[0] - (gaps[0] if kill and gaps else 0.0)
        window = 1.0 / scale
        busiest, lo = 0, 0
        for hi, t in enumerate(arrivals):
            while arrivals[lo] <= t - window:
                lo += 1
            busiest = max(busiest, hi - lo + 1)
        print(f"first message after   {first:.2f} s (queued in the database → first arrival)")
        print(f"steady pace           {(len(arrivals) - 1) / steady / limit:.3f} of the limit "
              f"({(len(arrivals) - 1) / steady:.1f}/s, first → last arrival"
              + (", failover gap left out)" if kill else ")"))
        print(f"busiest window        {busiest} broadcast messages in {window:g} s")
    print(f"429 answers           {report['429']}")
    print(f"duplicates            {sum(1 for n in received.values() if n > 1)}")
    missing = {FIRST_USER + n for n in range(recipients)} - set(received)
    # A row left "uncertain" by the kill (its request was in flight) is never sent again:
    # Telegram has no idempotency key, so a second copy could be a duplicate. The summary
    # counts it; only a missing chat that no row accounts for would be a loss.
    print(f"missing               {len(missing)} ({len(missing & uncertain_chats)} of them "
          f"uncertain rows, {len(missing - uncertain_chats)} unaccounted for)")
    print(f"uncertain             {statuses.get('uncertain', 0)}")
    print(f"rows by status        {dict(sorted(statuses.items()))}")
    print("failover seconds      " + (f"{failover:.2f}" if failover is not None else "—"))
    print("summary to the admin  " + ("yes" if any("thành công" in t for t in report["admin"])
                                      else "no"))
    print(f"refused calls         {report['violations']} (other than 429)")


async def _queue_broadcast(url: str, recipients: int) -> int:
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    async with db.session() as session:
        commune_id = (await session.exec(sa.text(
            "SELECT id FROM units WHERE kind = 'commune' ORDER BY id LIMIT 1"))).one()[0]
        session.add_all([Subscription(chat_id=FIRST_USER + i, commune_id=commune_id,
                                      kind="person", role="officer", created_by=0,
                                      created_at=now) for i in range(recipients)])
    async with db.session() as session:
        scope = await units.get_unit_scope(commune_id, session=session)
        admin = Actor(user_id=ADMIN, role=Role.ADMIN, scope=scope)
        draft = await calendar_service.start_broadcast(admin, session=session, now=now)
        await calendar_service.set_broadcast_text(draft, TEXT, session=session)
    async with db.session() as session:
        _b, count = await calendar_service.confirm_broadcast(
            admin, draft.id, "all", session=session, now=now, progress_chat_id=ADMIN)
    await db.dispose()
    return count


async def _rows(url: str, sql: str) -> list[tuple]:
    db = Database(url)
    async with db.session() as session:
        rows = (await session.exec(sa.text(sql))).all()
    await db.dispose()
    return [tuple(row) for row in rows]


async def _statuses(url: str) -> dict[str, int]:
    return dict(await _rows(url, "SELECT status, count(*) FROM deliveries "
                                 "WHERE kind = 'broadcast' GROUP BY status"))


async def _uncertain_chats(url: str) -> set[int]:
    return {chat for (chat,) in await _rows(url, "SELECT chat_id FROM deliveries WHERE kind = "
                                                 "'broadcast' AND status = 'uncertain'")}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(main(int(args[0]) if args else 3, int(args[1]) if len(args) > 1 else 2000,
                     float(args[2]) if len(args) > 2 else 5.0, "--kill" in sys.argv))
