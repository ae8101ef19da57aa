"""Officers work a case from the chat: the new-report notice, taking a case, the card
(/case CODE) with the actions they are allowed, and what they type for a note, a reason
or a message to the reporter. Every press re-checks rights and the case's revision."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_duration
from domain.case_access import CaseRight
from domain.cases import (
    ALLOWED,
    MAX_RELAY_CHARS,
    ApprovalKind,
    CaseStatus,
    ChildSex,
    ClosureReason,
    HarmPlace,
    RequestOutcome,
    RiskLevel,
    SpecialGroup,
    approval_needed,
    clean_note,
)
from domain.errors import InvalidInput, NotFound
from domain.roles import Role
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard, message_for
from handlers.paging import nav_row, page_of
from handlers.texts import (
    age_name,
    approval_kind_name,
    category_name,
    channel_name,
    chunks,
    closure_name,
    count_name,
    esc,
    harm_place_name,
    map_link,
    move_label,
    numbered_choices,
    relation_name,
    risk_name,
    sex_name,
    special_group_label,
    special_group_name,
    status_name,
    unknown_case_code,
)
from services import cases as cases_service
from services import reports as service
from storage.models import PendingInput, Report
from storage.units import get_unit

log = logging.getLogger(__name__)

CS = "cs"
CF = "cf"  # the decree's forms (handlers/case_forms.py)
GROUPS = list(SpecialGroup)
NOTE_PREVIEW = 160  # characters of a note shown on the card


def view_button_data(case_id: int) -> str:
    return cb.build(CS, "view", case_id)


def card_button_data(case_id: int) -> str:
    return cb.build(CS, "card", case_id)


def case_buttons(case_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(_("✋ Take this case"), cb.build(CS, "take", case_id)),
                      (_("👁 View details"), view_button_data(case_id))]])


def open_case_button(case_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(_("📁 Open the case"), card_button_data(case_id))]])


def open_as_new_data(case_id: int) -> str:
    """The card as a new message: for a message that must stay readable (a request to the
    leader, a morning digest)."""
    return cb.build(CS, "open", case_id)


def open_as_new_button(case_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(_("📁 Open the case"), open_as_new_data(case_id))]])


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
        return _("shared location: {map}").format(map=map_link(report.latitude, report.longitude))
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
            code=details.report.code,
            name=esc(details.holder.display_name if details.holder else "?"))
    return [Reply(head), *await _detail_replies(request, details)]


@handles
async def view(request: Request) -> list[Reply]:
    """Shows the whole report to those who may read it (recorded in the audit log)."""
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
    for addition in details.additions:
        lines += ["", _("<b>Added by the reporter</b> ({when}):").format(
            when=vi_datetime(addition.created_at, tz)), esc(addition.text) or _("(photos only)")]
    if details.reporter is not None:
        r = details.reporter
        who = (_("anonymous") if r.anonymous
               else ", ".join(esc(x) for x in (r.name, r.phone) if x))
        if r.contact_withdrawn_at is not None:
            who = _("contact withdrawn at their request ({when}), cannot be reached").format(
                when=vi_datetime(r.contact_withdrawn_at, tz))
        lines += ["", _("Reporter (only you see this): {who}, {relation}").format(
            who=who, relation=relation_name(r.relation))]
    # "Take this case" only for who may take it (an agency member reading a referred case
    # may not: a button that could only refuse is not drawn).
    buttons = case_buttons(case.id) if case.assigned_member_id is None and details.can_take \
        else open_case_button(case.id)
    replies = [Reply(text) for text in chunks(lines[1:], lines[0], sep="\n")]
    replies[-1].keyboard = buttons
    total = len(details.media)
    for number, item in enumerate(details.media, start=1):  # each an outbox row, in order
        caption = _("{n}/{total} – case {code}").format(n=number, total=total,
                                                       code=details.report.code)
        await request.owe("media", {"type": item.kind, "file_id": item.file_id,
                                    "caption": caption})
    return replies


async def send_owed_media(bot, runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "media" rows: one photo, voice message or document, by its file_id."""
    payload = delivery.payload
    send = {"photo": bot.send_photo, "voice": bot.send_voice,
            "document": bot.send_document}[payload["type"]]
    message = await send(delivery.chat_id, payload["file_id"], caption=payload.get("caption"))
    return message.message_id


# --- the case card ----------------------------------------------------------------------


def deadline_text(due, now, tz) -> str:  # noqa: ANN001
    left = due - now
    if left.total_seconds() > 0:
        return _("Deadline of this step: {due} · {left} left").format(
            due=vi_datetime(due, tz), left=vi_duration(left))
    return _("Deadline of this step: {due} · overdue by {late}").format(
        due=vi_datetime(due, tz), late=vi_duration(-left))


def history_text(line: cases_service.HistoryLine, *, preview: int | None = NOTE_PREVIEW) -> str:
    """One history row in words (notes shortened on the card, whole in the history)."""
    event = line.event

    def cut(text: str | None) -> str:
        text = text or ""
        return esc(text if preview is None or len(text) <= preview else text[:preview] + "…")

    kind = event.kind
    if kind in ("status", "reopened") and event.from_status and event.to_status:
        what = f"{status_name(event.from_status)} → {status_name(event.to_status)}"
        if kind == "reopened":
            what = _("reopened: {move}").format(move=what)
        elif event.to_status == CaseStatus.CLOSED and event.note:
            what += " · " + closing_words(event.note, cut)
    elif kind == "opened":
        what = _("case opened")
    elif kind == "assigned":
        what = _("assigned to {name}").format(name=esc(line.member_name or "?"))
    elif kind == "referred":
        what = _("referred to {agency}").format(agency=esc(line.agency_name or "?"))
    elif kind == "risk":
        what = _("risk level: {change}").format(change=cut(_risk_change_words(event.note)))
    elif kind == "groups":
        sign, group = (event.note or "+?")[0], (event.note or "+?")[1:]
        name = special_group_name(group) if group in set(SpecialGroup) else "?"
        what = (_("special circumstances added: {group}") if sign == "+"
                else _("special circumstances removed: {group}")).format(group=name)
    elif kind == "note":
        what = _("📝 note: {text}").format(text=cut(event.note)) if event.note else _("📝 note")
        if event.file_id:
            what += " 📷"
    elif kind == "relay_out":
        what = _("✉️ to the reporter: {text}").format(text=cut(event.note))
    elif kind == "relay_in":
        what = _("💬 from the reporter: {text}").format(text=cut(event.note))
    elif kind == "addition":
        what = (_("📎 the reporter added: {text}").format(text=cut(event.note)) if event.note
                else _("📎 the reporter added information"))
        if event.media_kind:
            what += " 📷"
    elif kind == "escalated":
        what = _("escalated to the administrators")
    elif kind in ("approval_asked", "approved", "returned", "approval_pulled", "approval_back",
                  "approval_withdrawn"):  # the longer name: SQLite rows written before
        what = _approval_words(kind, event.note or "", cut)
    elif kind == "child_facts":
        what = _("child's sex / place of harm recorded")
    else:
        what = esc(kind)
    return what


def _approval_words(kind: str, note: str, cut: Callable[[str | None], str]) -> str:
    """'submitted to the leader: the support plan', 'returned by the leader: <comment>'."""
    head, _sep, comment = note.partition(": ")
    what = approval_kind_name(head) if head in set(ApprovalKind) else "?"
    words = {"approval_asked": _("submitted to the commune leader: {what}"),
             "approved": _("approved by the commune leader: {what}"),
             "returned": _("returned by the commune leader: {what}"),
             "approval_pulled": _("approval request withdrawn (emergency): {what}"),
             "approval_withdrawn": _("approval request withdrawn (emergency): {what}"),
             "approval_back": _("approval request withdrawn by the officer: {what}")}[kind]
    text = words.format(what=what)
    return f"{text} · {cut(comment)}" if comment else text


