"""People's rights over their data through the chat, and the access report for inspectors.

/xoathongtin (and a button from /status): a reporter sees what is kept about them and can
withdraw their contact from a report; the officer handling the case is told through the
outbox, in the same transaction. /truycap: an administrator lists who viewed or exported
which case or figures in a period, a page at a time, or as a workbook.
"""

from __future__ import annotations

import asyncio
import io
import logging

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_number
from domain.data_rights import CONSENT_DECLINED, CONSENT_GIVEN, parse_access_period
from domain.errors import InvalidInput
from domain.periods import Period
from handlers import callback_data as cb
from handlers import cases
from handlers.case_audit import action_name
from handlers.common import Reply, Request, handles, keyboard
from handlers.texts import esc
from services import privacy as service
from services.identity import resolve_actor

log = logging.getLogger(__name__)

DR = "dr"
TA = "ta"
MESSAGES_SHOWN = 3
MESSAGE_PREVIEW = 120
LINES_PER_PAGE = 20
MAX_EXPORT_ROWS = 50_000


# --- what is kept, and withdrawing the contact ---------------------------------------------


def _settings(request: Request) -> dict:
    return {"working_days": request.runtime.settings.data_request_working_days,
            "tz": request.runtime.tz}


def _contact_line(kept: service.KeptReport, tz) -> str:  # noqa: ANN001
    r = kept.reporter
    if r.contact_withdrawn_at is not None:
        return _("Your contact: deleted at your request ({when}).").format(
            when=vi_datetime(r.contact_withdrawn_at, tz))
    if not service.has_contact(r):
        return _("Your contact: none (you stayed anonymous).")
    return _("Your contact: {contact}.").format(
        contact=", ".join(esc(x) for x in (r.name, r.phone) if x))


def _consent_line(kept: service.KeptReport) -> str | None:
    consent = kept.reporter.consent
    if consent == CONSENT_GIVEN:
        return _("You agreed to leave your contact after reading what is kept.")
    if consent == CONSENT_DECLINED:
        return _("You chose not to leave your contact.")
    return None


def _kept_text(request: Request, kept: service.Kept) -> str:
    tz = request.runtime.tz
    lines = [_("🔐 <b>What is kept about you</b>")]
    if not kept.reports:
        lines += ["", _("You have not sent any report, so nothing about you is kept here.")]
    for item in kept.reports[:8]:
        lines += ["", _("<b>Report {code}</b> ({when})").format(
            code=item.report.code, when=vi_datetime(item.report.created_at, tz)),
            _contact_line(item, tz)]
        consent = _consent_line(item)
        if consent:
            lines.append(consent)
        lines.append(_("What you wrote after sending: {n} messages.").format(
            n=vi_number(len(item.messages))))
        for when, text in item.messages[-MESSAGES_SHOWN:]:
            short = text if len(text) <= MESSAGE_PREVIEW else text[:MESSAGE_PREVIEW] + "…"
            lines.append(f"• {vi_datetime(when, tz)}: {esc(short)}")
    lines += ["", _("The report itself (what happened to the child) stays with the commune's "
                    "child-protection officers for as long as the commune's records-keeping "
                    "rules say: it is needed to protect the child. Your name and phone are "
                    "yours to withdraw; the case goes on without them."),
              _("Your request was recorded at {when}; the answer is due by {due}.").format(
                  when=vi_datetime(kept.request.received_at, tz),
                  due=vi_datetime(kept.request.due_at, tz))]
    return "\n".join(lines)


async def _show_kept(request: Request, *, edit: bool) -> Reply:
    kept = await service.what_is_kept(request.user_id, session=request.session,
                                      now=request.now, **_settings(request))
    rows = [[(_("🗑 Delete my contact from {code}").format(code=item.report.code),
              cb.build(DR, "w", item.report.id))]
            for item in kept.reports[:8]
            if item.reporter.contact_withdrawn_at is None and service.has_contact(item.reporter)]
    return Reply(_kept_text(request, kept), keyboard(rows) if rows else None, edit=edit)


@handles
async def my_data_command(request: Request) -> Reply:
    """/xoathongtin: what is kept about the person, with a delete button per contact."""
    return await _show_kept(request, edit=False)


@handles
async def my_data_button(request: Request) -> Reply:
    """The "my data" button under /status."""
    return await _show_kept(request, edit=False)


