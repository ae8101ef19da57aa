"""One chat's updates in order across instances (webhook mode with several instances).

Each instance may receive any update; a lock per chat inside one process is not enough.
In Redis, each chat has a queue of the update ids received and not yet finished (a sorted
set, by update_id) and each entry a lease (a key with a short TTL, renewed while its
update waits or runs). An update runs when it is the head of its chat's queue; a head
whose lease expired (its instance died) is dropped, so nothing waits forever.

When Redis does not answer, updates run without waiting (each process still keeps its own
chats in order) and a warning is logged: degraded, never stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

# KEYS: queue, lease prefix. ARGV: update id, lease ms.
# Returns 1 when this update is the head (its turn), else 0. Expired heads are dropped.
_TURN_SCRIPT = """
local queue, prefix, me, lease = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])
redis.call('SET', prefix .. me, '1', 'PX', lease)
if redis.call('ZSCORE', queue, me) == false then
  redis.call('ZADD', queue, tonumber(me), me)
end
redis.call('PEXPIRE', queue, lease * 4)
while true do
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if head == nil or head == me then return 1 end
  if redis.call('EXISTS', prefix .. head) == 1 then return 0 end
  redis.call('ZREM', queue, head)
end
"""

_DONE_SCRIPT = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2] .. ARGV[1])
return 1
"""


class ChatTurns:
    """Turns per chat in Redis, shared by every instance of the bot token."""

    LEASE = 15.0  # seconds; renewed every LEASE/3 while an update waits or runs
    WARN_EVERY = 60.0

    def __init__(self, client: Any, namespace: str, *, poll: float = 0.005) -> None:
        self._client = client
        self._namespace = namespace
        self._poll = poll
        self._turn = client.register_script(_TURN_SCRIPT)
        self._done = client.register_script(_DONE_SCRIPT)
        self._warned_at = -self.WARN_EVERY

    def _keys(self, chat_id: int) -> list[str]:
        base = f"{self._namespace}chat:{chat_id}"
        return [f"{base}:queue", f"{base}:lease:"]

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY:
            self._warned_at = now
            log.warning("Redis unreachable for the order of updates across instances (%s); "
                        "each instance keeps its own order meanwhile", exc.__class__.__name__)

    async def _try_turn(self, chat_id: int, update_id: int) -> bool:
        result = await self._turn(keys=self._keys(chat_id),
                                  args=[str(update_id), str(int(self.LEASE * 1000))])
        return int(result) == 1

    async def announce(self, chat_id: int, update_id: int) -> None:
        try:
            await self._try_turn(chat_id, update_id)
        except Exception as exc:  # noqa: BLE001 - Redis down: degrade, never fail the webhook
            self._warn(exc)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, update_id: int) -> AsyncIterator[None]:
        shared = True
        try:
            delay = self._poll
            while not await self._try_turn(chat_id, update_id):  # renews its lease too
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
            shared = False
        renewing = asyncio.create_task(self._renew(chat_id, update_id)) if shared else None
        try:
            yield
        finally:
            if renewing is not None:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await renewing
                try:
                    await self._done(keys=self._keys(chat_id), args=[str(update_id)])
                except Exception as exc:  # noqa: BLE001 - the lease expires on its own
                    self._warn(exc)

    def keep_alive(self, chat_id: int, update_id: int) -> asyncio.Task:
        """Renews the update's lease while it waits in this process (behind the chat's
        earlier updates) before it asks for its turn: a wait longer than the lease must not
        make it look dead to the other instances, which would then run later updates first.
        The caller cancels the task when the update is done."""
        return asyncio.get_running_loop().create_task(self._renew(chat_id, update_id),
                                                      name=f"lease-{update_id}")

    async def _renew(self, chat_id: int, update_id: int) -> None:
        _queue, prefix = self._keys(chat_id)
        while True:
            await asyncio.sleep(self.LEASE / 3)
            with contextlib.suppress(Exception):
                await self._client.pexpire(f"{prefix}{update_id}", int(self.LEASE * 1000))
