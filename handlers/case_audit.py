"""/audit CODE: who saw and changed a case, for the administrators of its commune."""

from __future__ import annotations

from telegram.ext import BaseHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime
from domain.errors import NotFound
from handlers.cases import open_case_button
from handlers.common import Reply, Request, handles
from handlers.texts import chunks, esc, status_name, unknown_case_code
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
    }.get(action, action)


@handles
async def audit_command(request: Request) -> list[Reply]:
    """/audit CODE: the newest entries first; names of members, never of citizens."""
    args = request.context.args or []
    if not args:
        return [Reply(_("Write /audit followed by the case code, for example: /audit ABCD-EFGH"))]
    try:
        trail = await cases_service.audit_trail(request.actor, " ".join(args)[:20],
                                                session=request.session, now=request.now)
    except NotFound:
        return [Reply(unknown_case_code(" ".join(args)[:20]))]
    tz = request.runtime.tz
    lines = []
    for entry in trail.entries:
        who = (esc(trail.names[entry.actor_user_id]) if entry.actor_user_id in trail.names
               else _("the reporter") if entry.action.startswith("report") else _("someone"))
        what = action_name(entry.action)
        if entry.action == "case_status_changed":
            what += f" ({status_name(entry.details.get('before'))} → " \
                    f"{status_name(entry.details.get('after'))})"
        if entry.action == "case_viewed" and entry.details.get("with_reporter"):
            what += " " + _("(including who reported)")
        lines.append(f"• {vi_datetime(entry.at, tz)} · {who} · {what}")
    header = _("🔍 <b>Audit log of case {code}</b> (newest first, at most {n})").format(
        code=trail.report.code, n=len(trail.entries))
    replies = [Reply(text) for text in chunks(lines, header, sep="\n")]
    replies[-1].keyboard = open_case_button(trail.case_id)
    return replies


def build_handlers() -> list[BaseHandler]:
    return [CommandHandler("audit", audit_command, filters=filters.ChatType.PRIVATE)]