def closing_words(note: str, cut: Callable[[str | None], str] = esc) -> str:
    """A closing reason in words: one of the listed reasons, or the reason typed."""
    if note in {str(r) for r in ClosureReason} and note != ClosureReason.OTHER:
        return closure_name(note)
    return _("other reason: {text}").format(text=cut(note))


def _risk_change_words(note: str | None) -> str:
    """'high → low: reason' with the levels in words."""
    note = note or ""
    head, _sep, reason = note.partition(": ")
    before, _arrow, after = head.partition(" → ")
    words = f"{risk_name(None if before in ('', '-', 'None') else before)} → " \
            f"{risk_name(after) if after in set(RiskLevel) else '?'}"
    return f"{words}: {reason}" if reason else words


async def render_card(request: Request, card: cases_service.CaseCard) -> Reply:
    case, report, tz = card.case, card.report, request.runtime.tz
    lines = [(_("📁 <b>Case {code}</b> 🚨") if case.urgent else _("📁 <b>Case {code}</b>"))
             .format(code=report.code),
             _("Status: {status}").format(status=status_name(case.status)),
             _("Risk: {risk}").format(risk=risk_name(case.risk)),
             *await summary_lines(report, request.session, tz)]
    if report.channel != "telegram":
        lines.append(_("Came in by: {channel}").format(channel=channel_name(report.channel)))
    lines.append(_("Handled by: {name}").format(
        name=esc(card.holder.display_name) if card.holder else _("nobody yet")))
    if card.referrals:
        lines.append(_("Referred to: {agencies}").format(
            agencies=", ".join(esc(a.name) for a in card.referrals)))
    if case.special_groups:
        lines.append(_("Special circumstances: {groups}").format(
            groups="; ".join(special_group_name(g) for g in case.special_groups)))
    if case.child_sex or case.harm_place or case.risk:
        lines.append(_("Child's sex: {sex} · place of harm: {place}").format(
            sex=sex_name(case.child_sex), place=harm_place_name(case.harm_place)))
    lines.append(_("Approval by the commune leader: applies (Decree 56/2017, art. 28, 30)")
                 if card.approval_on else
                 _("Approval by the commune leader: switched off for this commune"))
    if case.approval:
        lines.append(_("⏳ Waiting for the commune leader: {what} (submitted {when})").format(
            what=approval_kind_name(case.approval),
            when=vi_datetime(case.approval_requested_at, tz)))
    if card.due is not None:
        lines.append(deadline_text(card.due, request.now, tz))
    if case.closure_reason:
        reason = closure_name(case.closure_reason)
        typed = next((h.event.note for h in card.history if h.event.kind == "status"
                      and h.event.to_status == CaseStatus.CLOSED), None)
        if case.closure_reason == ClosureReason.OTHER and typed:
            reason = closing_words(typed)
        lines.append(_("Closed: {reason}").format(reason=reason))
    if card.history:
        lines += ["", _("<b>Latest</b>")]
        lines += [f"• {vi_datetime(h.event.at, tz)} · {history_text(h)}" for h in card.history]
    return Reply("\n".join(lines), _card_buttons(card))


def _card_buttons(card: cases_service.CaseCard) -> InlineKeyboardMarkup:
    case, allowed = card.case, card.rights
    status, rev = CaseStatus(case.status), case.revision
    rows: list[list[tuple[str, str]]] = []
    if CaseRight.TAKE in allowed and case.assigned_member_id is None:
        rows.append([(_("✋ Take this case"), cb.build(CS, "take", case.id))])
    if CaseRight.APPROVE in allowed and case.approval:
        asked = request_rev(case)
        rows.append([(_("✅ Approve"), cb.build(CS, "apv", case.id, asked)),
                     (_("↩️ Return with a comment"), cb.build(CS, "ret", case.id, asked))])
    if card.can_withdraw:
        rows.append([(_("↩️ Withdraw the approval request"),
                      cb.build(CS, "wd", case.id, request_rev(case)))])
    if CaseRight.UPDATE in allowed:
        targets = sorted(ALLOWED[status] - {CaseStatus.CLOSED}, key=list(CaseStatus).index)
        if case.approval:  # waiting for the leader: only an emergency may not wait
            targets = [t for t in targets if t is CaseStatus.EMERGENCY]
        for t in targets:
            if approval_needed(status, t, approval_on=card.approval_on):
                rows.append([(_("📤 Submit the plan for approval"),
                              cb.build(CS, "sp", case.id, rev))])
            else:
                rows.append([(move_label(status, t), cb.build(CS, "go", case.id, rev, t))])
        if status is not CaseStatus.CLOSED:
            rows.append([(_("🧒 Child's sex and place of harm"),
                          cb.build(CS, "cf", case.id, rev))])
            if case.risk is None:
                rows.append([(f"⚠️ {risk_name(r)}", cb.build(CS, "rk", case.id, rev, r))
                             for r in RiskLevel])
            else:
                rows.append([(_("⚠️ Change the risk level"), cb.build(CS, "rkc", case.id, rev)),
                             (_("🏷 Special circumstances"), cb.build(CS, "sg", case.id, rev))])
    pair = []
    if CaseRight.ASSIGN in allowed:
        pair.append((_("👤 Assign"), cb.build(CS, "as", case.id, rev)))
    if CaseRight.REFER in allowed:
        pair.append((_("🔗 Refer to an agency"), cb.build(CS, "rf", case.id, rev)))
    if pair:
        rows.append(pair)
    # An internal note and a message to the reporter never share a row.
    if CaseRight.NOTE in allowed:
        rows.append([(_("📝 Add an internal note"), cb.build(CS, "nt", case.id))])
    if CaseRight.RELAY in allowed:
        rows.append([(_("✉️ Message the reporter"), cb.build(CS, "msg", case.id))])
    if CaseRight.UPDATE in allowed and CaseStatus.CLOSED in ALLOWED[status] \
            and not case.approval:
        label = (_("✅ Propose closing (for approval)")
                 if approval_needed(status, CaseStatus.CLOSED, approval_on=card.approval_on)
                 else _("✅ Close the case"))
        rows.append([(label, cb.build(CS, "cl", case.id, rev))])
    if CaseRight.EXPORT_FORMS in allowed:
        rows.append([(_("📄 Forms"), cb.build(CF, "ask", case.id))])
    if CaseRight.UPDATE in allowed:  # handlers/register.py answers it
        rows.append([(_("👧 Add to the register of children in special circumstances"),
                      cb.build("tre", "fc", case.id))])
    pair = [(_("📜 History"), cb.build(CS, "hist", case.id))]
    if CaseRight.VIEW_DETAILS in allowed:
        pair.append((_("👁 View details"), view_button_data(case.id)))
    rows.append(pair)
    return keyboard(rows)


def request_rev(case) -> int:  # noqa: ANN001
    """The revision a request's buttons carry: the case's when it was submitted."""
    return (case.approval_data or {}).get("rev", case.revision)


async def card_reply(request: Request, case_id: int, *, edit: bool, prefix: str = "") -> Reply:
    card = await cases_service.card(request.actor, case_id, session=request.session,
                                    now=request.now)
    reply = await render_card(request, card)
    return Reply(prefix + reply.text, reply.keyboard, edit=edit)


def changed_prefix() -> str:
    return _("This case has just changed. Here it is as it is now:") + "\n\n"


async def fresh_if_changed(request: Request, case_id: int,
                           action: Callable[[], Awaitable[Reply | list[Reply]]]
                           ) -> Reply | list[Reply]:
    """Run `action`; if the case changed since its button was drawn, show the case now."""
    try:
        return await action()
    except InvalidInput as problem:
        if problem.code != "case_changed":
            raise
        return await card_reply(request, case_id, edit=True, prefix=changed_prefix())


