"""Sending slots: a burst, then evenly spaced; shared through Redis by several limiters;
the process' own slots when Redis does not answer; a flooding chat is told once."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from bot.flood import FloodGuard
from bot.ratelimit import (
    SENT_PER_WINDOW,
    FailSafeSlots,
    LocalSlots,
    Pace,
    RedisSlots,
    TelegramRateLimiter,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_private_chat_gets_a_burst_of_three_then_one_a_second():
    clock = Clock()
    slots = LocalSlots(clock)
    waits = [await slots.reserve("chat:1", Pace(1.0, burst=3)) for _ in range(6)]
    assert waits == [0, 0, 0, 1.0, 2.0, 3.0]
    assert await slots.reserve("chat:2", Pace(1.0, burst=3)) == 0  # other chats unaffected
    clock.now += 10  # idle: the burst is back
    assert [await slots.reserve("chat:1", Pace(1.0, burst=3)) for _ in range(3)] == [0, 0, 0]


async def test_a_429_holds_off_only_its_chat():
    clock = Clock()
    slots = LocalSlots(clock)
    await slots.hold_off("chat:1", Pace(1.0, burst=3), 7.0)
    assert await slots.reserve("chat:1", Pace(1.0, burst=3)) == 7.0
    assert await slots.reserve("chat:2", Pace(1.0, burst=3)) == 0


async def test_the_gate_counts_sends_in_the_last_window():
    """However the slots were spaced, at most `limit` requests pass in any window."""
    clock = Clock()
    slots = LocalSlots(clock)
    assert [await slots.admit("sent", 3, 1.0) for _ in range(3)] == [0, 0, 0]
    clock.now += 0.4
    assert await slots.admit("sent", 3, 1.0) == pytest.approx(0.6)  # until the first leaves
    clock.now += 0.6
    assert await slots.admit("sent", 3, 1.0) == 0


class _GateRecorder(LocalSlots):
    """The process' slots, noting the moment of every admission the gate grants."""

    def __init__(self) -> None:
        super().__init__()
        self.admitted: list[float] = []

    async def admit(self, key: str, limit: int, window: float) -> float:
        wait = await super().admit(key, limit, window)
        if wait == 0:
            self.admitted.append(self._sent[key][-1])
        return wait


def _busiest_second(stamps: list[float]) -> int:
    return max(sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps)


async def test_a_stalled_event_loop_does_not_bunch_requests():
    """Overdue slots fire together after a stall; the gate lets through only what the last
    second allows, and asks again when its own answer came back late.

    Both what the gate admitted and the requests as sent stay within SENT_PER_WINDOW in any
    second. Without the gate the stall put 39 requests in one second."""
    gate = _GateRecorder()
    limiter = TelegramRateLimiter(time_scale=1, slots=gate)
    sent: list[float] = []

    async def send() -> bool:
        sent.append(time.monotonic())
        return True

    async def one(chat_id: int) -> None:
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    tasks = [asyncio.create_task(one(9000 + i)) for i in range(60)]
    await asyncio.sleep(0.3)
    time.sleep(0.4)  # noqa: ASYNC251 - the event loop stalls: ~14 slots fall due meanwhile
    await asyncio.gather(*tasks)
    assert len(sent) == 60 and len(gate.admitted) >= 60  # every request passed the gate
    assert _busiest_second(gate.admitted) <= SENT_PER_WINDOW
    assert _busiest_second(sent) <= SENT_PER_WINDOW


async def test_a_late_arrival_does_not_make_a_29th():
    """Telegram counts a request when it arrives, a moment after the gate stamped its
    admission: the way through PTB, httpx and the network takes longer for one request than
    for another. When the first request of a second arrives 5 ms after its admission and
    the 29th at once, the arrivals sit closer together than the admissions: with a window of
    exactly one second, 29 arrived in one second. The gate's guard (10 ms at this scale)
    keeps the arrivals within SENT_PER_WINDOW in any second."""
    gate = _GateRecorder()
    limiter = TelegramRateLimiter(time_scale=1, slots=gate)
    arrived: list[float] = []

    async def send() -> bool:
        # The first 28 take 5 ms to arrive, the next 28 none.
        arrived.append(time.monotonic() + (0.005 if len(arrived) < SENT_PER_WINDOW else 0))
        return True

    async def one(chat_id: int) -> None:
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    await asyncio.gather(*[one(9100 + i) for i in range(2 * SENT_PER_WINDOW)])
    assert len(arrived) == 2 * SENT_PER_WINDOW
    assert _busiest_second(gate.admitted) <= SENT_PER_WINDOW
    assert _busiest_second(sorted(arrived)) <= SENT_PER_WINDOW


async def _redis_client():
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:  # noqa: BLE001
        await client.aclose()
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client


async def test_two_instances_share_their_slots_through_redis():
    client = await _redis_client()
    namespace = f"test:{uuid.uuid4().hex}:"
    first, second = RedisSlots(client, namespace), RedisSlots(client, namespace)
    pace = Pace(0.5, burst=2)
    waits = [await (first if i % 2 else second).reserve("chat:9", pace) for i in range(6)]
    await client.aclose()
    # Two at once, then one every half second, whichever instance asks.
    assert waits[:2] == [0, 0]
    for i, wait in enumerate(waits[2:], start=1):
        assert wait == pytest.approx(0.5 * i, abs=0.05)


async def test_the_gate_is_shared_through_redis():
    client = await _redis_client()
    namespace = f"test:{uuid.uuid4().hex}:"
    first, second = RedisSlots(client, namespace), RedisSlots(client, namespace)
    waits = [await (first if i % 2 else second).admit("sent", 4, 1.0) for i in range(6)]
    await client.aclose()
    assert waits[:4] == [0, 0, 0, 0] and all(0.9 < w <= 1.0 for w in waits[4:]), waits


async def test_redis_down_means_local_pacing_and_a_warning(caplog):
    import redis.asyncio as redis

    client = redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    clock = Clock()
    slots = FailSafeSlots(RedisSlots(client, "test:"), LocalSlots(clock), clock=clock)
    with caplog.at_level(logging.WARNING, logger="bot.ratelimit"):
        waits = [await slots.reserve("chat:1", Pace(1.0, burst=3)) for _ in range(4)]
    await client.aclose()
    assert waits == [0, 0, 0, 1.0]
    assert not slots.using_shared
    assert sum("Redis unreachable" in r.message for r in caplog.records) == 1  # once, not per call
    clock.now += FailSafeSlots.RETRY_AFTER
    assert slots.using_shared  # asks Redis again later


def test_a_flood_is_noticed_once_and_ends_when_the_chat_calms_down():
    clock = Clock()
    guard = FloodGuard(burst=3, window=2.0, calm=1.0, clock=clock)
    told = []
    guard.on_flood = told.append
    quiet = []
    for _ in range(8):
        quiet.append(guard.arrived(42))
        clock.now += 0.1
    assert quiet == [False, False, False, True, True, True, True, True]
    assert told == [42]
    assert not guard.arrived(7)  # another chat is not part of it
    clock.now += 5
    assert not guard.is_flooding(42)
    assert not guard.arrived(42)
