"""The report round in the chat: /baocao.

An agency member gets their agency's part: one question per target (typed number with the
unit checked, or yes/no buttons), then "kết quả nổi bật" and "khó khăn, kiến nghị", a review
and Send; they may save and come back, and correct a sent part until the officer locks the
round. The officer gets the board: sent / draft / not started per agency, one-tap
reminders, and the lock, which sends the compiled XLSX and DOCX."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_date
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.roles import AgencyKind, Role
from domain.targets import Stage, Unit, format_value, parse_value, rule_text
from handlers import callback_data as cb
from handlers import cases as case_handlers
from handlers.common import Reply, Request, handles, keyboard
from handlers.texts import button_label, esc
from services import cases as cases_service
from services import round_export
from services import rounds as service
from services.identity import resolve_actor
from storage.models import Agency, PendingInput, ReportRound

log = logging.getLogger(__name__)

BR = "br"
INPUT = "round"
TEXT_PREVIEW = 300
MAX_CHARS = 4000


def fit(lines: list[str]) -> str:
    """Whole lines up to Telegram's limit (never a cut tag or entity), "…" if some are left."""
    text = "\n".join(lines)
    while len(text) > MAX_CHARS and len(lines) > 1:
        lines = [*lines[:-2], "…"]
        text = "\n".join(lines)
    return text


# --- texts ------------------------------------------------------------------------------


def unit_hint(unit: Unit) -> str:
    return {
        Unit.PERCENT: _("a percentage from 0 to 100, e.g. 98,5"),
        Unit.PER_MILLE: _("a rate per thousand from 0 to 1.000, e.g. 4,8"),
        Unit.COUNT: _("a whole number, e.g. 12"),
        Unit.PER_100K: _("a rate per 100.000 children, e.g. 550"),
        Unit.YES_NO: _("Có or Không"),
    }[unit]


def line_text(line: service.TargetLine) -> str:
    spec = line.spec
    value = format_value(spec.unit, line.value) or "—"
    parts = [_("<b>{number}.</b> {value}").format(number=esc(spec.number), value=esc(value))]
    goal = rule_text(spec.rule, spec.unit, line.goal)
    if goal:
        parts.append(_("target {goal}").format(goal=esc(goal)))
    if line.last is not None:
        parts.append(_("last period {value}").format(value=esc(format_value(spec.unit,
                                                                           line.last))))
    return " · ".join(parts)


def request_text(request: service.AgencyRequest) -> str:
    round_ = request.round
    head = {
        Stage.OPEN: _("📋 <b>{report} {year}</b>: please send the part of {agency} by "
                      "{date}."),
        Stage.D3: _("⏰ <b>{report} {year}</b>: 3 working days left. {agency} has not sent "
                    "its part yet (due {date})."),
        Stage.D1: _("⏰ <b>{report} {year}</b>: due tomorrow ({date}). {agency} has not sent "
                    "its part yet."),
        Stage.D0: _("⏰ <b>{report} {year}</b>: due today ({date}). {agency} has not sent its "
                    "part yet."),
    }.get(request.stage, _("📋 <b>{report} {year}</b>: please send the part of {agency} by "
                           "{date}."))
    lines = [head.format(report=esc(round_.name), year=round_.year,
                         agency=esc(request.agency.name), date=vi_date(round_.collect_on)),
             "", _("Your targets:")]
    lines += [line_text(line) for line in request.lines]
    lines += ["", _("Press the button to fill it in here, one question at a time (members "
                    "of the agency: in your private chat with me, /baocao).")]
    return fit(lines)


def request_markup(request: service.AgencyRequest) -> InlineKeyboardMarkup:
    return keyboard([[(_("📝 Fill in the report"),
                       cb.build(BR, "p", request.round.id, request.agency.id))]])


def render_request(request: service.AgencyRequest) -> tuple[str, dict]:
    return request_text(request), request_markup(request).to_dict()


def render_late(round_: ReportRound, late: list[Agency]) -> str:
    names = "\n".join(f"• {esc(agency.name)}" for agency in late)
    return _("⚠️ <b>{report} {year}</b>: the collection date ({date}) has passed and these "
             "agencies have not sent their part:\n{names}\n\nSee /baocao.").format(
        report=esc(round_.name), year=round_.year, date=vi_date(round_.collect_on),
        names=names)


# --- the agency's form ------------------------------------------------------------------


def _questions(view: service.PartView) -> int:
    return len(view.lines) + 2  # the targets, then the two texts


def _form_row(part_id: int) -> list[tuple[str, str]]:
    return [(_("📋 Review"), cb.build(BR, "rv", part_id)),
            (_("💾 Save, finish later"), cb.build(BR, "sv", part_id))]


def first_unanswered(view: service.PartView) -> int | None:
    """The first question with nothing saved (a target without a value, then the texts),
    or None when everything is answered."""
    for index, line in enumerate(view.lines):
        if line.value is None:
            return index
    for offset, which in enumerate(service.TEXTS):
        if getattr(view.part, which) is None:
            return len(view.lines) + offset
    return None


