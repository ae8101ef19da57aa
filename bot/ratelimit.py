"""Pacing of everything the bot sends, shared by every instance of one bot token.

Telegram allows about 30 messages a second per bot, 20 a minute in one group and about one
a second in one private chat (short bursts tolerated). PTB's AIORateLimiter paces one
process only (two instances add up past the limit), does not pace private chats, and on
any 429 halts *every* request. This limiter instead:

- reserves a sending slot per key (generic cell rate algorithm: evenly spaced slots with a
  small burst) for the chat (private or group) and then for the whole bot;
- then, at the moment of sending, passes a gate that counts what the bot actually sent in
  the last second (a sliding window). Slots are evenly spaced, but a request goes out when
  its task wakes up: after the event loop stalled (a busy machine), every overdue slot
  fired together and one second held 31 requests although no second held more than 29
  slots. The gate counts sends, not slots, so a stall delays requests instead of bunching
  them. A request leaves a moment after its admission is stamped; a pause in that moment
  (a garbage collection, the OS giving the CPU to another process) once moved one request
  next to the next window's first and made 29 in a second. So the gate counts over a window
  a little longer than a second (GATE_GUARD), and an admission whose answer took longer
  than that guard is asked for again: a request leaves within the guard of its stamp, and
  no second holds more than SENT_PER_WINDOW. The way from here to Telegram (the network)
  is left to the headroom of 2 below Telegram's 30;
- keeps the slots in Redis when `REDIS_URL` is set, so all instances of the token share
  them; without Redis, or while Redis is unreachable (a warning is logged), in the process;
- on a 429 holds off only the chat that got it (every instance sees it through Redis),
  then retries; other chats go on;
- coalesces replies to a chat that floods the bot (see bot/flood.py): their updates are all
  handled, but only the last reply goes out once the flood is over.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.flood import QUIET_CHAT, FloodGuard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pace:
    """Evenly spaced slots `interval` seconds apart, `burst` of them at once when idle."""

    interval: float
    burst: int = 1

    def scaled(self, time_scale: float) -> Pace:
        return Pace(self.interval / time_scale, self.burst)


# Telegram: about 30 a second overall; 28 leaves room for jitter (at most 29 in a second).
OVERALL = Pace(1 / 28)
# At most this many requests of the bot pass the gate in any second (Telegram: 30).
SENT_PER_WINDOW = 28
WINDOW = 1.0
# The gate's window is this much longer (a share of the window, so scaled with it): the
# time a request may take from its admission to leaving (28 in 1.01 s: 27.7 a second; 2%
# cost a 2x-scaled broadcast 0.02 of its share of the limit, 0.89 against the 0.9 target).
GATE_GUARD = 0.01
GATE_ATTEMPTS = 3
# Telegram: 20 a minute in a group. Two at once, then one every 60/17 s: at most 19 a minute.
GROUP = Pace(60 / 17, burst=2)
# Telegram: about one a second in a private chat, short bursts tolerated: a reply of three
# messages goes out at once, a longer stream one a second.
PRIVATE = Pace(1.0, burst=3)


class SlotStore(Protocol):
    async def reserve(self, key: str, pace: Pace) -> float:
        """Take the next slot of `key`; returns how many seconds to wait for it."""

    async def hold_off(self, key: str, pace: Pace, seconds: float) -> None:
        """No slot of `key` before `seconds` from now (Telegram said retry_after)."""

    async def admit(self, key: str, limit: int, window: float) -> float:
        """Record a send now if fewer than `limit` passed in the last `window` seconds
        (returns 0); otherwise record nothing and return how long to wait before asking
        again."""


class LocalSlots:
    """Slots kept in this process (one instance, or Redis unreachable)."""

    MAX_KEYS = 20_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}  # theoretical arrival time of the next free slot
        self._sent: dict[str, collections.deque[float]] = {}  # the gate: recent sends

    async def reserve(self, key: str, pace: Pace) -> float:
        now = self._clock()
        tat = max(self._tat.get(key, now), now)
        start = max(now, tat - (pace.burst - 1) * pace.interval)
        self._tat[key] = tat + pace.interval
        if len(self._tat) > self.MAX_KEYS:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return start - now

    async def hold_off(self, key: str, pace: Pace, seconds: float) -> None:
        now = self._clock()
        earliest = now + seconds + (pace.burst - 1) * pace.interval
        self._tat[key] = max(self._tat.get(key, now), earliest)

    async def admit(self, key: str, limit: int, window: float) -> float:
        now = self._clock()
        sent = self._sent.setdefault(key, collections.deque())
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) >= limit:
            return max(sent[0] + window - now, 0.0005)
        sent.append(now)
        return 0.0


# The same algorithm in Redis, on Redis' clock (instances' clocks may differ). ARGV: interval
# and tolerance in ms, and a hold in ms (0: reserve a slot; more: hold the key off instead).
_SLOT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if hold > 0 then
  local earliest = now + hold + tolerance
  if earliest > tat then tat = earliest end
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
  return '0'
end
local start = tat - tolerance
if start < now then start = now end
tat = tat + interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
return tostring(start - now)
"""


