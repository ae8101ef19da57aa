"""Scheduled work of the report flow. The scheduler only wakes these functions up; the
database says what is due, and conditional updates make each message go out once even
with several instances running."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application

from bot.i18n import _
from bot.runtime import Runtime, TreemContext, get_runtime
from bot.sender import Sender, SendSummary
from handlers import calendar as calendar_handlers
from handlers import callback_data as cb
from handlers.case_alerts import render_alert, render_digest
from handlers.cases import case_buttons, open_case_button, summary_lines
from handlers.common import keyboard
from services import calendar as calendar_service
from services import cases as case_service
from services import reports as report_service
from storage import calendar as calendar_store

log = logging.getLogger(__name__)

REPORT_JOBS_INTERVAL = 60  # seconds


async def _send(bot: Bot, chat_id: int, text: str, markup=None) -> bool:  # noqa: ANN001
    try:
        await bot.send_message(chat_id, text, reply_markup=markup)
        return True
    except (Forbidden, BadRequest) as exc:
        log.info("scheduled message to chat=%s failed: %s", chat_id, exc.__class__.__name__)
        return False


async def run_report_jobs(bot: Bot, runtime: Runtime) -> dict[str, int]:
    """Escalate urgent reports nobody took, remind idle drafts once, expire old drafts."""
    limits = runtime.settings.report_limits
    now = runtime.clock.now()
    counts = {"escalated": 0, "reminded": 0, "expired": 0}
    async with runtime.db.session() as session:
        escalations = await report_service.claim_escalations(
            session=session, now=now, limits=limits,
            superadmin_ids=sorted(runtime.settings.admin_ids))
        messages = []
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
            messages += [(chat_id, text, markup) for chat_id in item.recipients]
        reminders = await report_service.claim_draft_reminders(session=session, now=now,
                                                               limits=limits)
        expired = await report_service.expire_drafts(session=session, now=now, limits=limits)
    # Sent after the commit: a claimed round is never sent twice, even if sending fails.
    for chat_id, text, markup in messages:
        await _send(bot, chat_id, text, markup)
    counts["escalated"] = len(escalations)
    for draft in reminders:
        await _send(bot, draft.user_id, _(
            "You have a report you have not sent yet. Everything you entered is kept. "
            "Press Continue to finish it."),
            keyboard([[(_("▶️ Continue"), cb.build("rp", "resume", draft.id))],
                      [(_("✖️ Cancel"), cb.build("rp", "x", draft.id))]]))
    counts["reminded"] = len(reminders)
    hours = int(limits.expire_after.total_seconds() // 3600)
    for user_id in expired:
        await _send(bot, user_id, _(
            "The report you started was not sent for {hours} hours, so it has been deleted to "
            "protect the information. You can report again at any time; in an emergency call "
            "113 or 111.").format(hours=hours))
    counts["expired"] = len(expired)
    if any(counts.values()):
        log.info("report jobs: %s", counts)
    return counts


async def report_jobs(context: TreemContext) -> None:
    await run_report_jobs(context.bot, context.runtime)


# --- calendar reminders and broadcasts -------------------------------------------------------

CALENDAR_JOBS_INTERVAL = 30  # seconds
PLAN_INTERVAL = 3600  # reminder rows for this year and next; also re-planned after edits
SENDER_KEY = "treem.sender"


def get_sender(application: Application) -> Sender:
    sender = application.bot_data.get(SENDER_KEY)
    if sender is None:
        sender = Sender(application.bot, get_runtime(application),
                        reminder_markup=calendar_handlers.reminder_markup,
                        case_markup=open_case_button)
        application.bot_data[SENDER_KEY] = sender
    return sender


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
    return await get_sender(application).run()


async def calendar_jobs(context: TreemContext) -> None:
    await run_calendar_jobs(context.application)


async def plan_jobs(context: TreemContext) -> None:
    await plan_calendar(context.runtime)


async def start_broadcast_sending(application: Application, broadcast_id: int) -> None:
    """Send a confirmed broadcast now, in the background, with a progress message."""
    application.create_task(_send_broadcast(application, broadcast_id),
                            name=f"broadcast-{broadcast_id}")


async def _send_broadcast(application: Application, broadcast_id: int) -> None:
    runtime = get_runtime(application)
    bot = application.bot
    async with runtime.db.session() as session:
        broadcast = await calendar_store.get_broadcast(broadcast_id, session=session)
        counts = await calendar_store.count_by_status(session=session, broadcast_id=broadcast_id)
    total = sum(counts.values())
    chat_id = broadcast.progress_chat_id
    progress = await bot.send_message(chat_id, _progress_text(counts, total))
    sending = asyncio.create_task(get_sender(application).run())
    shown = _progress_text(counts, total)
    while not sending.done():
        await asyncio.wait({sending}, timeout=2)
        async with runtime.db.session() as session:
            counts = await calendar_store.count_by_status(session=session,
                                                          broadcast_id=broadcast_id)
        text = _progress_text(counts, total)
        if text != shown and not sending.done():
            await bot.edit_message_text(text, chat_id, progress.message_id)
            shown = text
    await sending
    async with runtime.db.session() as session:
        counts = await calendar_store.count_by_status(session=session, broadcast_id=broadcast_id)
        broadcast = await calendar_store.get_broadcast(broadcast_id, session=session)
        if not counts.get("pending") and not counts.get("sending"):
            broadcast.status = "done"
    await bot.send_message(chat_id, _("✅ Broadcast finished: {sent} sent, {failed} failed, "
                                      "{gone} chats stopped (blocked or removed the bot), "
                                      "{waiting} waiting to retry.").format(
        sent=counts.get("sent", 0), failed=counts.get("failed", 0) + counts.get("uncertain", 0),
        gone=counts.get("deactivated", 0), waiting=counts.get("pending", 0)))


def _progress_text(counts: dict[str, int], total: int) -> str:
    done = sum(v for k, v in counts.items() if k not in ("pending", "sending"))
    return _("Sending… {done}/{total}").format(done=done, total=total)


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
            render=lambda digest: render_digest(digest, now=now, tz=config.tz))
    if alerts or digests:
        log.info("case jobs: %d alerts, %d digests queued", alerts, digests)
    return await get_sender(application).run()


async def case_jobs(context: TreemContext) -> None:
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