async def resume(request: Request, view: service.PartView) -> Reply:
    """Where a member coming back to the part lands: the first unanswered question of a
    draft (after "Save, finish later" too), or the review once everything is answered, the
    part is sent, or the round is locked."""
    index = first_unanswered(view)
    if view.part.status == "sent" or view.round.status != "open" or index is None:
        return review(view)
    answered = sum(line.value is not None for line in view.lines) + sum(
        getattr(view.part, which) is not None for which in service.TEXTS)
    prefix = (_("▶️ Continuing where you left off: {n} of {total} questions answered "
                "(📋 Review shows them).").format(n=answered, total=_questions(view)) + "\n\n"
              if answered else "")
    return await ask(request, view, index, prefix=prefix)


def question_code(view: service.PartView, index: int) -> str | None:
    """What question `index` asks about: a target's code, or "highlights"/"difficulties"."""
    if 0 <= index < len(view.lines):
        return view.lines[index].target.code
    if len(view.lines) <= index < _questions(view):
        return service.TEXTS[index - len(view.lines)]
    return None


async def ask(request: Request, view: service.PartView, index: int, *,
              prefix: str = "", taken: int = 0, continued: bool = False) -> Reply:
    """Asks question `index` of the part (and waits for the typed answer). For a text,
    `taken` counts the messages already taken on this visit (the next one is added to
    them); `continued`: the last message was refused at Telegram's length limit, so the
    next one is the rest of it."""
    part = view.part
    total = _questions(view)
    if index >= total:
        await _disarm(request)
        return review(view, prefix=prefix)
    data = {"part": part.id, "q": index, "code": question_code(view, index)}
    if answered := await _answered_messages(request, part.id):
        data["answered"] = answered
    if taken:
        data["taken"] = taken
    if continued:
        data["continued"] = True
    await cases_service.expect_input(request.user_id, INPUT, session=request.session,
                                     now=request.now, data=data)
    step = _("Question {n}/{total}").format(n=index + 1, total=total)
    skip = (_("⏭ Skip"), cb.build(BR, "q", part.id, index + 1))
    if index < len(view.lines):
        line = view.lines[index]
        spec = line.spec
        lines = [prefix + f"<b>{esc(view.agency.name)}</b> · {step}", "",
                 _("<b>Target {number}.</b> {name}").format(number=esc(spec.number),
                                                             name=esc(spec.name))]
        if spec.title:
            lines.append(_("(one of the rates of target {number}: {title})").format(
                number=esc(spec.number.rstrip("abcdefghijklmnopqrstuvwxyz")),
                title=esc(spec.title[:TEXT_PREVIEW])))
        lines.append("")
        goal = rule_text(spec.rule, spec.unit, line.goal)
        if goal:
            lines.append(_("Target for {year}: {goal}").format(year=view.round.year,
                                                              goal=esc(goal)))
        lines.append(_("Last period: {value}").format(
            value=esc(format_value(spec.unit, line.last)) if line.last is not None
            else _("no figure")))
        if line.value is not None:
            lines.append(_("Your answer now: {value}").format(
                value=esc(format_value(spec.unit, line.value))))
        lines += ["", _("Type the figure: {hint}.").format(hint=unit_hint(spec.unit))
                  if spec.unit is not Unit.YES_NO else _("Choose an answer.")]
        rows = []
        if spec.unit is Unit.YES_NO:
            rows.append([(_("✅ Có"), cb.build(BR, "yn", part.id, index, 1)),
                         (_("❌ Không"), cb.build(BR, "yn", part.id, index, 0))])
        rows += [[skip], _form_row(part.id)]
        return Reply("\n".join(lines), keyboard(rows))
    which = service.TEXTS[index - len(view.lines)]
    current = getattr(part, which)
    title = (_("<b>Notable results</b> (kết quả nổi bật): type a short text.")
             if which == "highlights" else
             _("<b>Difficulties and proposals</b> (khó khăn, kiến nghị): type a short text."))
    lines = [prefix + f"<b>{esc(view.agency.name)}</b> · {step}", "", title,
             _("At most 2.000 characters in all.") if not taken else
             _("You may add more in another message ({n}/2.000 characters so far), or go "
               "on.").format(n=f"{len(current or ''):,}".replace(",", "."))]
    if current:
        lines += ["", _("Now: {text}").format(text=esc(current[:TEXT_PREVIEW]))]
    if current:
        skip = (_("➡️ Next"), cb.build(BR, "q", part.id, index + 1))
    return Reply("\n".join(lines), keyboard([[skip], _form_row(part.id)]))


