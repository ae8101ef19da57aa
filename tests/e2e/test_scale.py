"""A province on several instances: one person flooding the bot slows nobody else down and
loses nothing; two instances of one token share Telegram's limits through Redis; one
chat's updates keep their order when they land on different instances."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import threading
import time

import aiohttp
import pytest
from sqlmodel import select

from bot.app import build_application, start_application, stop_application
from bot.fakeapi.driver import FakeUser
from bot.fakeapi.server import FakeTelegram, Limits
from bot.runtime import Runtime
from bot.webhook import WebhookServer
from storage.models import ReportDraft
from tests.conftest import make_settings, worker_id
from tests.e2e.flows import Reporter, shortest_report

# One Redis database per xdist worker: each test starts with FLUSHDB, which must not wipe
# the queues and leases of a test running at the same time in another worker.
_WORKER = worker_id().removeprefix("gw")
REDIS_URL = f"redis://127.0.0.1:6379/{15 - (int(_WORKER) % 12 if _WORKER.isdigit() else 0)}"
FLOOD_NOTICE = "Bạn gửi nhanh quá"


async def _redis_or_skip() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.flushdb()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis at 127.0.0.1:6379")
    finally:
        await client.aclose()


async def _adding_to_a_report(reporter: Reporter) -> None:
    """A report sent, then "add information": every message is appended to the addition."""
    thanks = await shortest_report(reporter)
    (ask,) = await reporter.tap(thanks, "Bổ sung thông tin")
    assert "thông tin bổ sung" in ask.text.lower()


@pytest.mark.time_scale(1)  # Telegram's real windows: one message a second per private chat
async def test_a_flooding_person_slows_nobody_down_and_loses_nothing(bot):
    flooder, bystander = bot.user(5001, "Tèo"), bot.user(5002, "Lan")
    await _adding_to_a_report(Reporter(flooder))
    flooder.mark()
    parts = [f"phần {i:03d}" for i in range(300)]

    async def flood() -> None:  # 300 messages in 10 seconds
        for part in parts:
            await flooder.send(part)
            await asyncio.sleep(10 / len(parts))

    latencies: list[float] = []

    async def bystander_starts(until: asyncio.Task) -> None:
        while not until.done() or len(latencies) < 12:
            bystander.mark()
            started = time.monotonic()
            await bystander.start()
            await bystander.reply(timeout=30)
            latencies.append(time.monotonic() - started)
            await bystander.settle(quiet=0.2)
            await asyncio.sleep(0.5)

    flooding = asyncio.create_task(flood())
    await asyncio.gather(flooding, bystander_starts(flooding))
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"bystander /start during the flood: p95 {p95:.2f} s, max {max(latencies):.2f} s, "
          f"{len(latencies)} samples")
    assert p95 < 2.0, (p95, latencies)

    # Every part of the addition is kept, in order (the bot may still be working through
    # the flood: no reply tells when, they are coalesced).
    deadline = time.monotonic() + 60
    while True:
        async with bot.db.session() as session:
            draft = (await session.exec(select(ReportDraft).where(
                ReportDraft.user_id == flooder.id))).one()
        story = draft.answers.get("story", "").splitlines()
        if len(story) >= len(parts) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert story == parts
    # The flooder was told once and gets the last answer when the flood is over.
    received = await flooder.settle(quiet=4.0, timeout=60)
    notices = [m for m in received if FLOOD_NOTICE in m.text]
    assert len(notices) == 1, [m.text[:40] for m in received]
    assert len(received) < 20  # coalesced: not one answer per message
    assert "Gửi bổ sung" in str(received[-1].buttons)  # the answer to the last part
    # Telegram's limits held throughout (the fixture also fails on any 429).
    assert bot.fake.violations == []


async def _start_instance(fake, db, clock, **overrides):
    runtime = Runtime(settings=make_settings(fake, db, **overrides), db=db, clock=clock)
    application = build_application(runtime, with_updater=False)
    await start_application(application, runtime, polling=False)
    application.job_queue.scheduler.pause()
    return runtime, application


@contextlib.contextmanager
def _telegram_of_its_own(limits: Limits):
    """A fake Telegram on its own thread and event loop. Telegram stamps a request when it
    arrives; a fake sharing the event loop of two busy bots stamps it when the loop gets round
    to it, and on a loaded machine requests sent evenly were counted as bunched."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-telegram", daemon=True)
    thread.start()

    async def start() -> FakeTelegram:
        server = FakeTelegram(limits=limits)
        await server.start()
        return server

    fake = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _send_from_both(db, clock, *, redis_url: str | None, count: int):
    """Two instances of one token each send `count` messages to different people at once.
    Returns the seconds it took and what Telegram refused with 429 (real seconds: the limit
    itself is tested)."""
    overrides = {"REDIS_URL": redis_url} if redis_url else {}
    overrides["TREEM_RATE_LIMIT_TIME_SCALE"] = "1"
    with _telegram_of_its_own(Limits(time_scale=1)) as fake:
        people = []
        for i in range(2 * count):
            fake.add_user(7000 + i, f"Người {i}")
            fake.chats[7000 + i].started = True
            people.append(7000 + i)
        instances = [await _start_instance(fake, db, clock, **overrides) for _ in range(2)]
        try:
            _heap_of_a_bot_process()
            fake.violations.clear()
            started = time.monotonic()
            await asyncio.gather(*[
                application.bot.send_message(person, "Thông báo thử")
                for n, (_runtime, application) in enumerate(instances)
                for person in people[n * count:(n + 1) * count]])
            return time.monotonic() - started, [c for c in fake.violations if c.status == 429]
        finally:
            for _runtime, application in instances:
                await stop_application(application)


