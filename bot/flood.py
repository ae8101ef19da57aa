"""One person sending very fast must not slow everyone else down, nor lose what they sent.

Telegram lets the bot send about one message a second into a private chat. Someone who
sends dozens of messages in a few seconds would get a reply to each, paced at that rate,
for minutes. Instead, when a chat sends more than `burst` updates within `window` seconds:

- it gets one message saying it is too fast (and that what it sent is kept);
- its updates are all still handled, in order (a report's story is never cut), but the
  replies they produce are coalesced: none is sent during the flood, and the last one goes
  out when the chat has been calm for `calm` seconds and its updates are done;
- nothing of this touches other chats.

The processor (bot/processor.py) marks the updates of a flooding chat with QUIET_CHAT; the
rate limiter (bot/ratelimit.py) holds back replies to that chat made while handling them.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# The chat whose flood is being handled in this task (replies to it are coalesced).
QUIET_CHAT: contextvars.ContextVar[int | str | None] = contextvars.ContextVar(
    "treem_quiet_chat", default=None)


@dataclass
class _ChatFlood:
    arrivals: collections.deque = field(default_factory=collections.deque)
    flooding_until: float = 0.0
    in_flight: int = 0  # updates marked quiet not finished yet
    last_reply: Callable[[], Awaitable[None]] | None = None
    timer: asyncio.TimerHandle | None = None


class FloodGuard:
    MAX_CHATS = 10_000

    # More than 10 updates in 5 s: faster than a private chat's replies can go out (about
    # one a second). Windows shrink with the rate limits' time scale (tests, benchmarks).
    def __init__(self, *, burst: int = 10, window: float = 5.0, calm: float = 3.0,
                 time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.window, self.calm = burst, window / time_scale, calm / time_scale
        self._clock = clock
        self._chats: dict[int | str, _ChatFlood] = {}
        self.on_flood: Callable[[int | str], None] | None = None  # sends the notice
        self.floods = 0  # how many floods began (for tests and logs)

    def _state(self, chat_id: int | str) -> _ChatFlood:
        state = self._chats.get(chat_id)
        if state is None:
            if len(self._chats) >= self.MAX_CHATS:
                self._forget_calm_chats()
            state = self._chats[chat_id] = _ChatFlood()
        return state

    def _forget_calm_chats(self) -> None:
        now = self._clock()
        for key, state in list(self._chats.items()):
            if (not state.in_flight and state.flooding_until < now and state.last_reply is None
                    and (not state.arrivals or state.arrivals[-1] < now - self.window)):
                del self._chats[key]

    def arrived(self, chat_id: int | str) -> bool:
        """An update of this chat arrived: True if it is part of a flood (its replies will
        be coalesced). The first update of a flood triggers the notice."""
        now = self._clock()
        state = self._state(chat_id)
        state.arrivals.append(now)
        while state.arrivals and state.arrivals[0] <= now - self.window:
            state.arrivals.popleft()
        if len(state.arrivals) > self.burst:
            if state.flooding_until < now:
                self.floods += 1
                log.info("chat=%s floods the bot: replies coalesced", chat_id)
                if self.on_flood is not None:
                    self.on_flood(chat_id)
            state.flooding_until = now + self.calm
        if state.flooding_until >= now:
            state.in_flight += 1
            return True
        return False

    def is_flooding(self, chat_id: int | str) -> bool:
        state = self._chats.get(chat_id)
        return state is not None and state.flooding_until >= self._clock()

    def keep_last_reply(self, chat_id: int | str, send: Callable[[], Awaitable[None]]) -> None:
        self._state(chat_id).last_reply = send

    def finished(self, chat_id: int | str) -> None:
        """A quiet update of this chat is done: when it was the last and the chat is calm,
        its last reply goes out."""
        state = self._chats.get(chat_id)
        if state is None:
            return
        state.in_flight -= 1
        self._flush_when_calm(chat_id, state)

    def _flush_when_calm(self, chat_id: int | str, state: _ChatFlood) -> None:
        if state.in_flight > 0:
            return
        now = self._clock()
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.flooding_until >= now:
            state.timer = asyncio.get_running_loop().call_later(
                state.flooding_until - now + 0.01, self._flush_when_calm, chat_id, state)
            return
        send, state.last_reply = state.last_reply, None
        if send is not None:
            # A fresh context: the reply is not "quiet" any more.
            asyncio.get_running_loop().create_task(send(), context=contextvars.Context())