def review(view: service.PartView, *, prefix: str = "") -> Reply:
    part = view.part
    status = {"sent": _("sent"), "draft": _("draft, not sent yet")}[part.status]
    lines = [prefix + _("📋 <b>{agency}</b>: {report} {year} ({status})").format(
        agency=esc(view.agency.name), report=esc(view.round.name), year=view.round.year,
        status=status), ""]
    lines += [line_text(line) for line in view.lines]
    missing = sum(line.value is None for line in view.lines)
    if missing:
        lines += ["", _("Not answered yet: {n} target(s).").format(n=missing)]
    for which, title in (("highlights", _("Notable results")),
                         ("difficulties", _("Difficulties and proposals"))):
        text = getattr(part, which)
        lines += ["", f"<b>{title}:</b> " + (esc(text[:TEXT_PREVIEW]) if text else "—")]
    if view.round.status != "open":
        lines += ["", _("🔒 The round is locked: nothing can be changed any more.")]
        return Reply(fit(lines))
    send_label = _("📤 Send the corrections") if part.status == "sent" else _("📤 Send")
    start = first_unanswered(view) or 0  # continues at the first unanswered question
    rows = [[(_("✏️ Change answers"), cb.build(BR, "q", part.id, start))]]
    if start:
        rows[0].append((_("⏮ From question 1"), cb.build(BR, "q", part.id, 0)))
    rows += [[(send_label, cb.build(BR, "snd", part.id, view.fingerprint))],
            [(_("💾 Save, finish later"), cb.build(BR, "sv", part.id))]]
    return Reply(fit(lines), keyboard(rows))


async def _disarm(request: Request) -> None:
    pending = await cases_service.pending_input(
        request.user_id, session=request.session, now=request.now)
    if pending is not None and pending.kind == INPUT:
        await cases_service.drop_input(request.user_id, session=request.session)


def refusal(agency_name: str | None = None) -> Reply:
    if agency_name:
        return Reply(_("⛔ This part belongs to {agency}. You can fill in only the part of your "
                       "own agency.").format(agency=esc(agency_name)))
    return Reply(_("⛔ Only the agency itself or the commune's officers can fill in this "
                   "part."))


async def _refused(request: Request, agency_id: int) -> Reply:
    """Why this person may not fill the agency's part: another agency's member is told whose
    part it is; anyone else that only the agency and the commune's officers may."""
    from storage.units import get_agency

    if request.actor.role is not Role.AGENCY_MEMBER:
        return refusal()
    agency = await get_agency(agency_id, session=request.session)
    return refusal(agency.name if agency is not None else None)


async def _open_for(request: Request, round_id: int, agency_id: int) -> service.PartView | Reply:
    try:
        return await service.open_part(request.actor, round_id, agency_id,
                                       session=request.session, now=request.now)
    except NotAllowed:
        return await _refused(request, agency_id)


async def _pressed_part(request: Request, part_id: int) -> service.PartView | Reply:
    """The part a form button names, or the refusal (a forwarded form pressed by someone
    else is told whose part it is, not that "the case changed")."""
    try:
        return await service.part_view(request.actor, part_id, session=request.session,
                                       now=request.now)
    except NotAllowed:
        from storage.rounds import get_part_by_id

        part = await get_part_by_id(part_id, session=request.session)
        return await _refused(request, part.agency_id if part is not None else 0)


def _privately(request: Request, reply: Reply) -> Reply:
    """A form always goes to the person's private chat, even when pressed in a group."""
    chat = request.update.effective_chat
    if chat is not None and chat.type != "private":
        reply.chat_id = request.user_id
        reply.edit = False
    return reply


@handles
async def open_pressed(request: Request) -> Reply | list[Reply]:
    """"Fill in the report": the part's review, or its first question when it is new."""
    round_id, agency_id = request.callback.int_arg(0), request.callback.int_arg(1)
    view = await _open_for(request, round_id, agency_id)
    if isinstance(view, Reply):
        return view
    return _privately(request, await resume(request, view))


@handles
async def question_pressed(request: Request) -> Reply:
    """Asks question N (a skip, or "change answers")."""
    part_id, index = request.callback.int_arg(0), request.callback.int_arg(1)
    view = await _pressed_part(request, part_id)
    if isinstance(view, Reply):
        return view
    if view.round.status != "open":
        return review(view)
    return await ask(request, view, max(index, 0))


@handles
async def yes_no_pressed(request: Request) -> Reply:
    """Stores a yes/no answer and asks the next question."""
    part_id, index = request.callback.int_arg(0), request.callback.int_arg(1)
    value = request.callback.int_arg(2)
    view = await _pressed_part(request, part_id)
    if isinstance(view, Reply):
        return view
    if view.round.status != "open":
        return review(view)
    if not 0 <= index < len(view.lines) or view.lines[index].spec.unit is not Unit.YES_NO:
        return await ask(request, view, index)  # an old button: ask what it is now
    view = await service.set_answer(request.actor, part_id, view.lines[index].target.code,
                                    float(bool(value)), session=request.session,
                                    now=request.now)
    return await ask(request, view, index + 1)


ANSWERED_KEPT = 20  # typed answers remembered per person, for edits of them


