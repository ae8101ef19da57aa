"""Officers receive new reports, take a case and read it. (The full case workflow —
statuses, deadlines, referrals — is the cases issue; this is what a report needs.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_duration
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard
from domain.cases import ALLOWED, CaseStatus, ClosureReason, RiskLevel
from domain.errors import InvalidInput
from handlers.texts import (
    age_name,
    category_name,
    closure_name,
    count_name,
    esc,
    relation_name,
    risk_name,
    status_name,
)
from services import cases as cases_service
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


# --- the case card and the workflow ----------------------------------------------------


async def render_card(request: Request, card: cases_service.CaseCard) -> Reply:
    case, report, tz = card.case, card.report, request.runtime.tz
    lines = [(_("📁 <b>Case {code}</b> 🚨") if case.urgent else _("📁 <b>Case {code}</b>"))
             .format(code=report.code),
             _("Status: {status}").format(status=status_name(case.status)),
             _("Risk: {risk}").format(risk=risk_name(case.risk)),
             *await summary_lines(report, request.session, tz),
             _("Handled by: {name}").format(
                 name=esc(card.holder.display_name) if card.holder else _("nobody yet"))]
    if card.due is not None:
        left = card.due - request.now
        due = vi_datetime(card.due, tz)
        lines.append(_("Deadline of this step: {due} · {left} left").format(
            due=due, left=vi_duration(left)) if left.total_seconds() >= 0 else
            _("Deadline of this step: {due} · overdue by {late}").format(
                due=due, late=vi_duration(-left)))
    if case.closure_reason:
        lines.append(_("Closed: {reason}").format(reason=closure_name(case.closure_reason)))
    if card.history:
        lines += ["", _("<b>Latest</b>")]
        for event in card.history:
            what = (f"{status_name(event.from_status)} → {status_name(event.to_status)}"
                    if event.from_status and event.to_status else esc(event.kind))
            if event.kind == "risk":
                what = _("risk changed")
            lines.append(f"• {vi_datetime(event.at, tz)} · {what}")
    return Reply("\n".join(lines), _card_buttons(card))


def _card_buttons(card: cases_service.CaseCard) -> InlineKeyboardMarkup:
    case = card.case
    status = CaseStatus(case.status)
    rows = []
    if case.assigned_member_id is None and status is not CaseStatus.CLOSED:
        rows.append([(_("✋ Take this case"), cb.build(CS, "take", case.id))])
    moves = [t for t in ALLOWED[status] if t is not CaseStatus.CLOSED]
    rows += [[(f"➡️ {status_name(t)}", cb.build(CS, "go", case.id, status, t))] for t in moves]
    if case.risk is None and status is not CaseStatus.CLOSED:
        rows.append([(f"⚠️ {risk_name(r)}", cb.build(CS, "rk", case.id, r)) for r in RiskLevel])
    if CaseStatus.CLOSED in ALLOWED[status]:
        rows.append([(_("✅ Close the case"), cb.build(CS, "cl", case.id, status))])
    rows.append([(_("👁 View details"), view_button_data(case.id))])
    return keyboard(rows)


async def _card_reply(request: Request, case_id: int, *, edit: bool, prefix: str = "") -> Reply:
    card = await cases_service.card(request.actor, case_id, session=request.session,
                                    now=request.now, tz=request.runtime.tz)
    reply = await render_card(request, card)
    return Reply(prefix + reply.text, reply.keyboard, edit=edit)


@handles
async def case_command(request: Request) -> Reply:
    """/case CODE: the case card with the actions this officer may take."""
    args = request.context.args or []
    if not args:
        return Reply(_("Write /case followed by the case code, for example: /case ABCD-EFGH"))
    case = await cases_service.find_case(request.actor, " ".join(args)[:20],
                                         session=request.session)
    return await _card_reply(request, case.id, edit=False)


@handles
async def ask_move(request: Request) -> Reply:
    """Asks to confirm a status change."""
    case_id, current, target = (request.callback.int_arg(0), request.callback.args[1],
                                request.callback.args[2])
    return Reply(_("Move the case from “{current}” to “{target}”?").format(
        current=status_name(current), target=status_name(target)), keyboard([
            [(_("Yes, move it"), cb.build(CS, "ok", case_id, current, target))],
            [(_("No, back to the case"), cb.build(CS, "card", case_id))]]), edit=True)


@handles
async def ask_closure(request: Request) -> Reply:
    """Asks why the case is closed (the choice confirms it)."""
    case_id, current = request.callback.int_arg(0), request.callback.args[1]
    rows = [[(closure_name(r), cb.build(CS, "ok", case_id, current, CaseStatus.CLOSED, r))]
            for r in ClosureReason if r is not ClosureReason.OTHER]
    rows.append([(_("No, back to the case"), cb.build(CS, "card", case_id))])
    return Reply(_("Why is the case closed?"), keyboard(rows), edit=True)


@handles
async def move(request: Request) -> Reply:
    """Applies a confirmed status change, if the case is still where it was."""
    args = request.callback.args
    case_id = request.callback.int_arg(0)
    try:
        case, moved = await cases_service.change_status(
            request.actor, case_id, expected=CaseStatus(args[1]), target=CaseStatus(args[2]),
            closure_reason=ClosureReason(args[3]) if len(args) > 3 else None,
            session=request.session, now=request.now)
    except InvalidInput as problem:
        if problem.code != "case_changed":
            raise
        return await _card_reply(request, case_id, edit=True, prefix=_(
            "This case has just changed. Here it is as it is now:") + "\n\n")
    if not moved:  # the same confirmation pressed again
        return Reply(_("The case is already at “{status}”.").format(
            status=status_name(case.status)))
    return await _card_reply(request, case_id, edit=True, prefix=_("Done.") + "\n\n")


@handles
async def set_risk(request: Request) -> Reply:
    """Records the risk level found at the assessment."""
    case_id = request.callback.int_arg(0)
    await cases_service.set_risk(request.actor, case_id, RiskLevel(request.callback.args[1]),
                                 session=request.session, now=request.now)
    return await _card_reply(request, case_id, edit=True)


@handles
async def show_card(request: Request) -> Reply:
    return await _card_reply(request, request.callback.int_arg(0), edit=True)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(CS)
    statuses = "|".join(CaseStatus)
    return [
        CommandHandler("case", case_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(take, pattern=p + r"take:\d+$"),
        CallbackQueryHandler(view, pattern=p + r"view:\d+$"),
        CallbackQueryHandler(show_card, pattern=p + r"card:\d+$"),
        CallbackQueryHandler(ask_move, pattern=p + rf"go:\d+:({statuses}):({statuses})$"),
        CallbackQueryHandler(ask_closure, pattern=p + rf"cl:\d+:({statuses})$"),
        CallbackQueryHandler(move, pattern=p + rf"ok:\d+:({statuses}):({statuses})(:[a-z_]+)?$"),
        CallbackQueryHandler(set_risk, pattern=p + r"rk:\d+:(high|medium|low)$"),
    ]
