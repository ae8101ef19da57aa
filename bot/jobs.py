"""Scheduled work of the report flow. The scheduler only wakes these functions up; the
database says what is due, and conditional updates make each message go out once even
with several instances running."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.i18n import _
from bot.runtime import Runtime, TreemContext
from handlers import callback_data as cb
from handlers.cases import case_buttons, summary_lines
from handlers.common import keyboard
from services import reports as report_service

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
            messages += [(chat_id, text, case_buttons(item.case.id)) for chat_id in item.recipients]
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