@handles
async def case_command(request: Request) -> Reply:
    """/case CODE: the case card with the actions this person may take."""
    args = request.context.args or []
    if not args:
        return Reply(_("Write /case followed by the case code, for example: /case ABCD-EFGH"))
    if request.actor.role is Role.CITIZEN:  # a reporter with their own code: no accusation
        return Reply(_("/case is for the commune's officers. To follow your report, use /status "
                       "with its tracking code, for example: /status ABCD-EFGH"))
    try:
        loaded = await cases_service.find_case(request.actor, " ".join(args)[:20],
                                               session=request.session)
    except NotFound:
        return Reply(unknown_case_code(" ".join(args)[:20]))
    return await card_reply(request, loaded.case.id, edit=False)


@handles
async def show_card(request: Request) -> Reply:
    return await card_reply(request, request.callback.int_arg(0), edit=True)


@handles
async def open_card(request: Request) -> Reply:
    """The card as a new message, under a message that stays (a request, a digest)."""
    return await card_reply(request, request.callback.int_arg(0), edit=False)


@handles
async def show_history(request: Request) -> list[Reply]:
    """The case's whole history (newest first), in as many messages as it needs."""
    case_id = request.callback.int_arg(0)
    card = await cases_service.card(request.actor, case_id, session=request.session,
                                    now=request.now, history=100)
    tz = request.runtime.tz
    header = _("📜 <b>History of case {code}</b>").format(code=card.report.code)
    lines = [f"• {vi_datetime(h.event.at, tz)} · {history_text(h, preview=600)}"
             for h in card.history]
    replies = [Reply(text) for text in chunks(lines, header, sep="\n")]
    replies[-1].keyboard = open_case_button(case_id)
    return replies


# --- status moves, closing, risk, special circumstances ----------------------------------


def _rev(request: Request) -> int:
    return request.callback.int_arg(1)


@handles
async def ask_move(request: Request) -> Reply:
    """Asks to confirm a status change."""
    case_id, rev, target = request.callback.int_arg(0), _rev(request), request.callback.args[2]

    async def confirm() -> Reply:
        loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                          session=request.session)
        if loaded.case.revision != rev:
            raise InvalidInput("case_changed")
        return Reply(_("Move the case from “{current}” to “{target}”?").format(
            current=status_name(loaded.case.status), target=status_name(target)), keyboard([
                [(_("Yes, move it"), cb.build(CS, "ok", case_id, rev, target))],
                [(_("No, back to the case"), card_button_data(case_id))]]), edit=True)

    return await fresh_if_changed(request, case_id, confirm)


@handles
async def ask_closure(request: Request) -> Reply:
    """Asks why the case is closed (the choice confirms it)."""
    case_id, rev = request.callback.int_arg(0), _rev(request)
    await cases_service.load(request.actor, case_id, CaseRight.UPDATE, session=request.session)
    rows = [[(closure_name(r), cb.build(CS, "ok", case_id, rev, CaseStatus.CLOSED, r))]
            for r in ClosureReason if r is not ClosureReason.OTHER]
    rows.append([(closure_name(ClosureReason.OTHER) + " ✍️", cb.build(CS, "clo", case_id, rev))])
    rows.append([(_("No, back to the case"), card_button_data(case_id))])
    return Reply(_("Why is the case closed?"), keyboard(rows), edit=True)


@handles
async def move(request: Request) -> Reply | list[Reply]:
    """Applies a confirmed status change, if the case is still as it was."""
    args = request.callback.args
    case_id = request.callback.int_arg(0)

    async def apply() -> Reply | list[Reply]:
        target = CaseStatus(args[2])
        reason = ClosureReason(args[3]) if len(args) > 3 else None
        try:
            case, moved = await cases_service.change_status(
                request.actor, case_id, revision=_rev(request), target=target,
                closure_reason=reason, session=request.session, now=request.now,
                config=request.runtime.case_config)
        except InvalidInput as problem:
            if problem.code != "approval_required" or target is not CaseStatus.CLOSED:
                raise
            return await _submit(request, case_id, _rev(request), target, closure_reason=reason,
                                 edit=True)
        if not moved:  # the same confirmation pressed again
            return Reply(_("The case is already at “{status}”.").format(
                status=status_name(case.status)))
        card = await card_reply(request, case_id, edit=True, prefix=_("Done.") + "\n\n")
        return [card, *await closing_notice(request, case_id)]

    return await fresh_if_changed(request, case_id, apply)


@handles
async def ask_first_risk(request: Request) -> Reply:
    """Asks to confirm the risk level found at the assessment (it sets the deadlines)."""
    case_id, rev, risk = request.callback.int_arg(0), _rev(request), request.callback.args[2]
    await cases_service.load(request.actor, case_id, CaseRight.UPDATE, session=request.session)
    return Reply(_("Record the risk level “{risk}” for this case? A high risk makes the next "
                   "steps due within hours.").format(risk=risk_name(risk)), keyboard([
        [(_("Yes, record it"), cb.build(CS, "rko", case_id, rev, risk))],
        [(_("No, back to the case"), card_button_data(case_id))]]), edit=True)


@handles
async def set_first_risk(request: Request) -> Reply:
    """Records the confirmed risk level found at the assessment."""
    case_id = request.callback.int_arg(0)

    async def apply() -> Reply:
        await cases_service.set_risk(request.actor, case_id, RiskLevel(request.callback.args[2]),
                                     revision=_rev(request), session=request.session,
                                     now=request.now, config=request.runtime.case_config)
        return await card_reply(request, case_id, edit=True)

    return await fresh_if_changed(request, case_id, apply)


@handles
async def ask_risk_change(request: Request) -> Reply:
    """Shows the levels to change to (a reason is asked next)."""
    case_id, rev = request.callback.int_arg(0), _rev(request)
    await cases_service.load(request.actor, case_id, CaseRight.UPDATE, session=request.session)
    rows = [[(f"⚠️ {risk_name(r)}", cb.build(CS, "rkr", case_id, rev, r)) for r in RiskLevel],
            [(_("No, back to the case"), card_button_data(case_id))]]
    return Reply(_("Change the risk level to:"), keyboard(rows), edit=True)


@handles
async def ask_risk_reason(request: Request) -> Reply:
    """Waits for the reason of a risk change."""
    case_id, rev, risk = request.callback.int_arg(0), _rev(request), request.callback.args[2]

    async def ask() -> Reply:
        loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                          session=request.session)
        if loaded.case.revision != rev:
            raise InvalidInput("case_changed")
        await cases_service.expect_input(request.user_id, "risk", session=request.session,
                                         now=request.now, case_id=case_id, revision=rev,
                                         data={"risk": RiskLevel(risk).value})
        return Reply(_("Why does the risk level change to “{risk}”? Please type the reason "
                       "in one message.").format(risk=risk_name(risk)), _cancel_input(), edit=True)

    return await fresh_if_changed(request, case_id, ask)


def _groups_keyboard(case_id: int, rev: int, chosen: list[str]) -> InlineKeyboardMarkup:
    rows = [[(("☑️ " if str(g) in chosen else "⬜ ") + special_group_label(g),
              cb.build(CS, "sgt", case_id, rev, index))] for index, g in enumerate(GROUPS)]
    rows.append([(_("✅ Done"), card_button_data(case_id))])
    return keyboard(rows)


def _groups_question() -> str:
    """The question, with the law's full wording of each group (buttons carry short labels)."""
    return "\n\n".join([
        _("Is the child in special circumstances (Law on Children, article 10)? "
          "Tick every group that applies."),
        "\n".join(f"• {special_group_name(g)}" for g in GROUPS)])


@handles
async def show_groups(request: Request) -> Reply:
    """The 14 groups of children in special circumstances, to tick."""
    case_id = request.callback.int_arg(0)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                      session=request.session)
    return Reply(_groups_question(),
                 _groups_keyboard(case_id, loaded.case.revision, loaded.case.special_groups),
                 edit=True)


