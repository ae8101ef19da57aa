"""The texts of pushed case messages: deadline alerts to whoever has the case, escalation of
overdue cases to the administrators, and each officer's morning digest."""

from __future__ import annotations

import datetime as dt

from bot.i18n import _, ngettext, vi_datetime, vi_duration
from domain.cases import AlertKind
from handlers.texts import approval_kind_name, category_name, chunks, status_name
from services.cases import Alert, Digest

DIGEST_LINES = 25  # cases listed in one digest; the rest are counted


def render_alert(alert: Alert, *, now: dt.datetime, tz: dt.tzinfo) -> str:
    case, report = alert.case, alert.report
    due = vi_datetime(case.due_at, tz)
    step = status_name(case.status)
    if case.approval:  # the step is the commune leader's decision
        step = _("the commune leader's approval of {what}").format(
            what=approval_kind_name(case.approval))
    if alert.kind is AlertKind.DUE_SOON:
        head = _("⏰ <b>Case {code}: the step “{step}” is due {due}</b> ({left} left).").format(
            code=report.code, step=step, due=due, left=vi_duration(case.due_at - now))
    elif alert.kind is AlertKind.OVERDUE:
        head = _("❗ <b>Case {code} is overdue</b>: the step “{step}” was due {due}.").format(
            code=report.code, step=step, due=due)
    else:
        head = _("🔺 <b>Case {code} is overdue</b> (the step “{step}” was due {due}) and needs "
                 "an administrator's attention.").format(code=report.code, step=step, due=due)
    lines = [head, _("What: {category}").format(category=category_name(report.category))]
    if case.assigned_member_id is None:
        lines.append(_("Nobody has taken this case yet."))
    return "\n".join(lines)


def render_digest(digest: Digest, *, now: dt.datetime, tz: dt.tzinfo) -> str:
    lines = [_("☀️ <b>Good morning, {name}. Your cases today:</b>").format(
        name=digest.member.display_name)]
    shown = 0
    for title, rows in ((_("Overdue"), digest.overdue), (_("Due today"), digest.due_today)):
        if not rows:
            continue
        lines += ["", f"<b>{title} ({len(rows)})</b>"]
        for case, report in rows[:max(0, DIGEST_LINES - shown)]:
            left = case.due_at - now
            when = (_("overdue by {late}").format(late=vi_duration(-left)) if left.days < 0
                    or left.total_seconds() < 0 else
                    _("due {time}").format(time=vi_datetime(case.due_at, tz)))
            lines.append(f"• {report.code} · {status_name(case.status)} · {when}")
            shown += 1
    if digest.unassigned:
        lines += ["", ngettext("{n} case of the commune has not been taken by anyone.",
                               "{n} cases of the commune have not been taken by anyone.",
                               digest.unassigned).format(n=digest.unassigned)]
    if digest.register_overdue:
        lines += ["", ngettext("👧 {n} child on the register is overdue for the periodic "
                               "review: /tre, then “Review overdue”.",
                               "👧 {n} children on the register are overdue for the periodic "
                               "review: /tre, then “Review overdue”.",
                               digest.register_overdue).format(n=digest.register_overdue)]
    lines += ["", _("/cases shows the lists.")]
    return chunks(lines, "", sep="\n")[0]