async def _answered_messages(request: Request, part_id: int, *,
                             add: tuple[int, str] | None = None) -> dict[str, str]:
    """Which of the person's messages answered which target of this part (the newest
    ANSWERED_KEPT), carried from question to question: an edit of one corrects that target."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    answered = (dict(pending.data.get("answered", {}))
                if pending is not None and pending.kind == INPUT
                and pending.data.get("part") == part_id else {})
    if add is not None:
        answered[str(add[0])] = add[1]
    return dict(list(answered.items())[-ANSWERED_KEPT:])


async def _took_edit(request: Request, view: service.PartView, pending: PendingInput,
                     message) -> Reply:  # noqa: ANN001
    """An answer edited afterwards (Telegram sends the edit as an update of its own): it
    corrects the target that message answered, never the question asked now."""
    index = int(pending.data.get("q", 0))
    again = {"taken": int(pending.data.get("taken", 0)),
             "continued": bool(pending.data.get("continued"))}
    code = pending.data.get("answered", {}).get(str(message.message_id))
    line = next((line for line in view.lines if line.target.code == code), None)
    if line is None or message.text is None:
        return await ask(request, view, index, **again, prefix=_(
            "✏️ I do not read edited messages here: nothing was changed. To change an answer, "
            "send it again when its question is asked, or use ✏️ Change answers on the "
            "review.") + "\n\n")
    try:
        value = parse_value(line.spec.unit, message.text)
    except InvalidInput:
        return await ask(request, view, index, **again, prefix=_(
            "⚠️ Your edit for target {number} cannot be used: please type {hint}. The answer "
            "stays {value}.").format(number=esc(line.spec.number),
                                     hint=unit_hint(line.spec.unit),
                                     value=esc(format_value(line.spec.unit, line.value) or "—"))
            + "\n\n")
    view = await service.set_answer(request.actor, view.part.id, line.target.code, value,
                                    session=request.session, now=request.now)
    return await ask(request, view, index, **again, prefix=_(
        "✏️ Corrected: target {number} is now {value}.").format(
        number=esc(line.spec.number), value=esc(format_value(line.spec.unit, value))) + "\n\n")


async def _took_answer(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """A typed answer: the target's value (checked against its unit) or one of the texts,
    for the question the person sees (by its code: never another target's)."""
    part_id, index = int(pending.data.get("part", 0)), int(pending.data.get("q", 0))
    try:
        view = await service.part_view(request.actor, part_id, session=request.session,
                                       now=request.now)
    except (NotAllowed, NotFound):
        # Their role or agency changed since the question was asked: the form lets go of
        # them (else every message would be refused until the input expires).
        await _disarm(request)
        return [Reply(_("The report form you were filling in is no longer yours (your role "
                        "or agency has changed), so this message was not saved in it. /start "
                        "shows what you can do now."))]
    if view.round.status != "open":
        await _disarm(request)
        return [review(view)]
    if request.update.edited_message is not None:
        return [await _took_edit(request, view, pending, message)]
    code = pending.data.get("code")
    if code is not None and question_code(view, index) != code:
        return [await ask(request, view, index, prefix=_(
            "⚠️ The questions changed while you were typing (the commune's targets were "
            "updated). Nothing was saved: here is the question now.") + "\n\n")]
    text = message.text
    if text is None:
        return [Reply(_("Please type the answer as text.")), await ask(request, view, index)]
    if index < len(view.lines):
        line = view.lines[index]
        try:
            value = parse_value(line.spec.unit, text)
        except InvalidInput:
            return [await ask(request, view, index, prefix=_(
                "⚠️ That cannot be used for this target: please type {hint}. Nothing was "
                "saved.").format(hint=unit_hint(line.spec.unit)) + "\n\n")]
        view = await service.set_answer(request.actor, part_id, line.target.code, value,
                                        session=request.session, now=request.now)
        await _remember_answer(request, pending, message.message_id, line.target.code)
        return [await ask(request, view, index + 1, prefix=_("Saved: {value}.").format(
            value=esc(format_value(line.spec.unit, value))) + "\n\n")]
    return [await _took_text(request, view, pending, text)]


async def _remember_answer(request: Request, pending: PendingInput, message_id: int,
                           code: str) -> None:
    """Notes that this message answered `code` (the next question carries it on)."""
    pending.data["answered"] = await _answered_messages(
        request, int(pending.data.get("part", 0)), add=(message_id, code))
    await cases_service.save_input(pending, session=request.session)


TELEGRAM_LIMIT = 4096  # Telegram splits a longer message into pieces of this length


async def _took_text(request: Request, view: service.PartView, pending: PendingInput,
                     text: str) -> Reply:
    """A text answer: the first message on this visit replaces the text, the next ones are
    added to it (an answer typed in several messages stays one answer); the question stays
    until the person goes on. A text Telegram split in pieces is refused whole."""
    index = int(pending.data.get("q", 0))
    which = service.TEXTS[min(index - len(view.lines), 1)]
    taken = int(pending.data.get("taken", 0))
    if pending.data.get("continued"):
        return await ask(request, view, index, taken=taken,
                         continued=len(text) >= TELEGRAM_LIMIT, prefix=_(
            "⚠️ This is the rest of the long message before, which was not saved: this part "
            "was not saved either. Please shorten the whole text to 2.000 characters and send "
            "it again.") + "\n\n")
    current = getattr(view.part, which) if taken else None
    combined = f"{current}\n{text.strip()}" if current else text
    try:
        view = await service.set_text(request.actor, view.part.id, which, combined,
                                      session=request.session, now=request.now)
    except InvalidInput as problem:
        if problem.code not in ("round_text_too_long", "blank_text"):
            raise
        if problem.code == "blank_text":
            hint = _("⚠️ That message has no visible text. Please type the words themselves.")
        elif current:
            hint = _("⚠️ With this message the text would be longer than 2.000 characters "
                     "({n}). It was not added: please shorten it, or go on.").format(
                n=f"{len(combined):,}".replace(",", "."))
        else:
            hint = _("⚠️ That is longer than 2.000 characters ({n}). Nothing was cut or "
                     "saved: please shorten it and send it again.").format(
                n=f"{len(text):,}".replace(",", "."))
        return await ask(request, view, index, taken=taken, prefix=hint + "\n\n",
                         continued=len(text) >= TELEGRAM_LIMIT)
    return await ask(request, view, index, taken=taken + 1, prefix=_("Saved.") + "\n\n")


@handles
async def review_pressed(request: Request) -> Reply:
    view = await _pressed_part(request, request.callback.int_arg(0))
    if isinstance(view, Reply):
        return view
    await _disarm(request)
    return review(view)


@handles
async def save_pressed(request: Request) -> Reply:
    """Stops the questions; everything answered is kept."""
    view = await _pressed_part(request, request.callback.int_arg(0))
    if isinstance(view, Reply):
        return view
    await _disarm(request)
    if view.round.status != "open":
        return review(view)
    return Reply(_("💾 Saved. Everything you answered is kept; send /baocao to continue "
                   "(before {date}).").format(date=vi_date(view.round.collect_on)))


@handles
async def send_pressed(request: Request) -> list[Reply]:
    """Sends the part (or its corrections); the commune's officers are told."""
    today = request.runtime.local_now().date()
    part_id = request.callback.int_arg(0)
    seen = request.callback.args[1] if len(request.callback.args) > 1 else None
    refused = await _pressed_part(request, part_id)
    if isinstance(refused, Reply):
        return [refused]
    try:
        sent = await service.send_part(request.actor, part_id, session=request.session,
                                       now=request.now, today=today, seen=seen)
    except InvalidInput as problem:
        if problem.code not in ("round_part_changed", "round_locked",
                                "round_part_already_sent"):
            raise
        await _disarm(request)
        view = await service.part_view(request.actor, part_id, session=request.session,
                                       now=request.now)
        prefix = {
            "round_part_changed": _(
                "⚠️ Not sent: the part has just changed (another member of your agency or an "
                "officer edited it). Here it is now: check it and press Send again.")
            + "\n\n",
            "round_part_already_sent": _(
                "✔️ Already sent: this part was sent just as it is; nothing was sent again. "
                "Change an answer first to send corrections.") + "\n\n",
        }.get(problem.code, "")
        return [review(view, prefix=prefix)]
    await _disarm(request)
    view = sent.view
    head = (_("✅ Corrections sent. They can be changed until the officer locks the round.")
            if sent.corrected else
            _("✅ Sent. Thank you! You can still correct it until the officer locks the "
              "round: /baocao."))
    notice = (_("✏️ {agency} corrected its part of {report} {year}.") if sent.corrected else
              _("📥 {agency} sent its part of {report} {year}.")).format(
        agency=esc(view.agency.name), report=esc(view.round.name), year=view.round.year)
    if sent.late and not sent.corrected:
        notice += " " + _("(after the collection date)")
    replies = [review(view, prefix=head + "\n\n")]
    replies += [Reply(notice, keyboard([[(_("📊 Open the board"),
                                          cb.build(BR, "b", view.round.id))]]), chat_id=chat)
                for chat in sent.notify]
    return replies


# --- /baocao and the officer's board -----------------------------------------------------


STATUS_ICON = {"sent": "✅", "draft": "📝", "none": "⬜"}


def targets_button() -> tuple[str, str]:
    """The commune administrator's way into the target editor (handlers/targets.py)."""
    return (_("🎯 Targets"), cb.build("bt", "l"))


def board_reply(board: service.Board, *, prefix: str = "", admin: bool = False) -> Reply:
    round_ = board.round
    head = _("📊 <b>{report} {year}</b>, due {date}").format(
        report=esc(round_.name), year=round_.year, date=vi_date(round_.collect_on))
    lines = [prefix + head]
    if round_.status != "open":
        lines.append(_("🔒 Locked: the report was compiled."))
    lines.append("")
    counts = {"sent": 0, "draft": 0, "none": 0}
    for row in board.rows:
        counts[row.status] += 1
        status = {"sent": _("sent"), "draft": _("draft"), "none": _("not started")}[row.status]
        extra = []
        if row.corrected:
            extra.append(_("corrected"))
        if row.late:
            extra.append(_("late"))
        tail = f" ({', '.join(extra)})" if extra else ""
        lines.append(f"{STATUS_ICON[row.status]} {esc(row.agency.name)}: {status}{tail}")
    lines += ["", _("Sent {sent}, draft {draft}, not started {none}.").format(**counts)]
    rows = []
    if round_.status == "open":
        for row in board.rows:
            if row.status != "sent":
                rows.append([(button_label(_("🔔 Remind {agency}").format(
                    agency=row.agency.name)), cb.build(BR, "rm", round_.id, row.agency.id,
                                                       row.reminders))])
            if row.agency.kind == AgencyKind.CULTURE_SOCIAL:
                rows.append([(button_label(_("✏️ Fill in {agency}").format(
                    agency=row.agency.name)), cb.build(BR, "p", round_.id, row.agency.id))])
        rows.append([(_("🔒 Lock and compile the report"), cb.build(BR, "lk", round_.id))])
    else:
        rows.append([(_("📎 Send the files again"), cb.build(BR, "cf", round_.id))])
    if admin:
        rows.append([targets_button()])
    return Reply(fit(lines), keyboard(rows) if rows else None)


@handles
async def baocao_command(request: Request) -> Reply | list[Reply]:
    """/baocao: the agency's part, or the officer's board."""
    actor = request.actor
    if actor.role is Role.AGENCY_MEMBER:
        rounds = await service.agency_rounds(actor, session=request.session)
        if not rounds:
            return Reply(_("No report round is open for your agency now. When one opens you "
                           "will get a message with your targets."))
        replies = []
        for round_ in rounds[:3]:
            view = await service.open_part(actor, round_.id, actor.agency_id,
                                           session=request.session, now=request.now)
            replies.append(await resume(request, view))
        return replies
    if actor.role not in (Role.OFFICER, Role.ADMIN) or actor.unit_id is None:
        return Reply(_("The report round is for the commune's officers and agencies."))
    if actor.role is Role.ADMIN and actor.scope is not None and len(actor.scope.path) == 1:
        return province_reply(await service.province_overview(actor, session=request.session))
    admin = actor.role is Role.ADMIN
    rounds = await service.rounds_for(actor, session=request.session)
    if not rounds:
        return Reply(_("No report round has opened yet. Rounds open by themselves before each "
                       "collection date of the commune's set-up file."),
                     keyboard([[targets_button()]]) if admin else None)
    return await board_screen(request, rounds[0].id, edit=False)


async def board_screen(request: Request, round_id: int, *, prefix: str = "",
                       edit: bool = True) -> Reply:
    """The officer's board of one round, the same after any action (/baocao, a reminder,
    the lock, Back): the round's rows and buttons, then the commune's other rounds (to look
    back or send their files again)."""
    today = request.runtime.local_now().date()
    board = await service.board(request.actor, round_id, session=request.session, today=today)
    reply = board_reply(board, prefix=prefix, admin=request.actor.role is Role.ADMIN)
    reply.edit = edit
    rounds = await service.rounds_for(request.actor, session=request.session)
    others = [r for r in rounds if r.id != round_id][:5]
    if others:
        extra = keyboard([[(button_label(f"{r.name} {r.year}"), cb.build(BR, "b", r.id))]
                          for r in others])
        rows = reply.keyboard.inline_keyboard if reply.keyboard else ()
        reply.keyboard = InlineKeyboardMarkup([*rows, *extra.inline_keyboard])
    return reply


def province_reply(overview: list[service.CommuneRound]) -> Reply:
    """The province's communes side by side (aggregates only)."""
    lines = [_("📊 <b>Report rounds of the communes</b>"), ""]
    for item in overview:
        if item.round is None:
            lines.append(_("• {commune}: no round yet").format(commune=esc(item.commune)))
            continue
        state = _("locked") if item.round.status != "open" else _("open")
        lines.append(_("• {commune}: {report} {year} ({state}), sent {sent}/{total}, targets "
                       "met {met}/{assessed}").format(
            commune=esc(item.commune), report=esc(item.round.name), year=item.round.year,
            state=state, sent=item.sent, total=item.total, met=item.met,
            assessed=item.assessed))
    return Reply(fit(lines), keyboard([[(_("📊 Targets table of the communes (XLSX)"),
                                         cb.build(BR, "pt"))]]))


@handles
async def province_table_pressed(request: Request) -> Reply:
    """Owes the province's targets table (an outbox row: compiled when sent)."""
    await service.province_table(request.actor, session=request.session,
                                 tz=request.runtime.tz, now=request.now)
    await request.owe("province_targets", {}, chat_id=request.user_id)
    return Reply(_("⏳ Preparing the table…"))


async def send_owed_province_table(bot, runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "province_targets" rows: every commune's targets side by side (aggregates
    only), for the person as they are now."""
    chat_id = delivery.chat_id
    async with runtime.db.session() as session:
        actor = await resolve_actor(chat_id, session=session,
                                    superadmin_ids=runtime.settings.admin_ids)
        table = await service.province_table(actor, session=session, tz=runtime.tz,
                                             now=runtime.clock.now())
    words = {**export_words_plain(), "sent_by": _("Agencies sent"),
             "sheet_communes": _("Communes"), "commune": _("Commune"),
             "round": _("Report"), "not_sent_by": _("Not sent yet"),
             "no_round": _("no round yet"), "open": _("open"), "locked": _("locked"),
             "status": _("Status")}
    data = await asyncio.to_thread(round_export.province_xlsx_bytes, table, words)
    message = await bot.send_document(chat_id, data, filename="chi-tieu-cac-xa.xlsx",
                                      caption=_("📊 The targets of the communes, side by "
                                                "side"))
    return message.message_id


@handles
async def board_pressed(request: Request) -> Reply:
    return await board_screen(request, request.callback.int_arg(0))


@handles
async def remind_pressed(request: Request) -> list[Reply]:
    """One tap: the agency's chats get the request again (outbox rows in this transaction)."""
    round_id, agency_id = request.callback.int_arg(0), request.callback.int_arg(1)
    number = request.callback.int_arg(2) if len(request.callback.args) > 2 else None
    try:
        agency_request, chats = await service.remind(request.actor, round_id, agency_id,
                                                     session=request.session,
                                                     now=request.now, number=number)
    except InvalidInput as problem:
        if problem.code != "round_already_reminded":
            raise
        return [await board_screen(request, round_id, edit=False, prefix=_(
            "✔️ Already reminded: this reminder went out once; nothing was sent again. To "
            "remind them once more, use the button on this board.") + "\n\n")]
    name = esc(agency_request.agency.name)
    prefix = (_("🔔 Reminder sent to {agency} ({n} chat(s)).").format(agency=name, n=len(chats))
              if chats else
              _("⚠️ {agency} has no member or group with me yet: please phone them, or "
                "invite a member with /invite.").format(agency=name))
    replies = [await board_screen(request, round_id, prefix=prefix + "\n\n", edit=False)]
    text, markup = request_text(agency_request), request_markup(agency_request)
    replies += [Reply(text, markup, chat_id=chat, kind="round") for chat in chats]
    return replies


@handles
async def lock_pressed(request: Request) -> Reply:
    round_id = request.callback.int_arg(0)
    today = request.runtime.local_now().date()
    board = await service.board(request.actor, round_id, session=request.session, today=today)
    missing = [row.agency.name for row in board.rows if row.status != "sent"]
    text = _("Lock <b>{report} {year}</b> and compile the report? After that, no agency can "
             "change its part.").format(report=esc(board.round.name), year=board.round.year)
    if missing:
        text += "\n\n" + _("Not sent yet: {names}.").format(names=esc(", ".join(missing)))
    return Reply(text, keyboard([[(_("🔒 Yes, lock"), cb.build(BR, "lky", round_id)),
                                  (_("↩️ Back"), cb.build(BR, "b", round_id))]]), edit=True)


@handles
async def lock_confirmed(request: Request) -> Reply:
    """Locks the round; the compiled XLSX and DOCX follow in this chat."""
    round_id = request.callback.int_arg(0)
    try:
        await service.lock(request.actor, round_id, session=request.session, now=request.now)
    except InvalidInput as problem:
        if problem.code != "round_already_locked":
            raise
        return await board_screen(request, round_id, prefix=_(
            "✔️ Already locked: the compiled report was sent when it was locked; nothing was "
            "sent again (📎 Send the files again, if you need them).") + "\n\n")
    await _queue_files(request, round_id)
    return await board_screen(request, round_id, prefix=_(
        "🔒 Locked. The compiled report follows: a table (XLSX) and a draft of the text "
        "(DOCX).") + "\n\n")


@handles
async def files_pressed(request: Request) -> Reply:
    round_id = request.callback.int_arg(0)
    await _queue_files(request, round_id)
    return Reply(_("⏳ Preparing the files…"))


async def _queue_files(request: Request, round_id: int) -> None:
    """Checks the round can be compiled by this person, and owes the files (an outbox row:
    compiled and written when sent, in the private chat of the person who pressed)."""
    await service.compile_round(request.actor, round_id, session=request.session,
                                tz=request.runtime.tz, now=request.now)
    # One row per file: a failure sending the second is retried alone and never sends the
    # first again.
    for file in ("xlsx", "docx"):
        await request.owe("round_files", {"round_id": round_id, "file": file},
                          chat_id=request.user_id)


async def send_owed_round_files(bot, runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "round_files" rows: the compiled XLSX or DOCX of the round (the row's
    "file"; a row queued before rows were made per file has none and sends both), as it is
    now, for the person as they are now."""
    chat_id = delivery.chat_id
    async with runtime.db.session() as session:
        actor = await resolve_actor(chat_id, session=session,
                                    superadmin_ids=runtime.settings.admin_ids)
        compiled = await service.compile_round(actor, int(delivery.payload["round_id"]),
                                               session=session, tz=runtime.tz,
                                               now=runtime.clock.now())
    words, figures = export_words(compiled), figure_names()
    stem = round_export.file_stem(compiled)
    files = {"xlsx": (round_export.xlsx_bytes, _("📊 The targets table")),
             "docx": (round_export.docx_bytes, _("📝 The draft report, to edit and sign"))}
    file = delivery.payload.get("file")
    first = None
    for name in [file] if file else list(files):
        render, caption = files[name]
        data = await asyncio.to_thread(render, compiled, words, figures)
        message = await bot.send_document(chat_id, data, filename=f"{stem}.{name}",
                                          caption=caption)
        first = first or message.message_id
    return first


def figure_names() -> dict[str, str]:
    return {
        "cases_received": _("Reports received by me (cases opened)"),
        "cases_urgent": _("of which urgent"),
        "cases_closed": _("Cases closed"),
        "cases_violence": _("Cases: violence"),
        "cases_sexual": _("Cases: sexual abuse"),
        "cases_neglect": _("Cases: abandonment or neglect"),
        "cases_labour": _("Cases: child labour"),
        "cases_trafficking": _("Cases: trafficking or abduction"),
        "cases_marriage": _("Cases: child marriage"),
        "cases_dropout": _("Cases: dropping out of school"),
        "cases_injury": _("Cases: drowning or injury risk"),
        "cases_online": _("Cases: online abuse"),
        "cases_other": _("Cases: other"),
    }


def export_words_plain() -> dict[str, str]:
    """The table's words that do not depend on one round."""
    return {
        "sheet_targets": _("Targets"), "number": _("No."), "target": _("Target"),
        "unit": _("Unit"), "goal": _("Target value"), "this_period": _("This period"),
        "assessment": _("Assessment"), "met": _("Met"), "not_met": _("Not met"),
        "unknown": _("Not known"), "yes": _("Yes"), "no": _("No"),
    }


def export_words(compiled: service.Compiled) -> dict[str, str]:
    round_ = compiled.round
    period = compiled.period
    return {
        **export_words_plain(),
        "sheet_targets": _("Targets"), "sheet_figures": _("Figures of the bot"),
        "sheet_parts": _("Agencies"), "number": _("No."), "target": _("Target"),
        "unit": _("Unit"), "goal": _("Target value"), "this_period": _("This period"),
        "last_period": _("Last period"), "agency": _("Responsible agency"),
        "assessment": _("Assessment"), "met": _("Met"), "not_met": _("Not met"),
        "unknown": _("Not known"), "figure": _("Figure"), "status": _("Status"),
        "late": _("Late"), "sent": _("sent"), "draft": _("draft, not sent"),
        "none": _("not started"), "yes": _("Yes"), "no": _("No"),
        "title": _("{report} {year}: {commune}").format(report=round_.name, year=round_.year,
                                                        commune=compiled.commune),
        "period": _("Period: {start} to {end}. Draft compiled by the assistant from the "
                    "agencies' parts; to be checked, completed and signed.").format(
            start=vi_date(period.start), end=vi_date(period.end)),
        "results_heading": _("Results"),
        "targets_heading": _("I. Results against the plan's targets"),
        "figures_heading": _("II. Figures from the cases received (this period, last "
                             "period in brackets)"),
        "agencies_heading": _("III. Results of the agencies"),
        "highlights": _("Notable results"), "difficulties": _("Difficulties and proposals"),
        "not_given": _("(not given)"), "not_sent": _("This agency did not send its part."),
        "late_heading": _("Agencies that sent late or not at all"),
        "footer": _("Draft: the officer completes, edits and signs the report."),
    }


# An edit of an answer corrects the target that message answered (_took_edit).
case_handlers.register_input(INPUT, _took_answer, keep_armed=True, on_edit=_took_answer)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(BR)
    return [
        CommandHandler("baocao", baocao_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(baocao_command, pattern=p + "menu$"),
        CallbackQueryHandler(open_pressed, pattern=p + r"p:\d+:\d+$"),
        CallbackQueryHandler(question_pressed, pattern=p + r"q:\d+:\d+$"),
        CallbackQueryHandler(yes_no_pressed, pattern=p + r"yn:\d+:\d+:[01]$"),
        CallbackQueryHandler(review_pressed, pattern=p + r"rv:\d+$"),
        CallbackQueryHandler(save_pressed, pattern=p + r"sv:\d+$"),
        CallbackQueryHandler(send_pressed, pattern=p + r"snd:\d+(:[0-9a-f]{8})?$"),
        CallbackQueryHandler(board_pressed, pattern=p + r"b:\d+$"),
        CallbackQueryHandler(remind_pressed, pattern=p + r"rm:\d+:\d+(:\d+)?$"),
        CallbackQueryHandler(lock_pressed, pattern=p + r"lk:\d+$"),
        CallbackQueryHandler(lock_confirmed, pattern=p + r"lky:\d+$"),
        CallbackQueryHandler(files_pressed, pattern=p + r"cf:\d+$"),
        CallbackQueryHandler(province_table_pressed, pattern=p + r"pt$"),
    ]