@handles
async def toggle_group(request: Request) -> Reply:
    case_id, index = request.callback.int_arg(0), request.callback.int_arg(2)
    if not 0 <= index < len(GROUPS):
        raise InvalidInput("stale_step")

    async def apply() -> Reply:
        case = await cases_service.toggle_special_group(
            request.actor, case_id, GROUPS[index], revision=_rev(request),
            session=request.session, now=request.now)
        return Reply(_groups_question(),
                     _groups_keyboard(case_id, case.revision, case.special_groups), edit=True)

    return await fresh_if_changed(request, case_id, apply)


# --- assigning and referring ----------------------------------------------------------------


@handles
async def ask_assignee(request: Request) -> Reply:
    case_id, rev = request.callback.int_arg(0), _rev(request)
    members = await cases_service.assignable_members(request.actor, case_id,
                                                     session=request.session)
    rows = [[(m.display_name[:40], cb.build(CS, "aso", case_id, rev, m.id))] for m in members[:20]]
    rows.append([(_("No, back to the case"), card_button_data(case_id))])
    return Reply(_("Who should handle this case?"), keyboard(rows), edit=True)


@handles
async def assign(request: Request) -> list[Reply]:
    """Gives the case to the chosen officer and tells them."""
    case_id = request.callback.int_arg(0)

    async def apply() -> list[Reply]:
        case, member, changed = await cases_service.assign(
            request.actor, case_id, request.callback.int_arg(2), revision=_rev(request),
            session=request.session, now=request.now)
        card = await card_reply(request, case_id, edit=True, prefix=_(
            "Case assigned to {name}.").format(name=esc(member.display_name)) + "\n\n")
        replies = [card]
        if changed and member.telegram_user_id != request.user_id:
            loaded = await cases_service.load(request.actor, case_id, CaseRight.VIEW,
                                              session=request.session)
            replies.append(Reply(_("📌 You have been given case {code} to handle.").format(
                code=loaded.report.code) + "\n" + "\n".join(
                await summary_lines(loaded.report, request.session, request.runtime.tz)),
                open_case_button(case.id), chat_id=member.telegram_user_id))
        return replies

    return await fresh_if_changed(request, case_id, apply)


@handles
async def ask_agency(request: Request) -> Reply:
    case_id, rev = request.callback.int_arg(0), _rev(request)
    agencies = await cases_service.referable_agencies(request.actor, case_id,
                                                      session=request.session)
    if not agencies:
        return Reply(_("This case is already referred to every agency of the commune."),
                     open_case_button(case_id), edit=True)
    shown = page_of(agencies, request.callback.int_arg(2) if len(request.callback.args) > 2
                    else 0)
    labels, full_names = numbered_choices([a.name for a in shown.items], shown.first)
    rows = [[(label, cb.build(CS, "rfo", case_id, rev, a.id))]
            for label, a in zip(labels, shown.items, strict=True)]
    rows += nav_row(shown, lambda n: cb.build(CS, "rf", case_id, rev, n))
    rows.append([(_("No, back to the case"), card_button_data(case_id))])
    text = _("Refer the case to which agency? Its members will be told and will be able to "
             "see this case (and only this one).")
    return Reply(f"{text}\n\n{full_names}" if full_names else text, keyboard(rows), edit=True)


@handles
async def refer(request: Request) -> list[Reply]:
    """Refers the case and tells the agency's members."""
    case_id = request.callback.int_arg(0)

    async def apply() -> list[Reply]:
        referred = await cases_service.refer(request.actor, case_id, request.callback.int_arg(2),
                                             revision=_rev(request), session=request.session,
                                             now=request.now)
        head = (_("Case referred to {agency}.") if referred.new
                else _("The case was already referred to {agency}.")).format(
            agency=esc(referred.agency.name))
        if referred.new and not referred.notify_user_ids:
            head += " " + _("Nobody of that agency uses the bot yet: please call them.")
        replies = [await card_reply(request, case_id, edit=True, prefix=head + "\n\n")]
        if referred.new:
            text = "\n".join([_("🔗 <b>Case {code} has been referred to {agency}</b>").format(
                code=referred.report.code, agency=esc(referred.agency.name)),
                *await summary_lines(referred.report, request.session, request.runtime.tz), "",
                _("You can see this case and add notes to it.")])
            replies += [Reply(text, open_case_button(case_id), chat_id=user_id)
                        for user_id in referred.notify_user_ids]
        return replies

    return await fresh_if_changed(request, case_id, apply)


# --- typing: a note, a risk reason, a closing reason, a message to or from the reporter ----


def _cancel_input() -> InlineKeyboardMarkup:
    return keyboard([[(_("✖️ Cancel"), cb.build(CS, "x"))]])


@handles
async def ask_note(request: Request) -> Reply:
    case_id = request.callback.int_arg(0)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.NOTE,
                                      session=request.session)
    await cases_service.expect_input(request.user_id, "note", session=request.session,
                                     now=request.now, case_id=case_id)
    return Reply(_("📝 <b>INTERNAL NOTE</b> on case {code}\n\n"
                   "Type the note, or send a photo (with a caption if you like). Notes are "
                   "internal: the reporter never sees them.").format(code=loaded.report.code),
                 _cancel_input())


@handles
async def ask_closing_note(request: Request) -> Reply:
    case_id, rev = request.callback.int_arg(0), _rev(request)
    await cases_service.load(request.actor, case_id, CaseRight.UPDATE, session=request.session)
    await cases_service.expect_input(request.user_id, "close", session=request.session,
                                     now=request.now, case_id=case_id, revision=rev)
    return Reply(_("Please type why the case is closed, in one message."), _cancel_input(),
                 edit=True)


@handles
async def ask_relay(request: Request) -> Reply:
    case_id = request.callback.int_arg(0)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.RELAY,
                                      session=request.session)
    await cases_service.expect_input(request.user_id, "relay", session=request.session,
                                     now=request.now, case_id=case_id)
    return Reply(_("✉️ <b>A MESSAGE TO THE REPORTER</b> of case {code}\n\n"
                   "Type your message. You will see it before it is sent. The bot passes it on "
                   "without your name or account, and their answer comes back here. It also "
                   "becomes what they see with /status.").format(code=loaded.report.code),
                 _cancel_input())


def _relay_preview(code: str, case_id: int, text: str, version: int, *,
                   replaced: bool = False, edited: bool = False) -> Reply:
    head = _("✉️ <b>Check the message before it goes to the reporter of case {code}</b>")
    lines = [head.format(code=code), "", f"<blockquote>{esc(text)}</blockquote>", "",
             _("The reporter will see exactly this, without your name. Send it?")]
    if edited:
        lines.insert(0, _("✏️ I replaced the message with your edited text. Nothing has been "
                          "sent yet.") + "\n")
    elif replaced:
        lines.insert(0, _("I replaced the message with what you just typed.") + "\n")
    return Reply("\n".join(lines), keyboard([
        [(_("📨 Send"), cb.build(CS, "rs", case_id, version)),
         (_("✏️ Edit"), cb.build(CS, "re", case_id, version))],
        [(_("✖️ Cancel"), cb.build(CS, "x"))]]))


