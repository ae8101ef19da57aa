"""Which instance runs the scheduled work.

The planner, the alert pass, digests, reminder release, escalations, draft reminders and
the bulk run of the outbox run only on the *active* instance: the one holding the
scheduler's PostgreSQL advisory lock (session-level, on a dedicated connection kept
open). The others are standbys: they answer updates and send their own notices, and
retry the lock every `RETRY_SECONDS`; when the active one dies its connection closes,
PostgreSQL frees the lock, and a standby takes over at its next try. On SQLite there is
one instance, always active.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from storage import outbox
from storage.db import Database
from storage.locks import AdvisoryLocks

log = logging.getLogger(__name__)

RETRY_SECONDS = 3.0  # the active instance checks its connection this often
# A standby asks for the lock this often: a killed active instance is replaced within about
# this much (one trivial query a standby, twice a second).
STANDBY_RETRY_SECONDS = 0.5
SCHEDULER = "scheduler"


def instance_key(number: int) -> str:
    return f"instance:{number}"


class Leadership:
    def __init__(self, db: Database, *, retry: float = RETRY_SECONDS,
                 standby_retry: float = STANDBY_RETRY_SECONDS) -> None:
        self.db = db
        self.retry = retry
        self.standby_retry = standby_retry
        # Names this instance in the rows it claims; its own lock tells others it lives.
        self.instance = secrets.randbits(62) + 1
        self.active = False
        self._locks = AdvisoryLocks(db) if db.backend == "postgresql" else None
        self._task: asyncio.Task | None = None
        self._on_active: list[Callable[[], Awaitable[None]]] = []
        self._on_queued: list[Callable[[], None]] = []

    @property
    def multi_instance(self) -> bool:
        return self._locks is not None

    def on_active(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` each time this instance becomes the active one."""
        self._on_active.append(callback)

    def on_queued(self, callback: Callable[[], None]) -> None:
        """Call `callback` when any instance queues rows for the active one's bulk run (a
        broadcast confirmed on a standby), instead of waiting for the next sweep."""
        self._on_queued.append(callback)

    async def start(self) -> None:
        """Try once now (so a lone instance is active before its first job), then keep
        trying (a standby) or checking (the active one) in the background."""
        await self._tick()
        if not self.active:
            log.info("scheduler: standby (instance %s); another instance is active",
                     self.instance)
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.active = False
        if self._locks is not None:
            await self._locks.close()  # frees the scheduler's lock at once for a standby

    async def dead(self, claimers: list[int | None]) -> list[int | None]:
        """Of these instances, the ones no longer running (their lock is free)."""
        if self._locks is None:  # SQLite: one instance; any other claimer is gone
            return [c for c in claimers if c != self.instance]
        if not self._locks.connected:
            return []  # cannot tell now: decide at a later run
        gone: list[int | None] = []
        try:
            for claimer in claimers:
                if claimer is None or await self._locks.is_free(
                        self._locks.key(instance_key(claimer))):
                    gone.append(claimer)
        except Exception as exc:  # noqa: BLE001 - the connection dropped: decide later
            log.warning("scheduler: cannot tell which instances live (%s)",
                        exc.__class__.__name__)
            return []
        return gone

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry if self.active else self.standby_retry)
            await self._tick()

    async def _tick(self) -> None:
        if self._locks is None:
            await self._become_active()
            return
        try:
            if not self._locks.connected:
                await self._locks.connect()
                await self._locks.try_lock(self._locks.key(instance_key(self.instance)))
                for callback in self._on_queued:
                    await self._locks.listen(outbox.CHANNEL, callback)
            if self.active:
                await self._locks.ping()  # still connected, so still holding the lock
            elif await self._locks.try_lock(self._locks.key(SCHEDULER)):
                await self._become_active()
        except Exception as exc:  # noqa: BLE001 - the database is away: retry next tick
            if self.active:
                log.warning("scheduler: lost the database connection (%s); now standby",
                            exc.__class__.__name__)
            self.active = False
            await self._locks.close()

    async def _become_active(self) -> None:
        if self.active:
            return
        self.active = True
        log.info("scheduler: active (instance %s)", self.instance)
        for callback in self._on_active:
            try:
                await callback()
            except Exception:
                log.exception("scheduler: start-of-activity work failed")
