"""Sends the pending delivery rows (reminders, broadcasts), each exactly once.

For each row: claim it (pending → sending, committed), send, record the outcome. A row
is never sent twice: a crash between Telegram's answer and our commit leaves it
"uncertain" (counted, never resent). Pacing is the Application's rate limiter (≤29/s
overall, ≤19/min per group, a little per private chat); a 429 that survives the
limiter's retries puts the row back with Telegram's retry_after; 403 or "chat not found"
stops everything for that chat; a network failure before the request went out is retried
with backoff; a timeout after it went out is "uncertain".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from dataclasses import dataclass, field

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.runtime import Runtime
from services import calendar as calendar_service
from storage import calendar as store
from storage.models import Broadcast, CalendarEvent, Delivery, Reminder

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STUCK_AFTER = dt.timedelta(minutes=2)


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    deactivated: int = 0
    retried: int = 0
    uncertain: int = 0
    broadcasts: set[int] = field(default_factory=set)

    def add(self, other: SendSummary) -> None:
        for name in ("sent", "failed", "deactivated", "retried", "uncertain"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.broadcasts |= other.broadcasts


@dataclass(frozen=True)
class _Job:
    delivery: Delivery
    text: str
    markup: InlineKeyboardMarkup | None


class Sender:
    def __init__(self, bot: Bot, runtime: Runtime, *, concurrency: int = 8,
                 reminder_markup=None) -> None:  # noqa: ANN001
        self.bot = bot
        self.runtime = runtime
        self.concurrency = concurrency
        self.reminder_markup = reminder_markup
        self._lock = asyncio.Lock()

    async def run(self) -> SendSummary:
        """Send everything due now; returns what happened. One run at a time per process."""
        async with self._lock:
            summary = SendSummary()
            now = self.runtime.clock.now()
            async with self.runtime.db.session() as session:
                summary.uncertain += await store.mark_stuck_uncertain(now - STUCK_AFTER,
                                                                      session=session)
            while True:
                async with self.runtime.db.session() as session:
                    ids = await store.list_pending_ids(self.runtime.clock.now(), session=session,
                                                       limit=self.concurrency * 8)
                if not ids:
                    return summary
                queue: asyncio.Queue[int] = asyncio.Queue()
                for delivery_id in ids:
                    queue.put_nowait(delivery_id)
                results = await asyncio.gather(*(self._worker(queue)
                                                 for _ in range(self.concurrency)))
                for result in results:
                    summary.add(result)

    async def _worker(self, queue: asyncio.Queue[int]) -> SendSummary:
        summary = SendSummary()
        while not queue.empty():
            await self._deliver(queue.get_nowait(), summary)
        return summary

    async def _claim(self, delivery_id: int) -> _Job | None:
        async with self.runtime.db.session() as session:
            if not await store.claim_delivery(delivery_id, session=session,
                                              now=self.runtime.clock.now()):
                return None
            delivery = await store.get_delivery(delivery_id, session=session)
            markup = None
            if delivery.reminder_id is not None:
                reminder = await session.get(Reminder, delivery.reminder_id)
                text = reminder.text or ""
                if self.reminder_markup is not None:
                    event = await session.get(CalendarEvent, reminder.event_id)
                    markup = self.reminder_markup(event, reminder)
            else:
                broadcast = await session.get(Broadcast, delivery.broadcast_id)
                text = html.escape(broadcast.text, quote=False)  # the admin's words, as typed
            return _Job(delivery, text, markup)

    async def _finish(self, delivery: Delivery, status: str, **values) -> None:  # noqa: ANN003
        async with self.runtime.db.session() as session:
            await store.finish_delivery(delivery.id, status, session=session,
                                        now=self.runtime.clock.now(), **values)
            if status == "deactivated":
                await calendar_service.chat_gone(delivery.chat_id, values.get("error") or "gone",
                                                 session=session, now=self.runtime.clock.now())

    async def _deliver(self, delivery_id: int, summary: SendSummary) -> None:
        job = await self._claim(delivery_id)
        if job is None:
            return
        delivery = job.delivery
        if delivery.broadcast_id:
            summary.broadcasts.add(delivery.broadcast_id)
        now = self.runtime.clock.now()
        try:
            message = await self.bot.send_message(delivery.chat_id, job.text,
                                                  reply_markup=job.markup)
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, int | float) else \
                exc.retry_after.total_seconds()
            await self._finish(delivery, "pending", error="429",
                               retry_at=now + dt.timedelta(seconds=float(wait)))
            summary.retried += 1
        except Forbidden as exc:
            await self._finish(delivery, "deactivated", error=_short(exc))
            summary.deactivated += 1
        except BadRequest as exc:
            gone = "chat not found" in exc.message.lower()
            await self._finish(delivery, "deactivated" if gone else "failed", error=_short(exc))
            if gone:
                summary.deactivated += 1
            else:
                summary.failed += 1
                log.warning("delivery %s refused: %s", delivery.id, _short(exc))
        except TimedOut:
            # The request may have reached Telegram: sending again could duplicate it.
            await self._finish(delivery, "uncertain", error="timeout")
            summary.uncertain += 1
        except NetworkError as exc:
            if delivery.attempts >= MAX_ATTEMPTS:
                await self._finish(delivery, "failed", error=_short(exc))
                summary.failed += 1
            else:
                backoff = dt.timedelta(seconds=2 ** delivery.attempts)
                await self._finish(delivery, "pending", error="network", retry_at=now + backoff)
                summary.retried += 1
        else:
            await self._finish(delivery, "sent", message_id=message.message_id)
            summary.sent += 1


def _short(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:200]
