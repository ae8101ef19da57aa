"""/audit CODE: who saw and changed a case, for the administrators of its commune."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_time
from domain.audit_log import AuditLine, group_repeated_views
from domain.decree_forms import FORMS
from domain.errors import NotFound
from handlers import callback_data as cb
from handlers.cases import card_button_data
from handlers.common import Reply, Request, handles, keyboard
from handlers.paging import nav_row, page_of
from handlers.texts import esc, status_name, unknown_case_code
from services import cases as cases_service


def action_name(action: str) -> str:
    return {
        "report_sent": _("sent the report"),
        "report_added_info": _("added information"),
        "case_opened": _("opened the case"),
        "case_viewed": _("viewed the case"),
        "case_taken": _("took the case"),
        "case_assigned": _("assigned the case"),
        "case_status_changed": _("changed the status"),
        "case_risk_changed": _("changed the risk level"),
        "case_groups_changed": _("changed the special circumstances"),
        "case_note_added": _("added a note"),
        "case_referred": _("referred the case to an agency"),
        "reporter_messaged": _("wrote to the reporter"),
        "reporter_replied": _("the reporter answered"),
        "audit_viewed": _("read this audit log"),
        "case_form_exported": _("made a form of Decree 56 from the case"),
        "reporter_contact_withdrawn": _("the reporter withdrew their contact"),
        "stats_viewed": _("viewed the figures"),
        "stats_exported": _("exported the figures"),
        "access_exported": _("exported the access report"),
    }.get(action, action)


AUD = "aud"
LINES_PER_PAGE = 25
MAX_ENTRIES = 1000  # a case's whole log, for years of work


def _when(line: AuditLine, tz) -> str:  # noqa: ANN001
    if line.count == 1:
        return vi_datetime(line.latest, tz)
    return vi_datetime(line.earliest, tz)


def _line_text(line: AuditLine, trail: cases_service.AuditTrail, tz) -> str:  # noqa: ANN001
    entry = line.entry
    who = (esc(trail.names[entry.actor_user_id]) if entry.actor_user_id in trail.names
           else _("the reporter") if entry.action.startswith("report") else _("someone"))
    what = action_name(entry.action)
    if entry.action == "case_status_changed":
        what += f" ({status_name(entry.details.get('before'))} → " \
                f"{status_name(entry.details.get('after'))})"
    if entry.action == "case_viewed" and entry.details.get("with_reporter"):
        what += " " + _("(including who reported)")
    form = FORMS.get(entry.details.get("form")) if entry.action == "case_form_exported" else None
    if form is not None:
        what += f" ({form.number})"
    if line.count > 1:
        what += " " + _("({n} times, {first}–{last})").format(
            n=line.count, first=vi_time(line.earliest, tz), last=vi_time(line.latest, tz))
    return f"• {_when(line, tz)} · {who} · {what}"


@handles
async def audit_command(request: Request) -> list[Reply]:
    """/audit CODE: the newest entries first, repeated views as one line, a page at a time;
    names of members, never of citizens."""
    args = request.context.args or []
    if not args:
        return [Reply(_("Write /audit followed by the case code, for example: /audit ABCD-EFGH"))]
    return [await _audit_page(request, " ".join(args)[:20], 0, edit=False)]


@handles
async def audit_page(request: Request) -> Reply:
    """Another page of the audit log (permission checked again)."""
    return await _audit_page(request, request.callback.args[0], request.callback.int_arg(1),
                             edit=True)


async def _audit_page(request: Request, code_text: str, page: int, *, edit: bool) -> Reply:
    try:
        trail = await cases_service.audit_trail(request.actor, code_text, session=request.session,
                                                now=request.now, limit=MAX_ENTRIES)
    except NotFound:
        return Reply(unknown_case_code(code_text))
    tz = request.runtime.tz
    shown = page_of(group_repeated_views(trail.entries), page, LINES_PER_PAGE)
    header = _("🔍 <b>Audit log of case {code}</b> (newest first, at most {n})").format(
        code=trail.report.code, n=len(trail.entries))
    lines = [header, "", *[_line_text(line, trail, tz) for line in shown.items]]
    if shown.pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=shown.page + 1, pages=shown.pages)]
    rows = nav_row(shown, lambda n: cb.build(AUD, "p", trail.report.code, n))
    rows.append([(_("📁 Open the case"), card_button_data(trail.case_id))])
    return Reply("\n".join(lines), keyboard(rows), edit=edit)


def build_handlers() -> list[BaseHandler]:
    return [CommandHandler("audit", audit_command, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(audit_page, pattern=cb.pattern(AUD) + r"p:[A-Z0-9-]{9}:\d+$")]