async def _relay_draft(request: Request, case_id: int) -> PendingInput | None:
    """This officer's message waiting for "Send" for this case and this preview, if any."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if (pending is None or pending.kind != "relay" or pending.case_id != case_id
            or not pending.data.get("text")
            or pending.data.get("v") != request.callback.int_arg(1)):
        return None
    return pending


def _new_version(pending: PendingInput) -> int:
    """A preview's number, never used before for this person: an old preview's "Send"
    (of a message dropped or replaced since) can never send a newer text."""
    previous = pending.data.get("v")
    while (version := secrets.randbelow(10**9)) == previous:
        pass
    return version


@handles
async def send_relay(request: Request) -> list[Reply]:
    """The officer confirmed the preview: the message goes to the reporter, once."""
    case_id = request.callback.int_arg(0)
    pending = await _relay_draft(request, case_id)
    if pending is None:
        return [Reply(_("This message was already sent, changed or cancelled. Nothing more "
                        "was sent."), open_case_button(case_id), edit=True)]
    relayed = await cases_service.relay_to_reporter(
        request.actor, case_id, pending.data["text"], session=request.session, now=request.now)
    await cases_service.drop_input(request.user_id, session=request.session)
    text = "\n".join([
        _("✉️ <b>A message from the officer handling your report {code}</b>").format(
            code=relayed.report.code), "", esc(relayed.case.public_note), "",
        _("You can answer with the button below. Your name is not shown to anyone else.")])
    markup = keyboard([[(_("↩️ Reply"), cb.build(CS, "rr", relayed.case.id))]])
    blocked = Reply(_("⚠️ The message could not be delivered: the person has blocked the bot "
                      "or deleted the chat. It is kept on the case."),
                    chat_id=request.update.effective_chat.id)
    return [Reply(_("✉️ Message sent to the reporter of case {code}:").format(
        code=relayed.report.code) + f"\n<blockquote>{esc(relayed.case.public_note)}</blockquote>",
        open_case_button(relayed.case.id), edit=True),
        Reply(text, markup, chat_id=relayed.to_user_id, on_failure=blocked, kind="relay")]


@handles
async def edit_relay(request: Request) -> Reply:
    """"Edit" on the preview: the message is typed again (nothing was sent)."""
    case_id = request.callback.int_arg(0)
    pending = await _relay_draft(request, case_id)
    if pending is None:
        return Reply(_("This message was already sent, changed or cancelled. Nothing more "
                       "was sent."), open_case_button(case_id), edit=True)
    pending.data = {"v": _new_version(pending)}
    await cases_service.save_input(pending, session=request.session)
    return Reply(_("Type the message to the reporter again. Nothing was sent."),
                 _cancel_input(), edit=True)


@handles
async def ask_reporter_reply(request: Request) -> Reply:
    """The reporter pressed "Reply" under an officer's message."""
    case_id = request.callback.int_arg(0)
    await cases_service.relay_target(request.user_id, case_id, session=request.session)
    await cases_service.expect_input(request.user_id, "reply", session=request.session,
                                     now=request.now, case_id=case_id)
    return Reply(_("Type your answer to the officer in one message. Your name and account "
                   "are not shown."), _cancel_input())


@handles
async def cancel_input(request: Request) -> Reply:
    await cases_service.drop_input(request.user_id, session=request.session)
    return Reply(_("Cancelled. Nothing was saved."), edit=True)


async def cancel_pending(request: Request) -> Reply | None:
    """/huy or /cancel while the bot waits for a note or a message: drop that first."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None:
        return None
    await cases_service.drop_input(request.user_id, session=request.session)
    return Reply(_("Cancelled. Nothing was saved."))


async def drop_pending(request: Request) -> None:
    await cases_service.drop_input(request.user_id, session=request.session)


async def take_case_input(request: Request) -> list[Reply] | None:
    """If the bot waits for this person to type something for a case, this message is it.
    None: nothing was waited for (the message is for someone else)."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None:
        return None
    handler = _INPUTS.get(pending.kind)
    if handler is None:
        return None
    message = request.update.effective_message
    split = message is not None and len(message.text or "") >= TELEGRAM_LIMIT
    if pending.kind not in KEPT_ARMED and (pending.data or {}).get("continued"):
        # The rest of a long message refused whole: not the answer either.
        pending.data = {**pending.data, "continued": split}
        await cases_service.save_input(pending, session=request.session)
        return [Reply(_("⚠️ This is the rest of the long message before, which was not "
                        "saved: this part was not saved either.") + "\n\n" + _(
            "Please shorten the whole text and send it again."), _cancel_input())]
    try:
        replies = await handler(request, pending, message)
    except InvalidInput as problem:
        if problem.code == "case_changed":
            await cases_service.drop_input(request.user_id, session=request.session)
            return [await card_reply(request, pending.case_id, edit=False,
                                     prefix=changed_prefix())]
        if split:  # Telegram sends the rest of this message as the next one
            pending.data = {**(pending.data or {}), "continued": True}
            await cases_service.save_input(pending, session=request.session)
        # Keep waiting: the person can fix what they typed.
        return [Reply(message_for(problem), _cancel_input())]
    if pending.kind not in KEPT_ARMED:
        await cases_service.drop_input(request.user_id, session=request.session)
    return replies


TELEGRAM_LIMIT = 4096  # Telegram splits a longer message into pieces of this length


def _text_of(message) -> str:  # noqa: ANN001
    if message.text is None:
        raise InvalidInput("text_expected")
    return message.text


