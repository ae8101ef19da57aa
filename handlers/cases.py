"""Officers receive new reports, take a case and read it. (The full case workflow —
statuses, deadlines, referrals — is the cases issue; this is what a report needs.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.i18n import _, vi_datetime
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard
from handlers.texts import age_name, category_name, count_name, esc, relation_name
from services import reports as service
from storage.models import Report
from storage.units import get_unit

log = logging.getLogger(__name__)

CS = "cs"


def view_button_data(case_id: int) -> str:
    return cb.build(CS, "view", case_id)


def case_buttons(case_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(_("✋ Take this case"), cb.build(CS, "take", case_id)),
                      (_("👁 View details"), view_button_data(case_id))]])


@dataclass(frozen=True)
class Notice:
    text: str
    keyboard: InlineKeyboardMarkup


async def _place(report: Report, session) -> str:  # noqa: ANN001
    if report.village_id:
        village = await get_unit(report.village_id, session=session)
        return esc(village.name)
    if report.address:
        return esc(report.address)
    if report.latitude is not None:
        return _("location ({lat}, {lon})").format(lat=report.latitude, lon=report.longitude)
    return _("not given")


async def summary_lines(report: Report, session, tz) -> list[str]:  # noqa: ANN001
    return [
        _("What: {category}").format(category=category_name(report.category)),
        _("Where: {place}").format(place=await _place(report, session)),
        _("Child: {age}, {count}").format(age=age_name(report.age_group),
                                          count=count_name(report.child_count)),
        _("Received: {when}").format(when=vi_datetime(report.created_at, tz)),
    ]


async def new_report_notice(request: Request, sent: service.SentReport) -> Notice:
    """What the commune's officers get when a report arrives (no story, no identity)."""
    title = (_("🚨 <b>URGENT new report {code}</b>") if sent.report.urgent
             else _("🆕 <b>New report {code}</b>")).format(code=sent.report.code)
    lines = [title, *await summary_lines(sent.report, request.session, request.runtime.tz), "",
             _("Press “Take this case” to handle it.")]
    return Notice("\n".join(lines), case_buttons(sent.case.id))


@handles
async def take(request: Request) -> list[Reply]:
    """Assigns the case to the officer who pressed, if nobody has it yet."""
    case, won = await service.take_case(request.actor, request.callback.int_arg(0),
                                        session=request.session, now=request.now)
    details = await service.case_details(request.actor, case.id, session=request.session,
                                         now=request.now)
    if won:
        head = _("✅ You are now handling case {code}.").format(code=details.report.code)
    elif details.holder and details.holder.telegram_user_id == request.user_id:
        head = _("You are already handling case {code}.").format(code=details.report.code)
    else:
        head = _("Case {code} is already being handled by {name}.").format(
            code=details.report.code, name=esc(details.holder.display_name if details.holder else "?"))
    return [Reply(head), *await _detail_replies(request, details)]


@handles
async def view(request: Request) -> list[Reply]:
    """Shows the whole report to an officer of the commune (recorded in the audit log)."""
    details = await service.case_details(request.actor, request.callback.int_arg(0),
                                         session=request.session, now=request.now)
    return await _detail_replies(request, details)


async def _detail_replies(request: Request, details: service.CaseDetails) -> list[Reply]:
    report, case = details.report, details.case
    tz = request.runtime.tz
    lines = [(_("🚨 <b>Case {code} – urgent</b>") if report.urgent
              else _("<b>Case {code}</b>")).format(code=report.code),
             *await summary_lines(report, request.session, tz)]
    if report.child_name:
        lines.append(_("Child's name: {name}").format(name=esc(report.child_name)))
    lines.append(_("Handled by: {name}").format(
        name=esc(details.holder.display_name) if details.holder else _("nobody yet")))
    lines += ["", _("<b>What the reporter saw:</b>"), esc(report.story) or _("(no text)")]
    if details.reporter is not None:
        r = details.reporter
        who = (_("anonymous") if r.anonymous
               else ", ".join(esc(x) for x in (r.name, r.phone) if x))
        lines += ["", _("Reporter (only you see this): {who}, {relation}").format(
            who=who, relation=relation_name(r.relation))]
    replies = [Reply("\n".join(lines),
                     None if case.assigned_member_id else case_buttons(case.id))]
    request.after_commit.append(lambda: _send_media(request, details))
    return replies


async def _send_media(request: Request, details: service.CaseDetails) -> None:
    bot, chat_id = request.context.bot, request.update.effective_chat.id
    total = len(details.media)
    for number, item in enumerate(details.media, start=1):
        caption = _("{n}/{total} – case {code}").format(n=number, total=total,
                                                       code=details.report.code)
        try:
            if item.kind == "photo":
                await bot.send_photo(chat_id, item.file_id, caption=caption)
            else:
                await bot.send_voice(chat_id, item.file_id, caption=caption)
        except (BadRequest, Forbidden) as exc:
            log.warning("could not show media %s of case %s: %s", item.id, details.case.id,
                        exc.__class__.__name__)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(CS)
    return [
        CallbackQueryHandler(take, pattern=p + r"take:\d+$"),
        CallbackQueryHandler(view, pattern=p + r"view:\d+$"),
    ]