def _heap_of_a_bot_process() -> None:
    """The two bots share this test process, whose heap holds the whole test suite: a full
    garbage collection of it paused both bots 170-280 ms (measured), long enough for the
    requests admitted before it to arrive together with those admitted after it. A bot in
    its own process has a small heap. The objects already here are frozen (the collector
    then scans only what the bots make), as in a process of their own. They stay frozen,
    as what collection made is (tests/conftest.py): unfreezing would hand the whole heap
    back to every later full collection of this worker."""
    gc.collect()
    gc.freeze()


async def test_two_instances_share_the_limit_of_their_token(db, clock, commune):
    await _redis_or_skip()
    # 2 × 45 messages: alone each instance would send at 28/s, together 56/s. Shared
    # through Redis they keep to 28/s between them, and Telegram never answers 429.
    elapsed, refused = await _send_from_both(db, clock, redis_url=REDIS_URL, count=45)
    assert refused == []
    assert elapsed >= 89 / 28 * 0.95


async def test_each_instance_paces_alone_when_redis_is_down(db, clock, commune):
    # Nothing listens on port 1: every instance falls back to its own pacing, and sends.
    elapsed, refused = await _send_from_both(db, clock, redis_url="redis://127.0.0.1:1/0",
                                             count=10)
    assert elapsed < 5
    assert refused == []


async def test_one_chat_in_order_across_two_instances(fake, db, clock, commune):
    await _redis_or_skip()
    secret = "s" * 32
    overrides = {"REDIS_URL": REDIS_URL, "TREEM_MODE": "webhook",
                     "TREEM_WEBHOOK_URL": "https://bot.example/telegram",
                     "TREEM_WEBHOOK_SECRET": secret, "TREEM_RATE_LIMIT_TIME_SCALE": "4"}
    fake.limits.time_scale = 4
    servers, instances = [], []
    for _ in range(2):
        runtime, application = await _start_instance(fake, db, clock, **overrides)
        server = WebhookServer(application, runtime, secret=secret, host="127.0.0.1", port=0)
        await server.start()
        servers.append(server)
        instances.append((runtime, application))
    async def balance(http: aiohttp.ClientSession) -> None:
        """Telegram sends the updates one after another; a load balancer in front of the
        two instances alternates between them."""
        turn = 0
        while True:
            if not fake.updates:
                await asyncio.sleep(0.002)
                continue
            update = fake.updates.pop(0)
            server = servers[turn % 2]
            turn += 1
            async with http.post(f"http://127.0.0.1:{server.port}/telegram", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                assert response.status == 200

    http = aiohttp.ClientSession()
    balancer = asyncio.create_task(balance(http))
    try:
        person = FakeUser(fake, 5101, "Hoa")
        reporter = Reporter(person)
        await _adding_to_a_report(reporter)
        parts = [f"đoạn {i:02d}" for i in range(30)]
        for part in parts:  # as fast as Telegram would send them, alternating instances
            await person.send(part)

        async def story() -> list[str]:
            async with instances[0][0].db.session() as session:
                draft = (await session.exec(select(ReportDraft).where(
                    ReportDraft.user_id == person.id))).one()
            return draft.answers.get("story", "").splitlines()

        # Until every part is in (a quiet spell is no proof on a loaded machine), then the
        # order: each part saved once, in the order it was sent.
        for _ in range(600):  # at most 30 s, as the quiet-spell wait was
            if len(await story()) >= len(parts):
                break
            await asyncio.sleep(0.05)
        assert await story() == parts
    finally:
        balancer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await balancer
        await http.close()
        for server in servers:
            await server.stop()
        for _runtime, application in instances:
            with contextlib.suppress(Exception):
                await stop_application(application)