async def _took_note(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    media = ("photo", message.photo[-1].file_id) if message.photo else None
    text = message.caption if media else _text_of(message)
    await cases_service.add_note(request.actor, pending.case_id, text, media=media,
                                 session=request.session, now=request.now)
    return [await card_reply(request, pending.case_id, edit=False,
                             prefix=_("📝 Note saved.") + "\n\n")]


async def _took_risk_reason(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    await cases_service.set_risk(request.actor, pending.case_id, RiskLevel(pending.data["risk"]),
                                 reason=_text_of(message), revision=pending.revision,
                                 session=request.session, now=request.now,
                                 config=request.runtime.case_config)
    return [await card_reply(request, pending.case_id, edit=False, prefix=_("Done.") + "\n\n")]


async def _took_closing_note(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    text = _text_of(message)
    try:
        _case, moved = await cases_service.change_status(
            request.actor, pending.case_id, revision=pending.revision, target=CaseStatus.CLOSED,
            closure_reason=ClosureReason.OTHER, note=text, session=request.session,
            now=request.now, config=request.runtime.case_config)
    except InvalidInput as problem:
        if problem.code != "approval_required":
            raise
        return await _submit(request, pending.case_id, pending.revision, CaseStatus.CLOSED,
                             closure_reason=ClosureReason.OTHER, text=text, edit=False)
    card = await card_reply(request, pending.case_id, edit=False, prefix=_("Done.") + "\n\n")
    return [card, *(await closing_notice(request, pending.case_id) if moved else [])]


async def closing_notice(request: Request, case_id: int) -> list[Reply]:
    """A closed case tells the citizen who reported it, in words for a citizen: no officer,
    no reason code; what to do if the danger comes back."""
    loaded = await cases_service.load(request.actor, case_id, CaseRight.VIEW,
                                      session=request.session)
    if CaseStatus(loaded.case.status) is not CaseStatus.CLOSED:
        return []
    reporter = loaded.scope.reporter_user_id
    if reporter is None or reporter == request.user_id:
        return []
    text = _("✅ <b>Your report {code} has been dealt with and is now closed.</b>\n\n"
             "Thank you for speaking up for a child. If the child is in danger again, call 111 "
             "(free, day and night) or 113 at once, or send a new report with /baotin.").format(
                 code=loaded.report.code)
    return [Reply(text, chat_id=reporter)]


async def _took_relay(request: Request, pending: PendingInput, message, *,  # noqa: ANN001
                     edited: bool = False) -> list[Reply]:
    """The officer typed the message: it waits for "Send" under a preview (typing again
    replaces it). Nothing reaches the reporter before the officer has seen it."""
    loaded = await cases_service.load(request.actor, pending.case_id, CaseRight.RELAY,
                                      session=request.session)
    text = clean_note(_text_of(message), limit=MAX_RELAY_CHARS)
    replaced = bool(pending.data.get("text"))
    version = _new_version(pending)
    pending.data = {"text": text, "v": version, "mid": message.message_id}
    await cases_service.save_input(pending, session=request.session)
    return [_relay_preview(loaded.report.code, pending.case_id, text, version,
                           replaced=replaced, edited=edited)]


async def _edited_relay(request: Request, pending: PendingInput,
                        message) -> list[Reply] | None:  # noqa: ANN001
    """The officer edits the message that waits under a preview: the preview takes the
    edited text (a new one: the old "Send" can no longer send the old words). None: the
    edit is of another message."""
    if not pending.data.get("text") or pending.data.get("mid") != message.message_id:
        return None
    try:
        return await _took_relay(request, pending, message, edited=True)
    except InvalidInput as problem:
        return [Reply(_("⚠️ Your edit cannot be used: {problem} The message waiting for "
                        "“Send” is still the one you first typed.").format(
            problem=message_for(problem)))]



async def _took_reporter_reply(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    return await _reporter_answer(request, pending.case_id, _text_of(message))


async def _reporter_answer(request: Request, case_id: int, text: str) -> list[Reply]:
    """The reporter's answer goes on the case and to the officer handling it."""
    relayed = await cases_service.reply_from_reporter(request.user_id, case_id, text,
                                                      session=request.session, now=request.now)
    code = relayed.report.code
    if relayed.to_user_id is None:
        return [Reply(_("Thank you. Your answer is saved on report {code}; an officer will "
                        "read it.").format(code=code))]
    body = "\n".join([_("💬 <b>The reporter of case {code} answered:</b>").format(code=code), "",
                      esc(clean_note(text, limit=MAX_RELAY_CHARS))])
    markup = keyboard([[(_("✉️ Answer"), cb.build(CS, "msg", relayed.case.id)),
                        (_("📁 Open the case"), card_button_data(relayed.case.id))]])
    return [Reply(_("Thank you. Your answer has been passed to the officer handling report "
                    "{code}.").format(code=code)),
            Reply(body, markup, chat_id=relayed.to_user_id)]


async def reporter_typed_answer(request: Request, text: str) -> list[Reply] | None:
    """A reporter typed without pressing "Reply": the answer belongs to the conversation it
    answers (Telegram's reply to the officer's message, or the only open one); with several,
    they choose. None: this person has no open conversation with an officer."""
    conversations = await service.open_conversations(request.user_id, session=request.session)
    if not conversations:
        return None
    replied = request.update.effective_message.reply_to_message
    quoted = (replied.text or replied.caption or "") if replied is not None else ""
    chosen = [case for case, report in conversations if report.code in quoted]
    if len(chosen) == 1 or len(conversations) == 1:
        case_id = (chosen or [conversations[0][0]])[0].id
        return await _reporter_answer(request, case_id, text)
    clean_note(text, limit=MAX_RELAY_CHARS)  # refuse a blank or too long answer now
    await cases_service.expect_input(request.user_id, "pick", session=request.session,
                                     now=request.now, data={"text": text})
    rows = [[(_("↩️ Report {code}").format(code=report.code), cb.build(CS, "rp", case.id))]
            for case, report in conversations[:8]]
    rows.append([(_("✖️ Cancel"), cb.build(CS, "x"))])
    return [Reply(_("Which report is your answer about?"), keyboard(rows))]


@handles
async def picked_conversation(request: Request) -> list[Reply]:
    """The reporter chose which report their typed answer is about."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None or pending.kind != "pick" or not pending.data.get("text"):
        return [Reply(_("This answer was already passed on or cancelled."), edit=True)]
    await cases_service.drop_input(request.user_id, session=request.session)
    replies = await _reporter_answer(request, request.callback.int_arg(0), pending.data["text"])
    replies[0].edit = True
    return replies


# --- the commune leader's approval (Decree 56/2017, Điều 28 and 30) ----------------------


@handles
async def ask_plan(request: Request) -> Reply:
    """Waits for the support plan to submit to the commune leader."""
    case_id, rev = request.callback.int_arg(0), _rev(request)

    async def ask() -> Reply:
        loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                          session=request.session)
        if loaded.case.revision != rev:
            raise InvalidInput("case_changed")
        await cases_service.expect_input(request.user_id, "plan", session=request.session,
                                         now=request.now, case_id=case_id, revision=rev)
        return Reply(_("📤 <b>THE SUPPORT PLAN</b> of case {code}, for the commune leader\n\n"
                       "Type the plan in one message: the child's needs, the support and "
                       "interventions, who does what, by when. The leader approves it or returns "
                       "it with a comment.").format(code=loaded.report.code), _cancel_input(),
                     edit=True)

    return await fresh_if_changed(request, case_id, ask)


async def _took_plan(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    return await _submit(request, pending.case_id, pending.revision, CaseStatus.SUPPORTING,
                         text=_text_of(message), edit=False)


async def _submit(request: Request, case_id: int, revision: int | None, target: CaseStatus, *,
                  closure_reason: ClosureReason | None = None, text: str = "",
                  edit: bool) -> list[Reply]:
    """Submits the plan or the closing proposal: the leaders' requests are outbox rows
    written with the change."""
    submitted = await cases_service.submit_approval(
        request.actor, case_id, revision=revision, target=target, text=text,
        closure_reason=closure_reason, session=request.session, now=request.now,
        config=request.runtime.case_config)
    head = _("📤 Submitted to the commune leader: {what}. You will be told of the decision.")
    if not submitted.leader_user_ids:
        head = _("📤 Submitted: {what}. No commune leader uses the bot yet: ask an "
                 "administrator to invite one (or to switch approval off in the set-up).")
    card = await card_reply(request, case_id, edit=edit, prefix=head.format(
        what=approval_kind_name(submitted.kind)) + "\n\n")
    notice = await approval_notice(request, submitted)
    return [card, *[Reply(notice.text, notice.keyboard, chat_id=user_id, kind="approval")
                     for user_id in submitted.leader_user_ids]]


async def approval_notice(request: Request, submitted: cases_service.Submitted) -> Notice:
    """What the commune leader receives: the plan or the closing proposal, and the buttons."""
    case, report, tz = submitted.case, submitted.report, request.runtime.tz
    data = case.approval_data or {}
    lines = [_("📝 <b>Waiting for your approval: {what} – case {code}</b>").format(
                 what=approval_kind_name(submitted.kind), code=report.code),
             *await summary_lines(report, request.session, tz),
             _("Risk: {risk}").format(risk=risk_name(case.risk))]
    if submitted.kind is ApprovalKind.PLAN:
        lines += ["", _("<b>The support plan:</b>"),
                  f"<blockquote>{esc(data.get('text') or '')}</blockquote>"]
    else:
        reason = data.get("reason") or ""
        lines += ["", _("<b>Proposed:</b> close the case. Reason: {reason}").format(
            reason=closing_words(data.get("text") or reason)
            if reason == ClosureReason.OTHER else closure_name(reason))]
    if case.due_at is not None:
        lines.append(_("Please decide by {due}.").format(due=vi_datetime(case.due_at, tz)))
    asked = request_rev(case)
    return Notice("\n".join(lines), keyboard([
        [(_("✅ Approve"), cb.build(CS, "apv", case.id, asked)),
         (_("↩️ Return with a comment"), cb.build(CS, "ret", case.id, asked))],
        [(_("📁 Open the case"), open_as_new_data(case.id))]]))


@handles
async def approve(request: Request) -> Reply | list[Reply]:
    """The leader approves what waits: the case moves on and the officer is told."""
    case_id = request.callback.int_arg(0)

    async def apply() -> list[Reply]:
        decided = await cases_service.decide_approval(
            request.actor, case_id, revision=_rev(request), approve=True,
            session=request.session, now=request.now, config=request.runtime.case_config)
        # A new message: the request above it keeps the plan the leader approved.
        return await _decided(request, decided, edit=False)

    return await _if_request_current(request, case_id, _rev(request), apply)


@handles
async def ask_return(request: Request) -> Reply:
    """Waits for the leader's comment on what is returned."""
    case_id, rev = request.callback.int_arg(0), _rev(request)

    async def ask() -> Reply:
        loaded = await cases_service.load(request.actor, case_id, CaseRight.APPROVE,
                                          session=request.session)
        if not loaded.case.approval or request_rev(loaded.case) != rev:
            raise InvalidInput("case_changed")
        await cases_service.expect_input(request.user_id, "return", session=request.session,
                                         now=request.now, case_id=case_id, revision=rev)
        return Reply(_("↩️ Returning {what} of case {code}. Type your comment in one message: "
                       "what should be changed?").format(
            what=approval_kind_name(loaded.case.approval), code=loaded.report.code),
            _cancel_input())  # the request stays readable above

    return await _if_request_current(request, case_id, rev, ask)


async def _took_return(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    try:
        decided = await cases_service.decide_approval(
            request.actor, pending.case_id, revision=pending.revision, approve=False,
            comment=_text_of(message), session=request.session, now=request.now,
            config=request.runtime.case_config)
    except InvalidInput as problem:
        if problem.code not in ("case_changed", "no_approval_pending"):
            raise
        # Withdrawn or decided while the leader typed: say so; the comment goes nowhere.
        return [await _request_gone(request, pending.case_id, pending.revision)]
    return await _decided(request, decided, edit=False)


async def _if_request_current(request: Request, case_id: int, rev: int,
                              action: Callable[[], Awaitable[Reply | list[Reply]]]
                              ) -> Reply | list[Reply]:
    """Run a leader's action on the request drawn at `rev`; if that request no longer
    waits, the request message stays as it is (only its decision buttons go) and a new
    message says what became of it."""
    try:
        return await action()
    except InvalidInput as problem:
        if problem.code not in ("case_changed", "no_approval_pending"):
            raise
    return [Reply("", open_as_new_button(case_id), edit=True, keyboard_only=True),
            await _request_gone(request, case_id, rev)]


def _outcome_words(outcome: cases_service.Outcome, tz) -> str:  # noqa: ANN001
    """How a request ended, in one sentence (who, when)."""
    when = vi_datetime(outcome.at, tz) if outcome.at else "?"
    name = esc(outcome.by_name) if outcome.by_name else None
    if outcome.outcome is RequestOutcome.APPROVED:
        return _("It was approved by {who} at {when}.").format(
            who=name or _("the commune leader"), when=when)
    if outcome.outcome is RequestOutcome.RETURNED:
        return _("It was returned with a comment by {who} at {when}.").format(
            who=name or _("the commune leader"), when=when)
    if outcome.outcome is RequestOutcome.WITHDRAWN:
        return _("It was withdrawn by {who} at {when}: there is nothing to decide.").format(
            who=name or _("the officer"), when=when)
    if outcome.outcome is RequestOutcome.EMERGENCY:
        return _("It was withdrawn at {when}: the case went to emergency intervention.").format(
            when=when)
    return _("It has been decided or withdrawn since.")


async def _request_gone(request: Request, case_id: int, rev: int) -> Reply:
    """A new message: what became of the request drawn at `rev`. Nothing was changed."""
    outcome = await cases_service.request_outcome(request.actor, case_id, rev,
                                                  session=request.session)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.VIEW,
                                      session=request.session)
    what = approval_kind_name(outcome.kind) if outcome.kind else _("this request")
    lines = [_("ℹ️ <b>This request ({what}, case {code}) no longer waits for a "
               "decision.</b>").format(what=what, code=loaded.report.code),
             _outcome_words(outcome, request.runtime.tz), _("Nothing was changed.")]
    if outcome.newer_waits:
        lines.append(_("A newer request of this case waits for a decision: open the case to "
                       "see it."))
    return Reply("\n".join(lines), open_as_new_button(case_id))


# --- withdrawing a request (the officer who submitted it) --------------------------------


@handles
async def ask_withdraw(request: Request) -> Reply | list[Reply]:
    """Asks the officer to confirm taking the request back from the leader."""
    case_id, rev = request.callback.int_arg(0), _rev(request)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                      session=request.session)
    case = loaded.case
    if not case.approval or request_rev(case) != rev:
        return await _withdraw_gone(request, case_id, rev)
    if (case.approval_data or {}).get("by") not in (None, request.user_id):
        raise InvalidInput("withdraw_not_yours")
    return Reply(_("↩️ Withdraw {what} of case {code} from the commune leader?\n\nThe case "
                   "stays at “{status}” with that step's deadline; the leader is told there is "
                   "nothing to decide. You can change it and submit it again.").format(
        what=approval_kind_name(case.approval), code=loaded.report.code,
        status=status_name(case.status)), keyboard([
            [(_("Yes, withdraw it"), cb.build(CS, "wdo", case_id, rev))],
            [(_("No, back to the case"), card_button_data(case_id))]]), edit=True)


@handles
async def withdraw(request: Request) -> Reply | list[Reply]:
    """Takes the request back: the case stays at its step; the leaders are told."""
    case_id, rev = request.callback.int_arg(0), _rev(request)
    try:
        withdrawn = await cases_service.withdraw_approval(
            request.actor, case_id, revision=rev, session=request.session, now=request.now,
            config=request.runtime.case_config)
    except InvalidInput as problem:
        if problem.code not in ("case_changed", "no_approval_pending"):
            raise
        return await _withdraw_gone(request, case_id, rev)
    what, code = approval_kind_name(withdrawn.kind), withdrawn.report.code
    if withdrawn.already:  # the confirmation pressed twice
        return await card_reply(request, case_id, edit=True, prefix=_(
            "You have already withdrawn {what} of case {code}. Nothing was changed.").format(
                what=what, code=code) + "\n\n")
    card = await card_reply(request, case_id, edit=True, prefix=_(
        "↩️ Withdrawn: {what} of case {code}. The case is back at “{status}”; change it and "
        "submit it again when it is ready.").format(
            what=what, code=code, status=status_name(withdrawn.case.status)) + "\n\n")
    name = await cases_service.member_name(request.user_id, session=request.session)
    told = _("↩️ <b>{name} withdrew {what} of case {code}</b>, which was waiting for your "
             "approval. There is nothing to decide now; if it is submitted again, you will "
             "receive it again.").format(name=esc(name or _("The officer")), what=what,
                                        code=code)
    return [card, *[Reply(told, open_as_new_button(case_id), chat_id=user_id, kind="approval")
                    for user_id in withdrawn.leader_user_ids]]


async def _withdraw_gone(request: Request, case_id: int, rev: int) -> Reply:
    """The request to withdraw no longer waits (decided, or withdrawn): say how, and show
    the case as it is now."""
    outcome = await cases_service.request_outcome(request.actor, case_id, rev,
                                                  session=request.session)
    if outcome.outcome is RequestOutcome.WITHDRAWN:
        head = _("This request has already been withdrawn. Nothing was changed.")
    else:
        head = _("This request no longer waits for the commune leader, so there is nothing "
                 "to withdraw.") + " " + _outcome_words(outcome, request.runtime.tz)
    return await card_reply(request, case_id, edit=True, prefix=head + "\n\n")


async def _decided(request: Request, decided: cases_service.Decided, *,
                   edit: bool) -> list[Reply]:
    what, code = approval_kind_name(decided.kind), decided.report.code
    if decided.approved:
        head = _("✅ Approved: {what} of case {code}.")
        told = _("✅ <b>The commune leader approved {what} of case {code}.</b>")
    else:
        head = _("↩️ Returned: {what} of case {code}, with your comment.")
        told = _("↩️ <b>The commune leader returned {what} of case {code}.</b>")
    lines = [told.format(what=what, code=code)]
    if decided.comment:
        lines += [_("Comment:"), f"<blockquote>{esc(decided.comment)}</blockquote>"]
    if not decided.approved:
        lines.append(_("Change it and submit it again from the case card."))
    card = await card_reply(request, decided.case.id, edit=edit,
                            prefix=head.format(what=what, code=code) + "\n\n")
    replies = [card, *[Reply("\n".join(lines), open_case_button(decided.case.id),
                             chat_id=user_id, kind="approval")
                       for user_id in decided.notify_user_ids]]
    if decided.approved:
        replies += await closing_notice(request, decided.case.id)
    return replies


# --- the child's sex and the place of harm (asked at the assessment) ---------------------


def _facts_screen(case_id: int, rev: int, sex: str | None, place: str | None) -> Reply:
    def mark(on: bool) -> str:
        return "☑️ " if on else ""

    rows = [[(mark(sex == s) + sex_name(s), cb.build(CS, "cfs", case_id, rev, s))
             for s in ChildSex]]
    places = [(mark(place == p) + harm_place_name(p), cb.build(CS, "cfp", case_id, rev, p))
              for p in HarmPlace]
    rows += [places[:3], places[3:]]
    rows.append([(_("✅ Done"), card_button_data(case_id))])
    return Reply(_("🧒 <b>The child's sex and where the harm happened</b> (for the official "
                   "figures, Circular 13/2021)\n\nSex: {sex}\nPlace of harm: {place}").format(
        sex=sex_name(sex), place=harm_place_name(place)), keyboard(rows), edit=True)


@handles
async def show_facts(request: Request) -> Reply:
    case_id = request.callback.int_arg(0)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.UPDATE,
                                      session=request.session)
    case = loaded.case
    return _facts_screen(case_id, case.revision, case.child_sex, case.harm_place)


@handles
async def set_facts(request: Request) -> Reply:
    """Records the sex or the place pressed, and shows the choices again."""
    case_id, action, value = (request.callback.int_arg(0), request.callback.action,
                              request.callback.args[2])

    async def apply() -> Reply:
        case = await cases_service.set_child_facts(
            request.actor, case_id, revision=_rev(request),
            sex=ChildSex(value) if action == "cfs" else None,
            place=HarmPlace(value) if action == "cfp" else None,
            session=request.session, now=request.now)
        return _facts_screen(case_id, case.revision, case.child_sex, case.harm_place)

    return await fresh_if_changed(request, case_id, apply)


# Inputs that stay armed after a message: a case being opened (several answers) and a
# message to a reporter (waits for "Send" under its preview).
KEPT_ARMED = {"open", "relay"}

_INPUTS: dict[str, Callable[..., Awaitable[list[Reply]]]] = {
    "plan": _took_plan,
    "return": _took_return,
    "note": _took_note,
    "risk": _took_risk_reason,
    "close": _took_closing_note,
    "relay": _took_relay,
    "reply": _took_reporter_reply,
}


# How an armed input takes an edit of one of the person's earlier messages (Telegram sends
# an edit as an update of its own; see handlers/edits.py). A handler returns None when the
# edited message is not one it took: the edit then changes nothing, with a word.
_EDITS: dict[str, Callable[..., Awaitable[list[Reply] | None]]] = {"relay": _edited_relay}


def register_input(kind: str, handler: Callable[..., Awaitable[list[Reply]]], *,
                   keep_armed: bool = False,
                   on_edit: Callable[..., Awaitable[list[Reply] | None]] | None = None) -> None:
    """Other flows (opening a case, the register) add what they wait for; `keep_armed`: the
    input stays after a message (the handler drops it when the flow ends); `on_edit`: how
    an edit of a message this input took is applied (by default it is not)."""
    _INPUTS[kind] = handler
    if keep_armed:
        KEPT_ARMED.add(kind)
    if on_edit is not None:
        _EDITS[kind] = on_edit


async def take_case_edit(request: Request) -> list[Reply] | None:
    """An edited message, offered to the armed input's own edit rule (the round's form, a
    message to a reporter waiting under its preview). None: not one it applies."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    handler = _EDITS.get(pending.kind) if pending is not None else None
    if handler is None:
        return None
    return await handler(request, pending, request.update.effective_message)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(CS)
    statuses = "|".join(CaseStatus)
    risks = "|".join(RiskLevel)
    sexes, places = "|".join(ChildSex), "|".join(HarmPlace)
    return [
        CommandHandler("case", case_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(take, pattern=p + r"take:\d+$"),
        CallbackQueryHandler(view, pattern=p + r"view:\d+$"),
        CallbackQueryHandler(show_card, pattern=p + r"card:\d+$"),
        CallbackQueryHandler(open_card, pattern=p + r"open:\d+$"),
        CallbackQueryHandler(show_history, pattern=p + r"hist:\d+$"),
        CallbackQueryHandler(ask_move, pattern=p + rf"go:\d+:\d+:({statuses})$"),
        CallbackQueryHandler(ask_closure, pattern=p + r"cl:\d+:\d+$"),
        CallbackQueryHandler(ask_closing_note, pattern=p + r"clo:\d+:\d+$"),
        CallbackQueryHandler(move, pattern=p + rf"ok:\d+:\d+:({statuses})(:[a-z_]+)?$"),
        CallbackQueryHandler(ask_first_risk, pattern=p + rf"rk:\d+:\d+:({risks})$"),
        CallbackQueryHandler(set_first_risk, pattern=p + rf"rko:\d+:\d+:({risks})$"),
        CallbackQueryHandler(ask_risk_change, pattern=p + r"rkc:\d+:\d+$"),
        CallbackQueryHandler(ask_risk_reason, pattern=p + rf"rkr:\d+:\d+:({risks})$"),
        CallbackQueryHandler(show_groups, pattern=p + r"sg:\d+:\d+$"),
        CallbackQueryHandler(toggle_group, pattern=p + r"sgt:\d+:\d+:\d+$"),
        CallbackQueryHandler(ask_assignee, pattern=p + r"as:\d+:\d+$"),
        CallbackQueryHandler(assign, pattern=p + r"aso:\d+:\d+:\d+$"),
        CallbackQueryHandler(ask_agency, pattern=p + r"rf:\d+:\d+(:\d+)?$"),
        CallbackQueryHandler(refer, pattern=p + r"rfo:\d+:\d+:\d+$"),
        CallbackQueryHandler(ask_note, pattern=p + r"nt:\d+$"),
        CallbackQueryHandler(ask_relay, pattern=p + r"msg:\d+$"),
        CallbackQueryHandler(send_relay, pattern=p + r"rs:\d+:\d+$"),
        CallbackQueryHandler(edit_relay, pattern=p + r"re:\d+:\d+$"),
        CallbackQueryHandler(ask_reporter_reply, pattern=p + r"rr:\d+$"),
        CallbackQueryHandler(picked_conversation, pattern=p + r"rp:\d+$"),
        CallbackQueryHandler(ask_plan, pattern=p + r"sp:\d+:\d+$"),
        CallbackQueryHandler(approve, pattern=p + r"apv:\d+:\d+$"),
        CallbackQueryHandler(ask_return, pattern=p + r"ret:\d+:\d+$"),
        CallbackQueryHandler(ask_withdraw, pattern=p + r"wd:\d+:\d+$"),
        CallbackQueryHandler(withdraw, pattern=p + r"wdo:\d+:\d+$"),
        CallbackQueryHandler(show_facts, pattern=p + r"cf:\d+:\d+$"),
        CallbackQueryHandler(set_facts, pattern=p + rf"cfs:\d+:\d+:({sexes})$"),
        CallbackQueryHandler(set_facts, pattern=p + rf"cfp:\d+:\d+:({places})$"),
        CallbackQueryHandler(cancel_input, pattern=p + r"x$"),
    ]
