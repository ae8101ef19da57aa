"""Sends the pending delivery rows (reminders, broadcasts, case alerts, digests), each once.

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
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.runtime import Runtime
from services import calendar as calendar_service
from storage import calendar as store
from storage.models import CalendarEvent, Delivery, Reminder

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

    def add(self, other: SendSummary) -> None:
        for name in ("sent", "failed", "deactivated", "retried", "uncertain"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Job:
    delivery: Delivery
    text: str
    markup: InlineKeyboardMarkup | None


class Sender:
    """Claims a batch of due rows in one transaction, sends them concurrently through the
    rate limiter, records the outcomes in one transaction, and repeats until none is due.

    On a crash, at most one batch is left "sending" (never resent, reported uncertain).
    """

    def __init__(self, bot: Bot, runtime: Runtime, *, batch: int = 16,
                 reminder_markup=None, case_markup=None) -> None:  # noqa: ANN001
        self.bot = bot
        self.runtime = runtime
        self.batch = batch
        self.reminder_markup = reminder_markup
        self.case_markup = case_markup
        self._lock = asyncio.Lock()

    async def run(self) -> SendSummary:
        """Send everything due now; returns what happened. One run at a time per process."""
        async with self._lock:
            summary = SendSummary()
            async with self.runtime.db.session() as session:
                summary.uncertain += await store.mark_stuck_uncertain(
                    self.runtime.clock.now() - STUCK_AFTER, session=session)
            while jobs := await self._claim_batch():
                outcomes = await asyncio.gather(*(self._send(job, summary) for job in jobs))
                await self._record(outcomes)
            return summary

    async def _claim_batch(self) -> list[_Job]:
        now = self.runtime.clock.now()
        async with self.runtime.db.session() as session:
            ids = await store.list_pending_ids(now, session=session, limit=self.batch)
            if not ids:
                return []
            claimed = await store.claim_deliveries(ids, session=session, now=now)
            events = {}
            jobs = []
            for delivery, text, event_id in claimed:
                markup = None
                if event_id is not None and self.reminder_markup is not None:
                    if event_id not in events:
                        events[event_id] = await session.get(CalendarEvent, event_id)
                    reminder = await session.get(Reminder, delivery.reminder_id)
                    markup = self.reminder_markup(events[event_id], reminder)
                if delivery.case_id is not None and self.case_markup is not None:
                    markup = self.case_markup(delivery.case_id)
                if delivery.broadcast_id is not None:
                    text = html.escape(text, quote=False)  # the admin's words, as typed
                jobs.append(_Job(delivery, text or "", markup))
            return jobs

    async def _record(self, outcomes: list[dict]) -> None:
        async with self.runtime.db.session() as session:
            await store.finish_deliveries(outcomes, session=session)
            now = self.runtime.clock.now()
            for outcome in outcomes:
                if outcome["status"] == "deactivated":
                    await calendar_service.chat_gone(outcome["chat_id"], outcome["reason"],
                                                     session=session, now=now)

    async def _send(self, job: _Job, summary: SendSummary) -> dict:
        delivery = job.delivery
        now = self.runtime.clock.now()
        outcome = {"id": delivery.id, "status": "sent", "last_error": None, "sent_at": None,
                   "message_id": None, "due_at": delivery.due_at, "chat_id": delivery.chat_id,
                   "reason": None}
        try:
            message = await self.bot.send_message(delivery.chat_id, job.text,
                                                  reply_markup=job.markup)
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, int | float) else \
                exc.retry_after.total_seconds()
            outcome.update(status="pending", last_error="429",
                           due_at=now + dt.timedelta(seconds=float(wait)))
            summary.retried += 1
        except Forbidden as exc:
            outcome.update(status="deactivated", last_error=_short(exc), reason="forbidden")
            summary.deactivated += 1
        except BadRequest as exc:
            gone = "chat not found" in exc.message.lower()
            outcome.update(status="deactivated" if gone else "failed", last_error=_short(exc),
                           reason="chat_not_found")
            if gone:
                summary.deactivated += 1
            else:
                summary.failed += 1
                log.warning("delivery %s refused: %s", delivery.id, _short(exc))
        except TimedOut:
            # The request may have reached Telegram: sending again could duplicate it.
            outcome.update(status="uncertain", last_error="timeout")
            summary.uncertain += 1
        except NetworkError as exc:
            if delivery.attempts >= MAX_ATTEMPTS:
                outcome.update(status="failed", last_error=_short(exc))
                summary.failed += 1
            else:
                outcome.update(status="pending", last_error="network",
                               due_at=now + dt.timedelta(seconds=2 ** delivery.attempts))
                summary.retried += 1
        else:
            outcome.update(sent_at=now, message_id=message.message_id)
            summary.sent += 1
        return outcome


def _short(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:200]