@handles
async def withdraw_asked(request: Request) -> Reply:
    """Asks before erasing the contact of one report."""
    report_id = request.callback.int_arg(0)
    report, reporter = await service.own_report(request.user_id, report_id,
                                                session=request.session)
    if reporter.contact_withdrawn_at is not None or not service.has_contact(reporter):
        return Reply(_("Your contact is no longer kept with report {code}.").format(
            code=report.code), edit=True)
    return Reply(_("Delete your name and phone from report {code}?\n\nThe case goes on "
                   "without them. The officer handling it will be told that they can no "
                   "longer contact you. You can still follow the report with its code.")
                 .format(code=report.code),
                 keyboard([[(_("🗑 Yes, delete my contact"), cb.build(DR, "wy", report_id))],
                           [(_("No, keep it"), cb.build(DR, "see"))]]), edit=True)


@handles
async def withdraw_confirmed(request: Request) -> list[Reply]:
    """Erases the contact; the officer handling the case is told in the same transaction."""
    done = await service.withdraw_contact(request.user_id, request.callback.int_arg(0),
                                          session=request.session, now=request.now,
                                          **_settings(request))
    code = done.report.code
    if done.already:
        return [Reply(_("Your contact is no longer kept with report {code}.").format(code=code))]
    replies = [Reply(_("✅ Your name and phone were deleted from report {code}. The case goes "
                       "on; nobody will contact you about it. If a child is in danger, call "
                       "111 or 113.").format(code=code), edit=True)]
    if done.case is not None:
        text = _("🔐 <b>The reporter of case {code} withdrew their contact.</b> Their name and "
                 "phone were erased at their request; you can no longer contact them, and "
                 "messages through the bot are off. The case goes on.").format(code=code)
        view = keyboard([[(_("👁 View the case"), cases.view_button_data(done.case.id))]])
        targets = ([done.notify_user_id] if done.notify_user_id is not None
                   else list(done.notify_others))
        replies += [Reply(text, view, chat_id=user_id) for user_id in targets]
    log.info("contact withdrawn report=%s request=%s", done.report.id, done.request.id)
    return replies


# --- /truycap: who viewed or exported what ---------------------------------------------------


def _object_text(entry, report: service.AccessReport) -> str:  # noqa: ANN001
    if entry.object_type == "case" and entry.object_id.isdigit():
        code = report.case_codes.get(int(entry.object_id))
        return _("case {code}").format(code=code) if code else _("case #{id}").format(
            id=entry.object_id)
    if entry.object_type == "unit" and entry.object_id.isdigit():
        name = report.unit_names.get(int(entry.object_id))
        return _("figures of {unit}").format(unit=esc(name)) if name else _("figures")
    return f"{esc(entry.object_type)} {esc(entry.object_id)}"


def _who(entry, report: service.AccessReport) -> str:  # noqa: ANN001
    if entry.actor_user_id in report.names:
        return esc(report.names[entry.actor_user_id])
    return _("someone (id {id})").format(id=entry.actor_user_id)


def _what(entry) -> str:  # noqa: ANN001
    what = action_name(entry.action)
    if entry.action == "case_viewed" and (entry.details or {}).get("with_reporter"):
        what += " " + _("(including who reported)")
    return what


def _span(period: Period) -> str:
    return f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}"


def _period_rows(period: Period) -> list[list[tuple[str, str]]]:
    start, end = period.start.strftime("%Y%m%d"), period.end.strftime("%Y%m%d")
    return [[(_("7 days"), cb.build(TA, "d", 7)), (_("30 days"), cb.build(TA, "d", 30)),
             (_("90 days"), cb.build(TA, "d", 90))],
            [(_("📥 Workbook (XLSX)"), cb.build(TA, "x", start, end))]]


async def _access_page(request: Request, period: Period, page: int, *, edit: bool) -> Reply:
    tz = request.runtime.tz
    page = max(page, 0)
    report = await service.access_report(request.actor, period, session=request.session,
                                         now=request.now, tz=tz, offset=page * LINES_PER_PAGE,
                                         limit=LINES_PER_PAGE)
    pages = max(1, -(-report.total // LINES_PER_PAGE))
    where = esc(report.unit_name) if report.unit_name else _("the whole installation")
    lines = [_("🗂 <b>Who viewed or exported data</b>, {where}, {span}").format(
        where=where, span=_span(period)),
        _("{n} accesses, newest first.").format(n=vi_number(report.total)), ""]
    if not report.entries:
        lines.append(_("Nobody viewed or exported anything in this period."))
    for entry in report.entries:
        lines.append(f"• {vi_datetime(entry.at, tz)} · {_who(entry, report)} · {_what(entry)} · "
                     f"{_object_text(entry, report)}")
    if pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=min(page, pages - 1) + 1,
                                                          pages=pages)]
    start, end = period.start.strftime("%Y%m%d"), period.end.strftime("%Y%m%d")
    nav = []
    if page > 0:
        nav.append((_("◀️ Previous"), cb.build(TA, "p", start, end, page - 1)))
    if page < pages - 1:
        nav.append((_("Next ▶️"), cb.build(TA, "p", start, end, page + 1)))
    rows = ([nav] if nav else []) + _period_rows(period)
    return Reply("\n".join(lines), keyboard(rows), edit=edit)


