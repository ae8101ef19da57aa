"""Updates of one chat run in order; different chats run concurrently; a flooding chat
neither holds up the others nor gets a reply per message (bot/flood.py).

Within one process a lock per chat keeps the order. Across instances (webhook mode, each
instance receives any update), a chat's updates also take turns through Redis in update_id
order (bot/chatturns.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.chatturns import ChatTurns
from bot.flood import QUIET_CHAT, FloodGuard


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatOrderedProcessor(BaseUpdateProcessor):
    """A conversation must see "yes" after the question, not before: one lock per chat.

    asyncio.Lock wakes waiters first-in first-out, and the Application starts update
    tasks in arrival order, so each chat's updates run one after another in order. An
    update waits for its chat's lock *before* taking one of the `max_concurrent_updates`
    slots: hundreds of updates of one chat waiting their turn take no slot from others.
    """

    def __init__(self, max_concurrent_updates: int = 64, *, flood: FloodGuard | None = None,
                 turns: ChatTurns | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.flood = flood
        self.turns = turns
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)

    async def announce(self, update: Update) -> None:
        """An update was received (webhook): it takes its place in its chat's queue across
        instances before Telegram is answered, so a later update of the chat received by
        another instance waits for it."""
        key = _chat_key(update)
        if key is not None and self.turns is not None:
            await self.turns.announce(key, update.update_id)

    async def process_update(self, update: object, coroutine: Awaitable) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        quiet = self.flood.arrived(key) if self.flood is not None else False
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        lease = (self.turns.keep_alive(key, update.update_id)
                 if self.turns is not None else None)
        try:
            async with lock:
                if self.turns is not None:
                    async with self.turns.turn(key, update.update_id):
                        await self._run(key, quiet, coroutine)
                else:
                    await self._run(key, quiet, coroutine)
        finally:
            if lease is not None:
                lease.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await lease
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]
            if quiet:
                self.flood.finished(key)

    async def _run(self, key: int, quiet: bool, coroutine: Awaitable) -> None:
        async with self._slots:
            token = QUIET_CHAT.set(key if quiet else None)
            try:
                await coroutine
            finally:
                QUIET_CHAT.reset(token)

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        await coroutine  # not used: process_update orders and limits itself

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
