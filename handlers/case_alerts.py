"""The texts of pushed case messages: deadline alerts to whoever has the case, escalation of
overdue cases to the administrators, and each officer's morning digest."""

from __future__ import annotations

import datetime as dt

from bot.i18n import _, ngettext, vi_datetime, vi_duration
from domain.cases import AlertKind
from handlers.cases import open_as_new_data
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


DIGEST_BUTTONS = 8  # requests with a button of their own in a leader's digest


def render_digest(digest: Digest, *, now: dt.datetime, tz: dt.tzinfo) -> str:
    name = digest.member.display_name
    if digest.awaiting_approval and not (digest.overdue or digest.due_today):
        lines = [_("☀️ <b>Good morning, {name}.</b>").format(name=name)]
    else:
        lines = [_("☀️ <b>Good morning, {name}. Your cases today:</b>").format(name=name)]
    if digest.awaiting_approval:
        lines += _awaiting_lines(digest.awaiting_approval, now=now, tz=tz)
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


def _awaiting_lines(rows, *, now: dt.datetime, tz: dt.tzinfo) -> list[str]:  # noqa: ANN001
    """A leader's requests, oldest first: how long each has waited, and its deadline."""
    late = sum(1 for case, _r in rows if case.due_at is not None and case.due_at < now)
    title = _("Waiting for your approval ({n})").format(n=len(rows))
    if late:
        title += " · " + ngettext("{n} overdue", "{n} overdue", late).format(n=late)
    lines = ["", f"<b>⏳ {title}</b>"]
    for case, report in rows[:DIGEST_LINES]:
        waited = _("waiting {time}").format(time=vi_duration(now - case.approval_requested_at))
        if case.due_at is None:
            when = ""
        elif case.due_at < now:
            when = " · " + _("overdue by {late}").format(late=vi_duration(now - case.due_at))
        else:
            when = " · " + _("decide by {time}").format(time=vi_datetime(case.due_at, tz))
        lines.append(f"• {report.code} · {approval_kind_name(case.approval)} · {waited}{when}")
    if len(rows) > DIGEST_LINES:
        lines.append(_("… and {n} more.").format(n=len(rows) - DIGEST_LINES))
    return lines


def digest_buttons(digest: Digest) -> dict | None:
    """A leader's digest: a button to open each request waiting (the oldest first); the
    card opens as a new message, so the digest stays readable."""
    rows = digest.awaiting_approval[:DIGEST_BUTTONS]
    if not rows:
        return None
    buttons = [{"text": f"📁 {report.code}", "callback_data": open_as_new_data(case.id)}
               for case, report in rows]
    return {"inline_keyboard": [buttons[i:i + 2] for i in range(0, len(buttons), 2)]}
