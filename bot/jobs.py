"""Scheduled work. The scheduler only wakes these functions up, and only on the active
instance (bot/leader.py); the database says what is due, every message is an outbox row
written with what caused it, and conditional updates make each go out once even with
several instances running."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application

from bot.i18n import _, vi_number
from bot.runtime import Runtime, TreemContext, get_runtime
from bot.sender import Sender, SendSummary
from domain.workdays import is_working_day
from handlers import calendar as calendar_handlers
from handlers import callback_data as cb
from handlers.case_alerts import digest_buttons, render_alert, render_digest
from handlers.cases import case_buttons, summary_lines
from handlers.common import keyboard
from services import calendar as calendar_service
from services import cases as case_service
from services import register as register_service
from services import reports as report_service
from services import rounds as round_service
from services.retention import run_retention
from storage import outbox as outbox_store
from storage.models import Delivery

log = logging.getLogger(__name__)

REPORT_JOBS_INTERVAL = 60  # seconds


def is_active(runtime: Runtime) -> bool:
    """Scheduled work runs only on the active instance (see bot/leader.py)."""
    return runtime.leadership is None or runtime.leadership.active


def _outbox_row(kind: str, chat_id: int, text: str, markup: InlineKeyboardMarkup | None,
                now, **extra: object) -> Delivery:  # noqa: ANN001
    return Delivery(kind=kind, chat_id=chat_id, text=text, due_at=now,
                    markup=markup.to_dict() if markup is not None else None, **extra)


async def run_report_jobs(bot: Bot, runtime: Runtime) -> dict[str, int]:
    """Escalate urgent reports nobody took, remind idle drafts once, expire old drafts.

    Each message is an outbox row in the transaction that claims its round, so it goes
    out once even if the process dies right after the commit."""
    limits = runtime.settings.report_limits
    now = runtime.clock.now()
    counts = {"escalated": 0, "reminded": 0, "expired": 0}
    async with runtime.db.session() as session:
        escalations = await report_service.claim_escalations(
            session=session, now=now, limits=limits,
            superadmin_ids=sorted(runtime.settings.admin_ids))
        rows = []
        for item in escalations:
            minutes = int((now - item.report.created_at).total_seconds() // 60)
            text = "\n".join([
                _("⚠️ <b>Urgent report {code} has not been taken by anyone</b> for {minutes} "
                  "minutes.").format(code=item.report.code, minutes=minutes),
                *await summary_lines(item.report, session, runtime.tz), "",
                _("Please make sure an officer handles it now."),
            ])
            # Installation administrators see aggregates only: no buttons to a case they
            # may not open; they can phone the commune.
            markup = None if item.install_admins else case_buttons(item.case.id)
            rows += [_outbox_row("escalation", chat_id, text, markup, now)
                     for chat_id in item.recipients]
        reminders = await report_service.claim_draft_reminders(session=session, now=now,
                                                               limits=limits)
        for draft in reminders:
            rows.append(_outbox_row("draft", draft.user_id, _(
                "You have a report you have not sent yet. Everything you entered is kept. "
                "Press Continue to finish it."),
                keyboard([[(_("▶️ Continue"), cb.build("rp", "resume", draft.id))],
                          [(_("✖️ Cancel"), cb.build("rp", "x", draft.id))]]), now))
        expired = await report_service.expire_drafts(session=session, now=now, limits=limits)
        hours = int(limits.expire_after.total_seconds() // 3600)
        for user_id in expired:
            rows.append(_outbox_row("draft", user_id, _(
                "The report you started was not sent for {hours} hours, so it has been deleted "
                "to protect the information. You can report again at any time; in an "
                "emergency call 113 or 111.").format(hours=hours), None, now))
        ids = await outbox_store.add_messages(rows, session=session)
    if ids:
        await runtime.outbox.deliver(ids)
    counts["escalated"] = len(escalations)
    counts["reminded"] = len(reminders)
    counts["expired"] = len(expired)
    if any(counts.values()):
        log.info("report jobs: %s", counts)
    return counts


async def report_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_report_jobs(context.bot, context.runtime)


# --- calendar reminders and broadcasts -------------------------------------------------------

CALENDAR_JOBS_INTERVAL = 30  # seconds
OUTBOX_INTERVAL = 5  # seconds: the active instance's sweep (broadcasts start within this)
PLAN_INTERVAL = 3600  # reminder rows for this year and next; also re-planned after edits
PROGRESS_EVERY = 2.0  # seconds between edits of a broadcast's progress message
PROGRESS_KEY = "treem.broadcast_progress"


def get_sender(application: Application) -> Sender:
    return get_runtime(application).outbox


async def plan_calendar(runtime: Runtime) -> int:
    """Reminder rows for this year and next (idempotent; re-run hourly and after edits)."""
    year = runtime.local_now().year
    hour, minute = runtime.settings.reminder_hour_minute
    async with runtime.db.session() as session:
        return await calendar_service.plan_reminders(session=session, years=[year, year + 1],
                                                     tz=runtime.tz, hour=hour, minute=minute)


async def run_calendar_jobs(application: Application, *, plan: bool = False) -> SendSummary:
    """Release due reminders into delivery rows, then send what is pending."""
    runtime = get_runtime(application)
    if plan:
        await plan_calendar(runtime)
    async with runtime.db.session() as session:
        released = await calendar_service.release_due(
            session=session, now=runtime.clock.now(), tz=runtime.tz,
            render=calendar_handlers.render_reminder)
    if released:
        log.info("reminders released: %s", [(r.reminder.id, r.deliveries) for r in released])
    return await send_outbox(application)


async def calendar_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_calendar_jobs(context.application)


async def plan_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await plan_calendar(context.runtime)


async def outbox_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await send_outbox(context.application)


async def send_outbox(application: Application) -> SendSummary:
    """The active instance's bulk run: everything due, the progress of broadcasts being
    sent, and, when one is over, its summary to the administrator (an outbox row too)."""
    runtime = get_runtime(application)
    sender = get_sender(application)
    progress = None
    running = application.bot_data.setdefault(PROGRESS_KEY, {"task": None, "shown": {}})
    async with runtime.db.session() as session:
        if (running["task"] is None
                and await outbox_store.list_sending_broadcasts(session=session)):
            # One progress loop per process, however many runs overlap.
            progress = running["task"] = asyncio.get_running_loop().create_task(
                _show_progress(application, running["shown"]))
    try:
        summary = await sender.run()
    finally:
        if progress is not None:
            progress.cancel()
            await asyncio.gather(progress, return_exceptions=True)
            running["task"] = None
    if await finish_broadcasts(application):
        summary.add(await sender.run())
    return summary


async def _show_progress(application: Application, shown: dict[int, str]) -> None:
    runtime = get_runtime(application)
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        async with runtime.db.session() as session:
            broadcasts = await outbox_store.list_sending_broadcasts(session=session)
            counts = {b.id: await outbox_store.count_broadcast(b.id, session=session)
                      for b in broadcasts}
        for broadcast in broadcasts:
            text = _progress_text(counts[broadcast.id])
            if shown.get(broadcast.id) != text:
                # Noted before the request: a run cancelled while the edit is in flight must
                # not send the same text again (Telegram refuses "message is not modified").
                shown[broadcast.id] = text
                await _edit_progress(application.bot, broadcast, text)


async def finish_broadcasts(application: Application) -> int:
    """Close the broadcasts with nothing left to send (once, across instances): the
    summary goes to the administrator and the progress message shows the end."""
    runtime = get_runtime(application)
    now = runtime.clock.now()
    finished = []
    async with runtime.db.session() as session:
        for broadcast in await outbox_store.list_sending_broadcasts(session=session):
            if not await outbox_store.close_broadcast(broadcast.id, session=session):
                continue
            counts = await outbox_store.count_broadcast(broadcast.id, session=session)
            finished.append((broadcast, counts))
            log.info("broadcast %s finished: %s", broadcast.id, counts)
        rows = [_outbox_row("summary", b.progress_chat_id, _broadcast_summary(counts), None,
                            now, broadcast_id=b.id)
                for b, counts in finished if b.progress_chat_id is not None]
        await outbox_store.add_messages(rows, session=session)
    for broadcast, counts in finished:
        total = sum(counts.values())
        await _edit_progress(application.bot, broadcast, _("Sent: {done}/{total}.").format(
            done=vi_number(total), total=vi_number(total)))
    return len(finished)


def _broadcast_summary(counts: dict[str, int]) -> str:
    return _("✅ Broadcast finished: {sent} sent, {failed} failed, {gone} chats stopped "
             "(blocked or removed the bot), {uncertain} not known (the bot was interrupted "
             "while sending them; not sent again, to avoid duplicates).").format(
        sent=vi_number(counts.get("sent", 0)), failed=vi_number(counts.get("failed", 0)),
        gone=vi_number(counts.get("deactivated", 0)),
        uncertain=vi_number(counts.get("uncertain", 0)))


async def _edit_progress(bot: Bot, broadcast, text: str) -> None:  # noqa: ANN001
    if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
        return
    try:
        await bot.edit_message_text(text, broadcast.progress_chat_id,
                                    broadcast.progress_message_id)
    except (BadRequest, Forbidden) as exc:  # not modified, deleted, blocked: cosmetic only
        log.info("progress of broadcast %s not shown: %s", broadcast.id,
                 exc.__class__.__name__)


def _progress_text(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    done = sum(v for k, v in counts.items() if k not in ("pending", "sending"))
    return _("Sending… {done}/{total}").format(done=vi_number(done), total=vi_number(total))


# --- the report round: opening rounds, requests, chasers, who is late ----------------------

ROUND_JOBS_INTERVAL = 300  # seconds


async def run_round_jobs(application: Application) -> SendSummary:
    """Open the rounds whose day has come and queue the requests, chasers and late lists
    that are due (keyed rows: once each), then send them. Active instance only."""
    from handlers import rounds as round_handlers  # the round's texts

    runtime = get_runtime(application)
    now = runtime.clock.now()
    today = runtime.local_now().date()
    async with runtime.db.session() as session:
        opened = await round_service.open_due_rounds(session=session, today=today, now=now)
        queued = await round_service.queue_round_messages(
            session=session, today=today, now=now,
            render_request=round_handlers.render_request,
            render_late=round_handlers.render_late)
    if opened or queued:
        log.info("round jobs: %d opened, %d messages queued", len(opened), queued)
    return await send_outbox(application)


async def round_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_round_jobs(context.application)


# --- case deadlines: alerts before and after, escalation, the morning digest -------------

CASE_JOBS_INTERVAL = 60  # seconds


async def run_case_jobs(application: Application) -> SendSummary:
    """Queue the deadline alerts and digests that are due (once each), then send them."""
    runtime = get_runtime(application)
    now, config = runtime.clock.now(), runtime.case_config
    async with runtime.db.session() as session:
        alerts = await case_service.queue_alerts(
            session=session, now=now, config=config,
            render=lambda alert: render_alert(alert, now=now, tz=config.tz))
        digests = await case_service.queue_digests(
            session=session, now=now, config=config, at=runtime.settings.digest_at,
            render=lambda digest: render_digest(digest, now=now, tz=config.tz),
            buttons=digest_buttons)
    if alerts or digests:
        log.info("case jobs: %d alerts, %d digests queued", alerts, digests)
    return await send_outbox(application)


async def case_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_case_jobs(context.application)


DUE_REFRESH_BATCH = 500  # open cases per transaction (~0.1 s of CPU: replies stay fast)


async def refresh_case_deadlines(runtime: Runtime, *, batch: int = DUE_REFRESH_BATCH) -> int | None:
    """Every open case's deadline (and next alert) under the rules configured now, once per
    set of rules across instances and restarts. Runs in the background in short batches,
    each its own transaction, so the bot answers while a province's cases are walked.
    Returns how many changed, or None when another instance has it or it is done."""
    config = runtime.case_config
    async with runtime.db.session() as session:
        if not await case_service.claim_due_refresh(session=session, config=config,
                                                    now=runtime.clock.now()):
            return None
    log.info("recomputing case deadlines in the background")
    after, changed = 0, 0
    try:
        while after is not None:
            async with runtime.db.session() as session:
                after, count = await case_service.refresh_due_batch(
                    session=session, config=config, now=runtime.clock.now(), after_id=after,
                    limit=batch)
            changed += count
            await asyncio.sleep(0)  # let updates in between batches
    except asyncio.CancelledError:
        async with runtime.db.session() as session:
            await case_service.abandon_due_refresh(session=session, config=config)
        raise
    except Exception:
        log.exception("recomputing case deadlines failed")
        return None
    log.info("case deadlines recomputed: %d changed", changed)
    return changed


# --- retention ------------------------------------------------------------------------------

RETENTION_INTERVAL = 3600  # seconds: the first tick of each local day does the day's pass


async def run_retention_jobs(runtime: Runtime):  # noqa: ANN201 - RetentionRun | None
    """Erase the contacts and de-identify the cases past their period: once per local day
    across instances (retention_runs), each run recorded with its counts."""
    return await run_retention(runtime.db, rules=runtime.settings.retention,
                               now=runtime.clock.now(), tz=runtime.tz)


async def retention_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_retention_jobs(context.runtime)


# --- the register: children who turn 16 leave it on the birthday ----------------------------

REGISTER_JOBS_INTERVAL = 600  # seconds: a birthday is a day, checking often costs one query


async def run_register_jobs(application: Application) -> int:
    """Children whose 16th birthday has come (in the commune's time zone) leave the register,
    each once, with a notice to the village's collaborators and the commune's officers
    written in the same transaction."""
    from handlers.register import review_list, sixteen_notice  # handlers render

    runtime = get_runtime(application)
    now, local = runtime.clock.now(), runtime.local_now()
    today = local.date()
    async with runtime.db.session() as session:
        left = await register_service.leave_at_sixteen(session=session, today=today, now=now)
        rows = []
        for item in left:
            text, markup = sixteen_notice(item)
            rows += [_outbox_row("register", chat_id, text, markup, now)
                     for chat_id in item.recipients]
        # The periodic review lists: on working days, from the reminder hour (08:00).
        lists = []
        if is_working_day(today) and (local.hour, local.minute) >= \
                runtime.settings.reminder_hour_minute:
            lists = await register_service.claim_review_lists(session=session, today=today,
                                                              now=now)
        for item in lists:
            text, markup = review_list(item.village.name, item.children)
            rows += [_outbox_row("review", chat_id, text, markup, now)
                     for chat_id in item.recipients]
        await outbox_store.add_messages(rows, session=session)
    if left or lists:
        log.info("register: %d children turned 16 and left, %d review lists", len(left),
                 len(lists))
        await send_outbox(application)
    return len(left)


async def register_jobs(context: TreemContext) -> None:
    if is_active(context.runtime):
        await run_register_jobs(context.application)
