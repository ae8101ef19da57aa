"""Sends the outbox (the `deliveries` rows): notices, relays, reminders, broadcasts, case
alerts, digests, escalations, summaries — each once.

For each row, one at a time: claim it (pending → sending, committed) immediately before
its own request, send, record the outcome. A crash therefore leaves at most the requests
in flight "sending" (≤ `concurrency` of the bulk run, plus a handler's own notices being
sent at that instant); the active instance later marks a dead instance's "sending" rows
uncertain: counted, never resent (Telegram may have them). Messages to one chat go out in
row order (the claim waits for older rows of that chat).

Pacing is the Application's rate limiter; a 429 that survives the limiter's retries puts
the row back with Telegram's retry_after; 403 or "chat not found" stops everything for
that chat (and queues the row's `on_failure` message, e.g. telling an officer their
message to the reporter could not be delivered); a network failure before the request
went out is retried with backoff; a timeout after it went out is "uncertain".

Owed kinds are not a text message but something made at send time from the row's
`payload`, by a function of the feature that owes it (wired in bot/app.py): "media" (one
of a case's photos or voice messages, by file_id), "chart" (the PNG drawn from the
figures in the payload), "export" (the XLSX and CSV built from the scope and period),
"commands" (the person's command menu as their role is now). The same rules apply: one
claim, one outcome; a crash while one is being made leaves it uncertain, never redone.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import html
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.runtime import Runtime
from services import calendar as calendar_service
from storage import outbox as store
from storage.models import CalendarEvent, Delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 200  # rows read per round of the bulk run (claimed one by one)
POKE_PATIENCE = 10.0  # seconds a handler's notice waits for older rows of its chat
POKE_STEP = 0.1


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


# Makes and sends one owed row; returns the message id of what it sent, if any. Telegram
# errors propagate to the sender, which records them as for any message.
Owed = Callable[[Bot, Runtime, Delivery], Awaitable[int | None]]


@dataclass(frozen=True)
class _Job:
    delivery: Delivery
    text: str
    markup: InlineKeyboardMarkup | None


class Sender:
    """`run()` sends everything due (on the active instance); `poke(ids)` sends a handler's
    own rows at once (on any instance). Both claim row by row, so they never collide."""

    def __init__(self, bot: Bot, runtime: Runtime, *, instance: int,
                 dead_claimers: Callable[[list[int | None]], Awaitable[list[int | None]]],
                 concurrency: int = 2, reminder_markup=None, case_markup=None,  # noqa: ANN001
                 owed: dict[str, Owed] | None = None) -> None:
        self.bot = bot
        self.owed = owed or {}
        self.runtime = runtime
        self.instance = instance
        self.dead_claimers = dead_claimers
        self.concurrency = concurrency
        self.reminder_markup = reminder_markup
        self.case_markup = case_markup
        self._run_lock = asyncio.Lock()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._shared: dict[tuple[str, int], tuple[str, InlineKeyboardMarkup | None]] = {}
        # Set by bot.app: the active instance's bulk run, for `wake()`.
        self.on_wake: Callable[[], Awaitable[object]] | None = None

    # --- entry points --------------------------------------------------------------------

    async def run(self) -> SendSummary:
        """Send everything due now; returns what happened. One run at a time per process."""
        async with self._run_lock:
            summary = SendSummary()
            summary.uncertain += await self.settle_orphans()
            while due := await self._due(limit=BATCH):
                if not await self._send_rows(due, summary, self.concurrency):
                    break  # every due row waits for an older one being sent elsewhere
            return summary

    def poke(self, ids: Iterable[int]) -> None:
        """Deliver these freshly committed rows now, in the background (the rows are
        durable: if this process dies first, the active instance sends them)."""
        ids = list(ids)
        if not ids:
            return
        self._track(asyncio.get_running_loop().create_task(self.deliver(ids),
                                                           name=f"outbox-poke-{ids[0]}"))

    def wake(self) -> None:
        """Rows for the active instance were queued (a broadcast): start its run now
        instead of at the next sweep."""
        if self.on_wake is not None:
            self._track(asyncio.get_running_loop().create_task(self.on_wake(),
                                                               name="outbox-wake"))

    def _track(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, ids: list[int]) -> SendSummary:
        """Send these rows (a handler's notices), waiting a little for older rows of the
        same chat; whatever cannot go now is left to the active instance's run."""
        summary = SendSummary()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + POKE_PATIENCE
        try:
            while loop.time() < give_up:
                ready, waiting = await self._turns(ids)
                if ready:
                    await self._send_rows(ready, summary, len(ready))  # a handful: all at once
                elif not waiting:
                    break  # all sent (or for later: a retry after a 429 is the run's)
                else:
                    await asyncio.sleep(POKE_STEP)  # behind an older row of the same chat
        except Exception:
            log.exception("outbox poke failed; rows %s are left to the periodic run", ids)
        return summary

    async def wait_idle(self) -> None:
        """Wait for the pokes in progress (tests, a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def settle_orphans(self) -> int:
        """Rows left "sending" by instances that died (and by this one, for rows none of
        its tasks is sending: an earlier crash of the recording step) become uncertain."""
        async with self.runtime.db.session() as session:
            claimers = await store.claimers_of_sending(session=session)
            others = [c for c in claimers if c != self.instance]
            dead = await self.dead_claimers(others) if others else []
            count = await store.mark_uncertain(dead, session=session)
            if self.instance in claimers:
                mine = await store.sending_ids_of(self.instance, session=session)
                count += await store.mark_ids_uncertain(
                    [i for i in mine if i not in self._in_flight], session=session)
        if count:
            log.warning("outbox: %d rows left sending by a stopped instance are uncertain", count)
        return count

    # --- one row at a time ---------------------------------------------------------------

    async def _due(self, *, limit: int) -> list[tuple[int, int]]:
        async with self.runtime.db.session() as session:
            return await store.list_due(self.runtime.clock.now(), session=session, limit=limit)

    async def _turns(self, ids: list[int]) -> tuple[list[tuple[int, int]], bool]:
        async with self.runtime.db.session() as session:
            return await store.turns_of(ids, self.runtime.clock.now(), session=session)

    async def _send_rows(self, rows: list[tuple[int, int]], summary: SendSummary,
                         width: int) -> int:
        """Chats in parallel (`width` workers, so at most `width` requests at once), each
        chat's rows in order. Returns how many rows were claimed."""
        by_chat: dict[int, list[int]] = collections.defaultdict(list)
        for delivery_id, chat_id in rows:
            by_chat[chat_id].append(delivery_id)
        chats = collections.deque(by_chat.values())
        claimed = await asyncio.gather(*(self._worker(chats, summary)
                                         for _ in range(min(width, len(chats)))))
        return sum(claimed)

    async def _worker(self, chats: collections.deque[list[int]], summary: SendSummary) -> int:
        """Takes chats one after another and sends their rows, one request at a time.

        A row sent normally is recorded in the transaction that claims the worker's next
        row (one commit per message instead of two; the claim still comes right before its
        own request, and a row is "sending" only between its claim and that commit). Any
        other outcome is recorded at once (it may stop the chat or queue a message)."""
        claimed = 0
        sent: tuple[Delivery, dict] | None = None  # sent, recorded with the next claim
        try:
            while chats:
                for delivery_id in chats.popleft():
                    job = await self._claim(delivery_id, finish=sent)
                    sent = None
                    if job is None:
                        break  # taken elsewhere, or an older row of this chat is out
                    claimed += 1
                    try:
                        outcome = await self._send(job, summary)
                    except BaseException:
                        self._in_flight.discard(delivery_id)
                        raise
                    if outcome["status"] == "sent":
                        sent = (job.delivery, outcome)
                        continue
                    try:
                        await self._record(job.delivery, outcome)
                    finally:
                        self._in_flight.discard(delivery_id)
                    break  # the chat is gone, or must wait: later rows wait too
        finally:
            if sent is not None:
                try:
                    await self._record(*sent)
                finally:
                    self._in_flight.discard(sent[0].id)
        return claimed

    async def _claim(self, delivery_id: int, *,
                     finish: tuple[Delivery, dict] | None = None) -> _Job | None:
        """Claim this row; first, in the same transaction, record `finish` (a row this
        worker has just sent)."""
        self._in_flight.add(delivery_id)
        job = None
        try:
            async with self.runtime.db.session() as session:
                if finish is not None:
                    await store.finish(finish[0].id, _values(finish[1]), session=session)
                delivery = await store.claim(delivery_id, session=session,
                                             now=self.runtime.clock.now(),
                                             instance=self.instance)
                if delivery is not None:
                    job = await self._job(delivery, session)
        finally:
            if finish is not None:
                self._in_flight.discard(finish[0].id)
            if job is None:
                self._in_flight.discard(delivery_id)
        return job

    async def _job(self, delivery: Delivery, session) -> _Job:  # noqa: ANN001
        """The text and keyboard of a claimed row. A reminder's or broadcast's text is
        shared by all its rows and never changes once released: read once per process."""
        text, markup = delivery.text, None
        if delivery.markup:
            markup = InlineKeyboardMarkup.de_json(delivery.markup, self.bot)
        if delivery.reminder_id is not None:
            key = ("reminder", delivery.reminder_id)
            if key not in self._shared:
                reminder = await store.get_reminder(delivery.reminder_id, session=session)
                event = await session.get(CalendarEvent, reminder.event_id)
                self._shared[key] = (reminder.text or "", self.reminder_markup(event, reminder)
                                     if self.reminder_markup is not None else None)
            shared_text, shared_markup = self._shared[key]
            text, markup = text or shared_text, markup or shared_markup
        elif delivery.broadcast_id is not None and text is None:
            key = ("broadcast", delivery.broadcast_id)
            if key not in self._shared:
                self._shared[key] = (await store.get_broadcast_text(
                    delivery.broadcast_id, session=session), None)
            text = self._shared[key][0]
        if markup is None and delivery.case_id is not None and self.case_markup is not None:
            markup = self.case_markup(delivery.case_id)
        if len(self._shared) > 1000:
            self._shared.clear()
        return _Job(delivery, text or "", markup)

    async def _record(self, delivery: Delivery, outcome: dict) -> None:
        chat_id, reason = outcome["chat_id"], outcome["reason"]
        async with self.runtime.db.session() as session:
            await store.finish(delivery.id, _values(outcome), session=session)
            if outcome["status"] == "deactivated":
                now = self.runtime.clock.now()
                await calendar_service.chat_gone(chat_id, reason, session=session, now=now)
                if delivery.on_failure:
                    await store.add_messages([Delivery(
                        kind="failure", chat_id=int(delivery.on_failure["chat_id"]),
                        text=delivery.on_failure["text"], due_at=now)], session=session)
            follow_up = store.queued_ids(session)
        self.poke(follow_up)

    async def _send(self, job: _Job, summary: SendSummary) -> dict:
        delivery = job.delivery
        now = self.runtime.clock.now()
        outcome = {"status": "sent", "last_error": None, "sent_at": None, "message_id": None,
                   "due_at": delivery.due_at, "chat_id": delivery.chat_id, "reason": None}
        text = job.text
        if delivery.broadcast_id is not None and delivery.kind == "broadcast":
            text = html.escape(text, quote=False)  # the admin's words, as typed
        try:
            make = self.owed.get(delivery.kind)
            if make is not None:
                message_id = await _make_owed(make, self.bot, self.runtime, delivery)
            elif delivery.payload is not None:
                raise _OwedFailed(f"no sender for owed kind {delivery.kind!r}")
            else:
                message_id = (await self.bot.send_message(delivery.chat_id, text,
                                                          reply_markup=job.markup)).message_id
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
        except _OwedFailed as exc:  # an owed thing that cannot be made: not retried
            outcome.update(status="failed", last_error=_short(exc))
            summary.failed += 1
            log.warning("delivery %s (%s) failed: %s", delivery.id, delivery.kind, _short(exc))
        else:
            outcome.update(sent_at=now, message_id=message_id)
            summary.sent += 1
        return outcome


def _values(outcome: dict) -> dict:
    """The columns an outcome sets (without what only `_record` uses)."""
    return {k: v for k, v in outcome.items() if k not in ("chat_id", "reason")}


class _OwedFailed(Exception):
    """Making an owed row failed other than through Telegram (a bug, bad data)."""


async def _make_owed(make: Owed, bot: Bot, runtime: Runtime, delivery: Delivery) -> int | None:
    try:
        return await make(bot, runtime, delivery)
    except TelegramError:
        raise
    except Exception as exc:
        log.exception("making owed %s %s failed", delivery.kind, delivery.id)
        raise _OwedFailed(f"{exc.__class__.__name__}") from exc


def _short(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:200]