def _period_help() -> str:
    return _("That period cannot be read. Write for example /truycap (the last 30 days), "
             "/truycap 7 (the last 7 days) or /truycap 1/11/2026 30/11/2026 (at most a year).")


@handles
async def access_command(request: Request) -> Reply:
    """/truycap [period]: the first page of who viewed or exported what."""
    await service.access_scope(request.actor, session=request.session)  # refuse others first
    text = " ".join(request.context.args or [])[:60]
    try:
        period = parse_access_period(text, request.runtime.local_now().date())
    except InvalidInput:
        return Reply(_period_help())
    return await _access_page(request, period, 0, edit=False)


def _period_from(args: tuple[str, ...]) -> Period:
    return Period.from_key("custom", args[0], args[1])


@handles
async def access_page(request: Request) -> Reply:
    """Another page, or another period (the rights are checked again)."""
    callback = request.callback
    try:
        if callback.action == "d":
            period = parse_access_period(str(callback.int_arg(0)),
                                         request.runtime.local_now().date())
            return await _access_page(request, period, 0, edit=True)
        return await _access_page(request, _period_from(callback.args),
                                  callback.int_arg(2), edit=True)
    except InvalidInput:
        return Reply(_period_help())


@handles
async def access_export(request: Request) -> Reply | None:
    """The workbook of every access in the period: the rights are checked now, and an
    outbox row, written in this transaction, is turned into the file by the sender."""
    try:
        period = _period_from(request.callback.args)
    except InvalidInput:
        return Reply(_period_help())
    await service.access_scope(request.actor, session=request.session)  # refuses now
    await request.owe("access_export", {"period": list(period.key())},
                      chat_id=request.user_id)
    return None


async def send_owed_access_export(bot, runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "access_export" rows: the workbook made now, for the rights the person
    has now, and the export audited then (it does not list itself)."""
    period = Period.from_key(*delivery.payload["period"])
    chat_id = delivery.chat_id  # the administrator's private chat: their user id
    async with runtime.db.session() as session:
        actor = await resolve_actor(chat_id, session=session,
                                    superadmin_ids=runtime.settings.admin_ids)
        report = await service.access_report(actor, period, session=session,
                                             now=runtime.clock.now(), tz=runtime.tz,
                                             limit=MAX_EXPORT_ROWS, exported=True)
    data = await asyncio.to_thread(access_workbook, report, runtime.tz)
    name = f"truy-cap-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    caption = _("🗂 Who viewed or exported data, {span}: {n} accesses").format(
        span=_span(period), n=vi_number(report.total))
    message = await bot.send_document(chat_id, io.BytesIO(data), filename=name,
                                      caption=caption)
    return message.message_id


def access_workbook(report: service.AccessReport, tz) -> bytes:  # noqa: ANN001
    """One sheet, one row per access, in memory (nothing is left on disk)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Access")
    sheet.append([_("Who viewed or exported data, {span}").format(span=_span(report.period))])
    sheet["A1"].font = Font(bold=True)
    sheet.append([])
    header = [_("Time"), _("Who"), _("Telegram id"), _("What"), _("Object"), _("Case code")]
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for entry in report.entries:
        code = (report.case_codes.get(int(entry.object_id), "")
                if entry.object_type == "case" and entry.object_id.isdigit() else "")
        sheet.append([
            entry.at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
            report.names.get(entry.actor_user_id, ""),
            str(entry.actor_user_id or ""),
            _what(entry),
            _plain(_object_text(entry, report)),
            code,
        ])
    for column, width in zip("ABCDEF", (18, 24, 14, 40, 30, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plain(html_text: str) -> str:
    import html

    return html.unescape(html_text)


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("xoathongtin", my_data_command, filters=private),
        CommandHandler("truycap", access_command, filters=private),
        CallbackQueryHandler(my_data_button, pattern=cb.pattern(DR) + r"see$"),
        CallbackQueryHandler(withdraw_asked, pattern=cb.pattern(DR) + r"w:\d+$"),
        CallbackQueryHandler(withdraw_confirmed, pattern=cb.pattern(DR) + r"wy:\d+$"),
        CallbackQueryHandler(access_page,
                             pattern=cb.pattern(TA) + r"(p:\d{8}:\d{8}:\d+|d:\d+)$"),
        CallbackQueryHandler(access_export, pattern=cb.pattern(TA) + r"x:\d{8}:\d{8}$"),
    ]
