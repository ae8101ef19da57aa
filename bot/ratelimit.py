"""PTB's AIORateLimiter, tuned so bursts never exceed Telegram's limits, plus private chats.

AIORateLimiter's leaky buckets let a full bucket through at once and then leak at the
rate, so AsyncLimiter(30, 1) can pass up to 60 messages in one second. The overall limit
here is evenly spaced slots at 28/s (29 in a second at most, one spare for late wake-ups);
groups get a bucket of 2 leaking 17/min (at most 19 in any minute). PTB does
not pace private chats at all; Telegram answers 429 to a burst in one chat, so a
small per-chat bucket is added here.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 28  # Telegram: about 30 messages per second overall; 2 to spare for jitter
# Telegram: 20 messages per minute in one group. A bucket of 2 leaking 17 a minute lets a
# short reply burst through and still never exceeds 19 in any minute.
GROUP_BURST = 2
GROUP_PER_MINUTE = 17
PRIVATE_PER_SECOND = 3  # Telegram: about one per second in one chat, short bursts tolerated
_MAX_PRIVATE_LIMITERS = 10_000


class EvenSlots:
    """Evenly spaced sending slots: the n-th send goes no earlier than the previous slot
    plus 1/rate. Unlike a leaky bucket woken by timers, late wake-ups do not add up, so a
    long broadcast runs at the full rate without ever bursting above it."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0

    async def __aenter__(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class TelegramRateLimiter(AIORateLimiter):
    def __init__(self, max_retries: int = 3, *, time_scale: float = 1.0) -> None:
        # time_scale > 1 shortens every window (benchmarks and tests against a fake server
        # that scales its limits the same way); production uses 1.
        self._scale = time_scale
        super().__init__(
            overall_max_rate=1, overall_time_period=1 / OVERALL_PER_SECOND / time_scale,
            group_max_rate=GROUP_BURST,
            group_time_period=60 * GROUP_BURST / GROUP_PER_MINUTE / time_scale,
            max_retries=max_retries,
        )
        # PTB's overall bucket, replaced by even slots (same place in PTB's machinery).
        self._base_limiter = EvenSlots(OVERALL_PER_SECOND * time_scale)
        self._private: collections.OrderedDict[int, AsyncLimiter] = collections.OrderedDict()

    def _private_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._private.pop(chat_id, None)
        if limiter is None:
            limiter = AsyncLimiter(1, 1 / PRIVATE_PER_SECOND / self._scale)
        self._private[chat_id] = limiter  # most recently used last
        while len(self._private) > _MAX_PRIVATE_LIMITERS:
            self._private.popitem(last=False)
        return limiter

    async def process_request(self, callback, args: Any, kwargs: dict[str, Any], endpoint: str,  # noqa: ANN001
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        try:
            chat_id = int(chat_id) if chat_id is not None else None
        except (TypeError, ValueError):
            chat_id = None
        if chat_id is not None and chat_id > 0:
            async with self._private_limiter(chat_id):
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                     rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data,
                                             rate_limit_args)