# The gate in Redis: a sorted set of the sends of the last window (score: Redis time in ms).
# ARGV: limit, window in ms. Returns 0 (recorded) or the ms to wait before asking again.
_GATE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - window))
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 0.5 then wait = 0.5 end
  return tostring(wait)
end
local n = redis.call('INCR', KEYS[1] .. ':n')
redis.call('ZADD', KEYS[1], now, tostring(n))
redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000)
redis.call('PEXPIRE', KEYS[1] .. ':n', math.ceil(window) + 1000)
return '0'
"""


class RedisSlots:
    """Slots shared by every instance of the bot token (keys prefixed with the bot's id)."""

    def __init__(self, client: Any, namespace: str) -> None:
        self._client = client
        self._namespace = namespace
        self._script = client.register_script(_SLOT_SCRIPT)
        self._gate = client.register_script(_GATE_SCRIPT)

    async def _call(self, key: str, pace: Pace, hold: float) -> float:
        interval_ms = pace.interval * 1000
        result = await self._script(keys=[f"{self._namespace}{key}"], args=[
            f"{interval_ms:.3f}", f"{(pace.burst - 1) * interval_ms:.3f}", f"{hold * 1000:.3f}"])
        return float(result) / 1000

    async def reserve(self, key: str, pace: Pace) -> float:
        return await self._call(key, pace, 0.0)

    async def hold_off(self, key: str, pace: Pace, seconds: float) -> None:
        await self._call(key, pace, max(seconds, 0.001))

    async def admit(self, key: str, limit: int, window: float) -> float:
        result = await self._gate(keys=[f"{self._namespace}{key}"],
                                  args=[str(limit), f"{window * 1000:.3f}"])
        return float(result) / 1000


class FailSafeSlots:
    """Redis when it answers; the process' own slots (and a warning) while it does not, so a
    Redis outage slows nothing down and stops nothing. Redis is tried again after a while."""

    RETRY_AFTER = 30.0  # seconds on local slots before asking Redis again

    def __init__(self, shared: SlotStore, local: LocalSlots | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.shared = shared
        self.local = local or LocalSlots(clock)
        self._clock = clock
        self._down_until = 0.0

    @property
    def using_shared(self) -> bool:
        return self._clock() >= self._down_until

    async def _either(self, operation: str, *args: Any) -> Any:
        if self.using_shared:
            try:
                return await getattr(self.shared, operation)(*args)
            except Exception as exc:  # noqa: BLE001 - any Redis failure: fall back, never crash
                self._down_until = self._clock() + self.RETRY_AFTER
                log.warning("Redis unreachable for the shared rate limit (%s); pacing this "
                            "instance alone for %.0f s", exc.__class__.__name__,
                            self.RETRY_AFTER)
        return await getattr(self.local, operation)(*args)

    async def reserve(self, key: str, pace: Pace) -> float:
        return await self._either("reserve", key, pace)

    async def hold_off(self, key: str, pace: Pace, seconds: float) -> None:
        await self._either("hold_off", key, pace, seconds)

    async def admit(self, key: str, limit: int, window: float) -> float:
        return await self._either("admit", key, limit, window)


# Replies that may be coalesced while their chat floods the bot; only the last sendMessage
# is sent when the flood is over.
_COALESCED = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
              "sendChatAction"}

Callback = Callable[..., Coroutine[Any, Any, Any]]


class TelegramRateLimiter(BaseRateLimiter[int]):
    def __init__(self, max_retries: int = 3, *, time_scale: float = 1.0,
                 slots: SlotStore | None = None, flood: FloodGuard | None = None) -> None:
        # time_scale > 1 shortens every window (benchmarks and tests against a fake server
        # that scales its limits the same way); production uses 1.
        self.slots: SlotStore = slots or LocalSlots()
        self.flood = flood
        self.max_retries = max_retries
        self._overall = OVERALL.scaled(time_scale)
        self._group = GROUP.scaled(time_scale)
        self._private = PRIVATE.scaled(time_scale)
        self._window = WINDOW / time_scale
        self._guard = self._window * GATE_GUARD
        # What pacing cost, logged at shutdown: requests paced, gate answers "wait",
        # admissions asked again because their answer came late (each one spends a place
        # of the window without a request).
        self.counts = {"paced": 0, "gate_waits": 0, "late_admissions": 0}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self.counts["paced"]:
            log.info("rate limiter: %(paced)d requests paced, %(gate_waits)d gate waits, "
                     "%(late_admissions)d late admissions asked again", self.counts)

    def _chat_pace(self, chat_id: int | str) -> Pace:
        return self._private if isinstance(chat_id, int) and chat_id > 0 else self._group

    async def _wait_for(self, key: str, pace: Pace) -> None:
        wait = await self.slots.reserve(key, pace)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _pass_gate(self) -> None:
        """Wait until fewer than SENT_PER_WINDOW requests went out in the last window (and
        its guard), and count this one (on every instance, through Redis). An admission
        whose answer came back later than the guard (the event loop stalled, or Redis was
        slow) was counted earlier than the request will leave: it stays counted (harmless,
        the bot sends a little less), and a fresh one is asked for, a few times at most (a
        machine that is always slow still sends)."""
        window = self._window + self._guard
        for _attempt in range(GATE_ATTEMPTS):
            asked = time.monotonic()
            wait = await self.slots.admit("sent", SENT_PER_WINDOW, window)
            while wait > 0:
                self.counts["gate_waits"] += 1
                await asyncio.sleep(wait)
                asked = time.monotonic()
                wait = await self.slots.admit("sent", SENT_PER_WINDOW, window)
            if time.monotonic() - asked <= self._guard:
                return
            self.counts["late_admissions"] += 1

    async def process_request(self, callback: Callback, args: Any, kwargs: dict[str, Any],
                              endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = _chat_id(data)
        if chat_id is None:  # getMe, answerCallbackQuery, setMyCommands…: not paced
            return await callback(*args, **kwargs)
        if (self.flood is not None and endpoint in _COALESCED
                and QUIET_CHAT.get() == chat_id):
            return self._coalesce(callback, args, kwargs, endpoint, data, chat_id)
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        chat_key, pace = f"chat:{chat_id}", self._chat_pace(chat_id)
        for attempt in range(retries + 1):
            await self._wait_for(chat_key, pace)
            await self._wait_for("overall", self._overall)
            await self._pass_gate()
            self.counts["paced"] += 1
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                seconds = exc._retry_after.total_seconds()
                # Only this chat waits (on every instance); the others go on.
                log.info("429 for chat=%s: holding it off %.1f s", chat_id, seconds)
                await self.slots.hold_off(chat_key, pace, seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    def _coalesce(self, callback: Callback, args: Any, kwargs: dict[str, Any], endpoint: str,
                  data: dict[str, Any], chat_id: int | str) -> Any:
        """A reply to a flooding chat: not sent now. The last message is kept and sent when
        the flood is over, through the normal pacing."""
        if endpoint != "sendMessage":
            return True
        flood = self.flood
        assert flood is not None

        async def send_later() -> None:
            with contextlib.suppress(Exception):
                await self.process_request(callback, args, kwargs, endpoint, data, None)

        flood.keep_last_reply(chat_id, send_later)
        return {"message_id": 0, "date": int(time.time()), "text": data.get("text") or "",
                "chat": {"id": chat_id,
                         "type": "private" if isinstance(chat_id, int) and chat_id > 0
                         else "supergroup"}}


def _chat_id(data: dict[str, Any]) -> int | str | None:
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # @channelusername
