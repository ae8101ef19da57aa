"""/tre: the register of children in special circumstances from the chat. A village
collaborator sees their village's children, adds one in a few taps (name and date of birth
typed, everything else on buttons), updates support and groups, and records a child leaving
with a reason; an officer does the same for every village of the commune. The answers of the
add flow wait in the database (pending_inputs) between messages."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_short_date
from domain.cases import SpecialGroup
from domain.errors import InvalidInput, NotAllowed
from domain.names import in_sentence
from domain.register import (
    CHOSEN_REASONS,
    Birth,
    ChildStatus,
    LeaveReason,
    Sex,
    SupportKind,
    SupportStatus,
    age_on,
    clean_name,
    clean_text,
    next_support_status,
    parse_birth,
    parse_sex,
)
from domain.register_access import RegisterAction, RegisterRight, ensure
from domain.roles import Role
from handlers import callback_data as cb
from handlers import cases as case_handlers
from handlers.common import (
    INVALID_INPUT_MESSAGES,
    Reply,
    Request,
    handles,
    keyboard,
    message_for,
)
from handlers.paging import nav_row, page_of
from handlers.texts import button_label, esc, special_group_label, special_group_name
from services import cases as cases_service
from services import register as service
from storage.models import PendingInput, RegisterChild

TRE = "tre"
ADDING, LEAVING, EDITING = "tre", "tre_leave", "tre_edit"  # kinds of pending input
GROUPS = list(SpecialGroup)
AT_RISK = len(GROUPS)  # the button after the 14 groups: at risk of falling into one
RELATIONS = ("parents", "mother", "father", "grandparents", "relative", "other")
MAX_CAREGIVER = 200
ALL_VILLAGES = 0


INVALID_INPUT_MESSAGES.update({
    "register_staff_only": lambda: _("The register of children in special circumstances is "
                                     "for village collaborators and the commune's officers."),
    "birth_unreadable": lambda: _("That date cannot be read. Type the day, month and year like "
                                  "3/4/2015 or 03-04-2015, or only the year: 2015."),
    "birth_impossible": lambda: _("That day does not exist (check the day and the month: day "
                                  "first, e.g. 3/4/2015 is 3 April 2015)."),
    "birth_future": lambda: _("That date is in the future. Please check the year."),
    "birth_too_old": lambda: _("By that date the child is 16 or older: under the Law on "
                               "Children the register is for children under 16. Please "
                               "check the year."),
    "child_name_blank": lambda: _("Please type the child's full name."),
    "child_name_digits": lambda: _("A name has no digits. Please type the child's full name; "
                                   "the date of birth comes next."),
    "register_text_too_long": lambda: _("That is too long (at most 500 characters). Nothing "
                                        "was cut or saved: please shorten it and send it "
                                        "again."),
    "destination_required": lambda: _("Please type where the child moved to."),
    "group_required": lambda: _("A child on the register needs at least one circumstance "
                                "(or “at risk”)."),
    "child_changed": lambda: _("This record has just changed. Please open it again with "
                               "/tre."),
    "child_left": lambda: _("This child has already left the register."),
})


# --- words ------------------------------------------------------------------------------


def sex_name(sex: str) -> str:
    return {Sex.MALE: _("Male"), Sex.FEMALE: _("Female")}[Sex(sex)]


def relation_name(relation: str | None) -> str:
    return {"parents": _("parents"), "mother": _("mother"), "father": _("father"),
            "grandparents": _("grandparents"), "relative": _("another relative"),
            "other": _("someone else")}.get(relation or "", "")


def support_name(kind: str) -> str:
    return {SupportKind.SOCIAL_ASSISTANCE: _("Monthly social assistance"),
            SupportKind.HEALTH_INSURANCE: _("Health insurance card (BHYT)"),
            SupportKind.BIRTH_REGISTRATION: _("Birth registration and papers"),
            SupportKind.SCHOOL_FEES: _("School fee exemption or reduction"),
            SupportKind.OTHER: _("Other support")}[SupportKind(kind)]


def support_short(kind: str) -> str:
    return {SupportKind.SOCIAL_ASSISTANCE: _("Allowance"),
            SupportKind.HEALTH_INSURANCE: _("BHYT"),
            SupportKind.BIRTH_REGISTRATION: _("Birth papers"),
            SupportKind.SCHOOL_FEES: _("School fees"),
            SupportKind.OTHER: _("Other")}[SupportKind(kind)]


def support_status_name(status: str | None) -> str:
    if status is None:
        return _("not recorded")
    return {SupportStatus.HAS: _("has it"), SupportStatus.APPLIED: _("applied"),
            SupportStatus.NOT_ELIGIBLE: _("not eligible"),
            SupportStatus.MISSING: _("missing")}[SupportStatus(status)]


def leave_reason_name(reason: str) -> str:
    return {LeaveReason.TURNED_16: _("turned 16"),
            LeaveReason.MOVED_AWAY: _("moved to another commune"),
            LeaveReason.CIRCUMSTANCES_ENDED: _("circumstances ended"),
            LeaveReason.DECEASED: _("deceased"),
            LeaveReason.DUPLICATE: _("duplicate record")}[LeaveReason(reason)]


def field_name(code: str) -> str:
    """What a correction or an import changed, in words (support kinds by their name)."""
    words = {"name": _("full name"), "birth": _("date of birth"), "sex": _("sex"),
             "village": _("village"), "caregiver": _("caregiver"),
             "relation": _("caregiver's relation"), "groups": _("circumstances"),
             "risk": _("the risk")}
    if code in words:
        return words[code]
    try:
        return support_name(code)
    except ValueError:
        return code


def birth_text(child: RegisterChild, today: dt.date) -> str:
    birth = Birth(child.birth_year, child.birth_date)
    when = vi_short_date(child.birth_date) if child.birth_date else _("year {year}").format(
        year=child.birth_year)
    return _("{when} ({age} years old)").format(when=when, age=age_on(birth, today))


def _today(request: Request) -> dt.date:
    return request.runtime.local_now().date()


def _months(request: Request) -> int:
    return request.runtime.settings.register_review_months


def _cancel_row() -> list[tuple[str, str]]:
    return [(_("✖️ Cancel"), cb.build(TRE, "x"))]


# --- lists --------------------------------------------------------------------------------


def list_data(village_id: int | None, page: int = 0) -> str:
    return cb.build(TRE, "l", village_id or ALL_VILLAGES, page)


def card_data(child_id: int, *, new_message: bool = False) -> str:
    """The record's button: in place of the pressed message, or (from a warning or a notice
    that should stay) as a new message."""
    return cb.build(TRE, "co" if new_message else "c", child_id)


def _home(request: Request) -> tuple[int, int | None]:
    home = service.home(request.actor)
    if home is None or request.actor.role is Role.AGENCY_MEMBER:
        raise InvalidInput("register_staff_only")
    return home


@handles
async def register_command(request: Request) -> Reply:
    """/tre or the menu button: a collaborator's village list, an officer's villages."""
    commune_id, village_id = _home(request)
    if village_id is not None:
        return await _village_list(request, commune_id, village_id, 0)
    return await _villages(request, commune_id, edit=request.callback is not None)


async def _villages(request: Request, commune_id: int, *, edit: bool) -> Reply:
    counts = await service.counts_by_village(request.actor, commune_id, session=request.session)
    villages = await service.villages(commune_id, session=request.session)
    total = sum(counts.values())
    rows = [[(button_label(f"{v.name} ({counts.get(v.id, 0)})"), list_data(v.id))]
            for v in villages[:40]]
    rows.append([(_("All villages ({n})").format(n=total), list_data(ALL_VILLAGES))])
    rows.append(_filter_row(ALL_VILLAGES))
    rows.append([(_("➕ Add a child"), cb.build(TRE, "new", ALL_VILLAGES))])
    rows.append([(_("📥 Import from a file"), cb.build(TRE, "imp")),
                 (_("📤 Export XLSX"), cb.build(TRE, "exp"))])
    return Reply(_("<b>Children in special circumstances</b>\n{n} children on the commune's "
                   "register. Choose a village:").format(n=total), keyboard(rows), edit=edit)


def filter_name(which: str) -> str:
    return {"bhyt": _("No BHYT card"), "birth": _("No birth papers"),
            "late": _("Review overdue")}[which]


def _filter_row(village_id: int) -> list[tuple[str, str]]:
    return [(filter_name(f), cb.build(TRE, "f", village_id, f, 0)) for f in service.FILTERS]


@handles
async def show_filtered(request: Request) -> Reply:
    """A list narrowed to one gap: no BHYT card, no birth papers, review overdue."""
    commune_id, own_village = _home(request)
    village_id = request.callback.int_arg(0) or None
    which = request.callback.args[1] if len(request.callback.args) > 1 else ""
    if which not in service.FILTERS:
        raise cb.StaleButton("register filter")
    if own_village is not None and village_id != own_village:
        raise NotAllowed("list_children", "another village")
    children = await service.list_filtered(request.actor, commune_id, village_id, which,
                                           session=request.session, now=request.now,
                                           today=_today(request))
    return _list_reply(request, children, village_id, {
        v.id: v.name for v in await service.villages(commune_id, session=request.session)},
        request.callback.int_arg(2), title=filter_name(which),
        page_data=lambda p: cb.build(TRE, "f", village_id or ALL_VILLAGES, which, p))


@handles
async def show_list(request: Request) -> Reply:
    """A page of one village's list (or the whole commune's, for its officers)."""
    commune_id, own_village = _home(request)
    village_id = request.callback.int_arg(0) or None
    if own_village is not None and village_id != own_village:
        raise NotAllowed("list_children", "another village")
    return await _village_list(request, commune_id, village_id, request.callback.int_arg(1),
                               edit=True)


async def _village_list(request: Request, commune_id: int, village_id: int | None, page: int,
                        *, edit: bool = False) -> Reply:
    children = await service.list_children(request.actor, commune_id, village_id,
                                           session=request.session, now=request.now)
    villages = {v.id: v.name for v in await service.villages(commune_id,
                                                              session=request.session)}
    reply = _list_reply(request, children, village_id, villages, page,
                        page_data=lambda p: list_data(village_id, p))
    reply.edit = edit
    return reply


def _list_reply(request: Request, children: list[RegisterChild], village_id: int | None,
                villages: dict[int, str], page: int, *, page_data, title: str = "") -> Reply:  # noqa: ANN001
    where = villages.get(village_id, "") if village_id else _("the whole commune")
    if title:
        where = f"{where} · {title}"
    shown = page_of(children, page)
    today = _today(request)
    lines = [_("<b>Children in special circumstances – {where}</b> ({n})").format(
        where=esc(where), n=len(children))]
    if not children:
        lines.append(_("Nobody is on the register here yet.") if not title
                     else _("Nobody on this list."))
    rows = []
    for number, child in enumerate(shown.items, start=shown.first + 1):
        age = age_on(Birth(child.birth_year, child.birth_date), today)
        groups = ", ".join(special_group_label(g) for g in child.groups[:2])
        if child.at_risk:
            groups = ", ".join(x for x in (groups, _("at risk")) if x)
        place = "" if village_id else f" · {esc(villages.get(child.village_id, ''))}"
        lines.append(_("{n}. <b>{name}</b>, {age} years old{place} · {groups}").format(
            n=number, name=esc(child.full_name), age=age, place=place, groups=groups))
        rows.append([(button_label(f"{number}. {child.full_name}"), card_data(child.id))])
    if shown.pages > 1:
        lines.append(_("Page {page}/{pages}").format(page=shown.page + 1, pages=shown.pages))
    rows += nav_row(shown, page_data)
    if not title:
        rows.append(_filter_row(village_id or ALL_VILLAGES))
        rows.append([(_("➕ Add a child"), cb.build(TRE, "new", village_id or ALL_VILLAGES))])
    else:
        rows.append([(_("⬅️ List"), list_data(village_id))])
    if request.actor.role is not Role.COLLABORATOR:
        if village_id is not None and children and not title:
            rows.append([(_("🔁 Ad hoc review of this village"),
                          cb.build(TRE, "or", village_id))])
        rows.append([(_("⬅️ Villages"), cb.build(TRE, "home"))])
    return Reply("\n".join(lines), keyboard(rows), edit=True)


# --- the card -----------------------------------------------------------------------------


def _event_text(kind: str, changes: dict) -> str:
    if kind == "added":
        return _("added to the register")
    if kind in ("left", "turned_16"):
        return _("left the register: {reason}").format(
            reason=leave_reason_name(changes.get("reason", "turned_16")))
    if kind == "support":
        return "; ".join(_("{support}: {status}").format(
            support=support_name(k), status=support_status_name(v))
            for k, v in (changes.get("support") or {}).items())
    if kind == "reviewed":
        return _("reviewed: no change")
    if kind == "edited":
        return _("corrected: {fields}").format(fields=", ".join(
            field_name(f) for f in changes.get("fields", [])))
    if kind == "imported":
        return _("updated from the imported list: {fields}").format(fields=", ".join(
            field_name(f) for f in changes.get("fields", [])))
    if kind == "updated" and "groups" in changes:
        return _("circumstances changed")
    return _("updated")


async def render_card(request: Request, child_id: int, *, edit: bool,
                      prefix: str = "") -> Reply:
    record = await service.view(request.actor, child_id, session=request.session,
                                now=request.now)
    child, today, tz = record.child, _today(request), request.runtime.tz
    lines = [prefix + f"<b>{esc(child.full_name)}</b>",
             _("{sex}, born {birth}").format(sex=sex_name(child.sex),
                                            birth=birth_text(child, today))]
    if record.village is not None:
        lines.append(_("Village: {village}").format(village=esc(record.village.name)))
    if child.caregiver:
        relation = relation_name(child.caregiver_relation)
        lines.append(_("Caregiver: {name}").format(name=esc(child.caregiver))
                     + (f" ({relation})" if relation else ""))
    lines += ["", _("<b>Circumstances</b>")]
    lines += [f"• {special_group_name(g)}" for g in child.groups]
    if child.at_risk:
        lines.append("• " + _("At risk: {risk}").format(risk=esc(child.risk_note or "")))
    lines += ["", _("<b>Support</b>")]
    for kind in SupportKind:
        support = record.supports.get(str(kind))
        status = support_status_name(support.status if support else None)
        since = _(" (since {date})").format(date=vi_short_date(support.since)) if support else ""
        lines.append(f"• {support_name(kind)}: {status}{since}")
    if child.status == ChildStatus.ACTIVE and child.review_due_on is not None:
        due = _("Next review: {date}") if child.review_due_on > today else \
            _("⏰ Review due since {date}")
        lines += ["", due.format(date=vi_short_date(child.review_due_on))]
    if record.case_code:
        lines += ["", _("Case: {code}").format(code=record.case_code)]
    if child.status == ChildStatus.LEFT:
        lines += ["", _("⛔️ Left the register on {date}: {reason}").format(
            date=vi_short_date(child.left_on), reason=leave_reason_name(child.leave_reason))
            + (f" – {esc(child.leave_note)}" if child.leave_note else "")]
    if record.history:
        lines += ["", _("<b>Recent changes</b>")]
        for event, who in record.history[:3]:
            lines.append(_("{when} · {who}: {what}").format(
                when=vi_short_date(event.at.astimezone(tz).date()),
                who=esc(who) if who else _("the assistant"),
                what=_event_text(event.kind, event.changes or {})))
    return Reply("\n".join(lines), _card_buttons(record), edit=edit)


def _card_buttons(record: service.Record) -> InlineKeyboardMarkup:
    child = record.child
    rows = []
    if RegisterRight.UPDATE in record.rights and child.status == ChildStatus.ACTIVE:
        labels = [(button_label(f"{support_short(k)}: {support_status_name(s.status if (s := record.supports.get(str(k))) else None)}", 32),  # noqa: E501
                   cb.build(TRE, "cs", child.id, child.revision, k)) for k in SupportKind]
        rows += [labels[i:i + 2] for i in range(0, len(labels), 2)]
        rows.append([(_("✅ Reviewed: no change"), cb.build(TRE, "rc", child.id, child.revision))])
        rows.append([(_("🏷 Circumstances"), cb.build(TRE, "cg", child.id, child.revision)),
                     (_("✏️ Correct details"), cb.build(TRE, "e", child.id, child.revision))])
        rows.append([(_("🚪 Leave the register"), cb.build(TRE, "lv", child.id, child.revision))])
    if record.case_code and child.source_case_id is not None:
        rows.append([(_("📁 Open the case"), case_handlers.card_button_data(child.source_case_id))])
    rows.append([(_("📜 History"), cb.build(TRE, "h", child.id)),
                 (_("⬅️ List"), list_data(child.village_id))])
    return keyboard(rows)


@handles
async def show_card(request: Request) -> Reply:
    """A child's record, from a list or a notice (audited)."""
    return await render_card(request, request.callback.int_arg(0),
                             edit=request.callback.action == "c")


@handles
async def show_history(request: Request) -> Reply:
    """Every change of the record: who, when, what (the "biến động")."""
    child, events = await service.history(request.actor, request.callback.int_arg(0),
                                          session=request.session, now=request.now)
    tz = request.runtime.tz
    lines = [_("<b>History of {name}'s record</b>").format(name=esc(child.full_name))]
    for event, who in events:
        lines.append(_("{when} · {who}: {what}").format(
            when=event.at.astimezone(tz).strftime("%H:%M %d/%m/%Y"),
            who=esc(who) if who else _("the assistant"),
            what=_event_text(event.kind, event.changes or {})))
    return Reply("\n".join(lines)[:3900], keyboard([[(_("📁 Back to the record"),
                                                      card_data(child.id))]]), edit=True)


async def _changed_card(request: Request, child_id: int, action) -> Reply:  # noqa: ANN001
    """Runs a change; an out-of-date button shows the record as it is now."""
    try:
        await action()
    except InvalidInput as problem:
        if problem.code not in ("child_changed", "child_left"):
            raise
        return await render_card(request, child_id, edit=False, prefix=_(
            "⚠️ This record has just changed. Here it is as it is now; please choose again.")
            + "\n\n")
    return await render_card(request, child_id, edit=True)


@handles
async def cycle_support(request: Request) -> Reply:
    """One tap on a support button of a record: its next status, recorded with today."""
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    try:
        kind = SupportKind(request.callback.args[2])
    except (IndexError, ValueError) as exc:
        raise cb.StaleButton("support") from exc

    async def apply() -> None:
        loaded = await service.load(request.actor, child_id, RegisterRight.UPDATE,
                                    session=request.session)
        supports = {s.kind: s for s in await service.store.list_supports(
            child_id, session=request.session)}
        current = supports.get(str(kind))
        await service.set_support(request.actor, loaded.child.id, rev, kind,
                                  next_support_status(current.status if current else None),
                                  session=request.session, now=request.now,
                                  today=_today(request))

    return await _changed_card(request, child_id, apply)


def _record_groups_keyboard(child: RegisterChild) -> InlineKeyboardMarkup:
    rows = [[(("✅ " if str(g) in child.groups else "") + special_group_label(g),
              cb.build(TRE, "cgt", child.id, child.revision, i))] for i, g in enumerate(GROUPS)]
    rows.append([(_("📁 Back to the record"), card_data(child.id))])
    return keyboard(rows)


@handles
async def show_record_groups(request: Request) -> Reply:
    loaded = await service.load(request.actor, request.callback.int_arg(0),
                                RegisterRight.UPDATE, session=request.session)
    if loaded.child.revision != request.callback.int_arg(1):
        return await render_card(request, loaded.child.id, edit=False, prefix=_(
            "⚠️ This record has just changed. Here it is as it is now; please choose again.")
            + "\n\n")
    return Reply(_("Tap a group to add or remove it (Điều 10, Law on Children):"),
                 _record_groups_keyboard(loaded.child), edit=True)


@handles
async def toggle_record_group(request: Request) -> Reply:
    child_id, rev, index = (request.callback.int_arg(i) for i in range(3))
    if not 0 <= index < len(GROUPS):
        raise cb.StaleButton("group")
    loaded = await service.load(request.actor, child_id, RegisterRight.UPDATE,
                                session=request.session)
    chosen = set(loaded.child.groups) ^ {str(GROUPS[index])}
    try:
        child = await service.set_groups(request.actor, child_id, rev, list(chosen),
                                         loaded.child.at_risk, session=request.session,
                                         now=request.now)
    except InvalidInput as problem:
        if problem.code == "group_required":
            return Reply(message_for(problem), _record_groups_keyboard(loaded.child))
        return await render_card(request, child_id, edit=False, prefix=_(
            "⚠️ This record has just changed. Here it is as it is now; please choose again.")
            + "\n\n")
    return Reply(_("Tap a group to add or remove it (Điều 10, Law on Children):"),
                 _record_groups_keyboard(child), edit=True)


# --- correcting the details (name, date of birth, sex, village, caregiver) ---------------

EDIT_FIELDS = ("name", "birth", "sex", "village", "caregiver", "relation")
TYPED_EDITS = {"name", "birth", "caregiver"}


def _stale_card(request: Request, child_id: int):  # noqa: ANN202
    return render_card(request, child_id, edit=False, prefix=_(
        "⚠️ This record has just changed. Here it is as it is now; please choose again.")
        + "\n\n")


@handles
async def ask_edit_field(request: Request) -> Reply:
    """"✏️ Correct details": which detail to correct."""
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    loaded = await service.load(request.actor, child_id, RegisterRight.UPDATE,
                                session=request.session)
    child = loaded.child
    if child.status != ChildStatus.ACTIVE or child.revision != rev:
        return await _stale_card(request, child_id)
    words = {"name": _("Full name"), "birth": _("Date of birth"), "sex": _("Sex"),
             "village": _("Village"), "caregiver": _("Caregiver"),
             "relation": _("Relation")}
    shown = [f for f in EDIT_FIELDS if f != "village"
             or request.actor.role is not Role.COLLABORATOR]
    if not child.caregiver:
        shown.remove("relation")
    choices = [(words[f], cb.build(TRE, "ef", child.id, rev, f)) for f in shown]
    rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
    rows.append([(_("📁 Back to the record"), card_data(child.id))])
    return Reply(_("What do you want to correct for <b>{name}</b>?").format(
        name=esc(child.full_name)), keyboard(rows), edit=True)


def _edit_prompt(field: str, child: RegisterChild, today: dt.date) -> str:
    if field == "name":
        return _("Now: <b>{now}</b>. Type the child's correct full name.").format(
            now=esc(child.full_name))
    if field == "birth":
        return _("Now: {now}. Type the correct date of birth, e.g. 3/4/2015, or only the "
                 "year (2015).").format(now=birth_text(child, today))
    return _("Now: {now}. Type the caregiver's name.").format(
        now=esc(child.caregiver) if child.caregiver else _("nobody recorded"))


@handles
async def ask_edit_value(request: Request) -> Reply:
    """A detail chosen: typed ones wait for the message, the others are buttons."""
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    field = request.callback.args[2] if len(request.callback.args) > 2 else ""
    if field not in EDIT_FIELDS:
        raise cb.StaleButton("register edit field")
    loaded = await service.load(request.actor, child_id, RegisterRight.UPDATE,
                                session=request.session)
    child = loaded.child
    if child.status != ChildStatus.ACTIVE or child.revision != rev:
        return await _stale_card(request, child_id)
    back = [(_("📁 Back to the record"), card_data(child.id))]
    if field in TYPED_EDITS:
        unfinished = await _adding(request)
        note = ""
        if unfinished is not None and unfinished.data.get("name"):
            note = "↩️ " + _("Dropped the child you were adding to the register. Nothing was "
                            "saved.") + "\n\n"
        await cases_service.expect_input(request.user_id, EDITING, session=request.session,
                                         now=request.now,
                                         data={"child": child.id, "rev": rev, "field": field})
        return Reply(note + _edit_prompt(field, child, _today(request)),
                     keyboard([_cancel_row()]), edit=True)
    if field == "sex":
        choices = [(("✅ " if child.sex == str(x) else "") + sex_name(x),
                    cb.build(TRE, "ev", child.id, rev, "sex", x)) for x in Sex]
        return Reply(_("{name}: boy or girl?").format(name=esc(child.full_name)),
                     keyboard([choices, back]), edit=True)
    if field == "village":
        if request.actor.role is Role.COLLABORATOR:
            raise NotAllowed("edit_child", "village")
        villages = await service.villages(child.commune_id, session=request.session)
        choices = [(button_label(("✅ " if v.id == child.village_id else "") + v.name, 30),
                    cb.build(TRE, "ev", child.id, rev, "village", v.id)) for v in villages[:40]]
        rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
        return Reply(_("In which village does the child live?"), keyboard([*rows, back]),
                     edit=True)
    choices = [(("✅ " if child.caregiver_relation == r else "") + relation_name(r).capitalize(),
                cb.build(TRE, "ev", child.id, rev, "relation", r)) for r in RELATIONS]
    rows = [choices[i:i + 3] for i in range(0, len(choices), 3)]
    return Reply(_("{name} is the child's…").format(name=esc(child.caregiver or "")),
                 keyboard([*rows, back]), edit=True)


async def _apply_edit(request: Request, child_id: int, rev: int,
                      edit: service.IdentityEdit, *, edit_message: bool,
                      typed: bool = False) -> Reply:
    """Saves a correction; an out-of-date one shows the record as it is now. A typed one
    ends its pending input (a pressed one leaves another correction being typed alone: it
    is then out of date and says so)."""
    try:
        _child, fields = await service.edit_identity(
            request.actor, child_id, rev, edit, session=request.session, now=request.now,
            today=_today(request))
    except InvalidInput as problem:
        if problem.code not in ("child_changed", "child_left"):
            raise
        if typed:
            await _drop_edit(request)
        return await _stale_card(request, child_id)
    if typed:
        await _drop_edit(request)
    prefix = (_("✅ Corrected: {fields}.").format(fields=", ".join(field_name(f)
                                                                   for f in fields))
              if fields else _("Nothing changed: that is already what the record says."))
    return await render_card(request, child_id, edit=edit_message, prefix=prefix + "\n\n")


async def _drop_edit(request: Request) -> None:
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is not None and pending.kind == EDITING:
        await cases_service.drop_input(request.user_id, session=request.session)


@handles
async def edit_pressed_value(request: Request) -> Reply:
    """A pressed correction (sex, village, relation): saved at once."""
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    args = request.callback.args
    if len(args) < 4:
        raise cb.StaleButton("register edit")
    field, value = args[2], args[3]
    try:
        if field == "sex":
            edit = service.IdentityEdit(sex=Sex(value))
        elif field == "village":
            edit = service.IdentityEdit(village_id=cb.parse_int(value))
        elif field == "relation" and value in RELATIONS:
            edit = service.IdentityEdit(caregiver_relation=value)
        else:
            raise ValueError(field)
    except ValueError as exc:
        raise cb.StaleButton("register edit") from exc
    return await _apply_edit(request, child_id, rev, edit, edit_message=True)


def _typed_edit(field: str, value: object) -> service.IdentityEdit:
    if field == "name":
        return service.IdentityEdit(full_name=str(value))
    if field == "birth":
        assert isinstance(value, dict)
        return service.IdentityEdit(birth=Birth(value["year"], dt.date.fromisoformat(
            value["date"]) if value.get("date") else None))
    return service.IdentityEdit(caregiver=str(value))


def _edit_duplicate_warning(name: str, year: int,
                            found: list[service.Duplicate]) -> Reply:
    lines, rows = _duplicates_found(name, year, found)
    lines.append(_("If it is the same child, keep that record and record this one as leaving "
                   "(“duplicate record”). If it is another child, save the correction "
                   "anyway."))
    rows.append([(_("💾 Save anyway (another child)"), cb.build(TRE, "es"))])
    rows.append(_cancel_row())
    return Reply("\n".join(lines), keyboard(rows))


async def _took_edit(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """A typed correction (name, date of birth, caregiver): checked like when adding; a new
    name or birth year that matches another record is warned about before saving."""
    data = pending.data
    field, child_id = data["field"], int(data["child"])
    child = (await service.load(request.actor, child_id, RegisterRight.UPDATE,
                                session=request.session)).child
    text = message.text
    split = text is not None and len(text) >= TELEGRAM_LIMIT
    if data.get("continued"):  # the rest of a long message refused whole
        pending.data = {**data, "continued": split}
        await cases_service.save_input(pending, session=request.session)
        return [Reply(_("⚠️ This is the rest of the long message before, which was not "
                        "saved: this part was not saved either.") + "\n\n"
                      + _edit_prompt(field, child, _today(request)),
                      keyboard([_cancel_row()]))]
    try:
        if text is None:
            raise InvalidInput("text_expected")
        if field == "name":
            value: object = clean_name(text)
        elif field == "birth":
            birth = parse_birth(text, today=_today(request))
            value = {"year": birth.year, "date": birth.date.isoformat() if birth.date else None}
        else:
            value = clean_text(text, limit=MAX_CAREGIVER)
    except InvalidInput as problem:
        if split:
            pending.data = {**data, "continued": True}
            await cases_service.save_input(pending, session=request.session)
        return [Reply(message_for(problem) + "\n\n" + _edit_prompt(
            field, child, _today(request)), keyboard([_cancel_row()]))]
    edit = _typed_edit(field, value)
    if field in ("name", "birth"):
        found = await service.edit_duplicates(request.actor, child_id, edit,
                                              session=request.session)
        if found:
            pending.data = {**data, "value": value}
            await cases_service.save_input(pending, session=request.session)
            name = edit.full_name or child.full_name
            year = edit.birth.year if edit.birth else child.birth_year
            return [_edit_duplicate_warning(name, year, found)]
    return [await _apply_edit(request, child_id, int(data["rev"]), edit, edit_message=False,
                              typed=True)]


@handles
async def save_edit_anyway(request: Request) -> Reply:
    """"Save anyway" under a duplicate warning: the correction waiting is saved."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None or pending.kind != EDITING or "value" not in pending.data:
        return _no_longer_open()
    data = pending.data
    return await _apply_edit(request, int(data["child"]), int(data["rev"]),
                             _typed_edit(data["field"], data["value"]), edit_message=True,
                             typed=True)


# --- the periodic review ------------------------------------------------------------------


def review_list(village_name: str, children: list[RegisterChild],
                prefix: str = "") -> tuple[str, InlineKeyboardMarkup | None]:
    """The children of a village due for their review, one "Không thay đổi" per child."""
    if not children:
        return prefix + _("✅ Every child of {village} due for review has been reviewed. "
                          "Thank you!").format(village=esc(in_sentence(village_name))), None
    shown = children[:10]
    lines = [prefix + _("🔁 <b>Periodic review – {village}</b>: {n} children are due. For each "
                        "child, tap “No change” if nothing changed, or open the record to "
                        "update it.").format(village=esc(village_name), n=len(children))]
    rows = []
    for number, child in enumerate(shown, start=1):
        lines.append(f"{number}. {esc(child.full_name)}")
        rows.append([(button_label(_("✅ {n}. No change").format(n=number), 20),
                      cb.build(TRE, "rv", child.id, child.revision)),
                     (button_label(f"📁 {child.full_name}", 24),
                      card_data(child.id, new_message=True))])
    if len(children) > len(shown):
        lines.append(_("…and {n} more: the next ones come after these.").format(
            n=len(children) - len(shown)))
    return "\n".join(lines), keyboard(rows)


async def _review(request: Request, child_id: int, rev: int) -> RegisterChild | None:
    try:
        return await service.review_unchanged(request.actor, child_id, rev,
                                              session=request.session, now=request.now,
                                              today=_today(request), months=_months(request))
    except InvalidInput as problem:
        if problem.code in ("child_changed", "child_left"):
            return None
        raise


@handles
async def reviewed_from_list(request: Request) -> Reply:
    """"Không thay đổi" in the review list: recorded; the list shows who is still due."""
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    child = await _review(request, child_id, rev)
    loaded = await service.load(request.actor, child_id, RegisterRight.VIEW,
                                session=request.session)
    village_id = loaded.child.village_id
    name = esc(loaded.child.full_name)
    prefix = (_("✅ Recorded: {name}, no change.") if child is not None
              else _("{name} was already reviewed or changed just now.")).format(name=name)
    if village_id is None:
        return Reply(prefix, edit=True)
    due = await service.due_in_village(request.actor, loaded.child.commune_id, village_id,
                                       session=request.session, today=_today(request))
    village = await service.units.get_unit(village_id, session=request.session)
    text, markup = review_list(village.name if village else "", due, prefix + "\n\n")
    return Reply(text, markup, edit=True)


@handles
async def ordered_review(request: Request) -> list[Reply]:
    """An officer asks a village for an ad hoc review: its collaborators get the list now."""
    commune_id, _village = _home(request)
    village_id = request.callback.int_arg(0)
    ordered = await service.order_review(request.actor, commune_id, village_id,
                                         session=request.session, today=_today(request),
                                         now=request.now)
    if ordered is None:
        return [Reply(_("Nobody in this village can be asked: it has no collaborator on the "
                        "bot yet. The children are marked due for review."))]
    text, markup = review_list(ordered.village.name, ordered.children)
    return [Reply(_("🔁 The ad hoc review was sent to {n} collaborators of {village}.").format(
        n=len(ordered.recipients), village=esc(in_sentence(ordered.village.name)))),
        *[Reply(text, markup, chat_id=chat_id, kind="review") for chat_id in ordered.recipients]]


@handles
async def reviewed_from_card(request: Request) -> Reply:
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    child = await _review(request, child_id, rev)
    if child is None:
        return await render_card(request, child_id, edit=False, prefix=_(
            "⚠️ This record has just changed. Here it is as it is now; please choose again.")
            + "\n\n")
    return await render_card(request, child_id, edit=True,
                             prefix=_("✅ Review recorded.") + "\n\n")


# --- leaving the register -----------------------------------------------------------------


@handles
async def ask_leave_reason(request: Request) -> Reply:
    loaded = await service.load(request.actor, request.callback.int_arg(0),
                                RegisterRight.UPDATE, session=request.session)
    child, rev = loaded.child, request.callback.int_arg(1)
    rows = [[(leave_reason_name(r).capitalize(), cb.build(TRE, "lr", child.id, rev, r))]
            for r in CHOSEN_REASONS]
    rows.append([(_("📁 Back to the record"), card_data(child.id))])
    return Reply(_("Why does {name} leave the register? (Turning 16 is recorded by "
                   "itself on the birthday.)").format(name=esc(child.full_name)),
                 keyboard(rows), edit=True)


@handles
async def leave_with_reason(request: Request) -> Reply:
    child_id, rev = request.callback.int_arg(0), request.callback.int_arg(1)
    try:
        reason = LeaveReason(request.callback.args[2])
    except (IndexError, ValueError) as exc:
        raise cb.StaleButton("leave reason") from exc
    if reason not in CHOSEN_REASONS:
        raise cb.StaleButton("leave reason")
    await service.load(request.actor, child_id, RegisterRight.UPDATE, session=request.session)
    if reason is LeaveReason.MOVED_AWAY:
        await cases_service.expect_input(request.user_id, LEAVING, session=request.session,
                                         now=request.now, data={"child": child_id, "rev": rev})
        return Reply(_("Type the commune (and district) the child moved to, in one message."),
                     keyboard([_cancel_row()]), edit=True)
    return await _leave(request, child_id, rev, reason, None, edit=True)


async def _leave(request: Request, child_id: int, rev: int, reason: LeaveReason,
                 note: str | None, *, edit: bool) -> Reply:
    async def apply() -> None:
        left = await service.leave_register(request.actor, child_id, rev, reason, note=note,
                                            session=request.session, now=request.now,
                                            today=_today(request))
        if not left:
            raise InvalidInput("child_left")

    reply = await _changed_card(request, child_id, apply)
    reply.edit = edit and reply.edit
    return reply


async def _took_destination(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """The commune a child moved to: the child leaves the register."""
    if message.text is None:
        return [Reply(message_for(InvalidInput("text_expected")), keyboard([_cancel_row()]))]
    split = len(message.text) >= TELEGRAM_LIMIT
    if pending.data.get("continued"):  # the rest of a long message refused whole
        pending.data = {**pending.data, "continued": split}
        await cases_service.save_input(pending, session=request.session)
        return [Reply(_("⚠️ This is the rest of the long message before, which was not "
                        "saved: this part was not saved either.") + "\n\n" + _(
            "Type the commune (and district) the child moved to, in one message."),
            keyboard([_cancel_row()]))]
    try:
        note = clean_text(message.text, limit=MAX_CAREGIVER)
    except InvalidInput as problem:
        if split:
            pending.data = {**pending.data, "continued": True}
            await cases_service.save_input(pending, session=request.session)
        return [Reply(message_for(problem), keyboard([_cancel_row()]))]
    await cases_service.drop_input(request.user_id, session=request.session)
    return [await _leave(request, pending.data["child"], pending.data["rev"],
                         LeaveReason.MOVED_AWAY, note, edit=False)]


# --- adding a child: the questions ----------------------------------------------------------


def _step(data: dict) -> str:
    """The first question not answered yet."""
    for key in ("name", "sex", "birth", "village", "groups_done"):
        if key not in data:
            return key
    if data.get("at_risk") and "risk" not in data:
        return "risk"
    if "caregiver" not in data:
        return "caregiver"
    if data["caregiver"] and "relation" not in data:
        return "relation"
    return "supports"


TYPED = {"name", "birth", "risk", "caregiver"}


def _groups_keyboard(data: dict) -> InlineKeyboardMarkup:
    chosen = set(data.get("groups", []))
    labels = [(("✅ " if str(g) in chosen else "") + special_group_label(g),
               cb.build(TRE, "g", i)) for i, g in enumerate(GROUPS)]
    rows = [labels[i:i + 2] for i in range(0, len(labels), 2)]
    rows.append([(("✅ " if data.get("at_risk") else "") + _("At risk of falling into one"),
                  cb.build(TRE, "g", AT_RISK))])
    rows.append([(_("Done ➡️"), cb.build(TRE, "gd"))])
    rows.append(_cancel_row())
    return keyboard(rows)


def _supports_keyboard(data: dict) -> InlineKeyboardMarkup:
    supports = data.get("supports", {})
    rows = [[(button_label(f"{support_name(k)}: {support_status_name(supports.get(str(k)))}",
                           40), cb.build(TRE, "s", k))] for k in SupportKind]
    rows.append([(_("💾 Save"), cb.build(TRE, "save"))])
    rows.append(_cancel_row())
    return keyboard(rows)


async def _question(request: Request, pending: PendingInput) -> Reply:
    data, step = pending.data, _step(pending.data)
    if step == "name":
        return Reply(_("<b>Add a child to the register</b>\nType the child's full name, e.g. "
                       "Nguyễn Văn An."), keyboard([_cancel_row()]))
    if step == "sex":
        return Reply(_("{name}: boy or girl?").format(name=esc(data["name"])), keyboard([
            [(_("Male"), cb.build(TRE, "a", "sex", Sex.MALE)),
             (_("Female"), cb.build(TRE, "a", "sex", Sex.FEMALE))], _cancel_row()]))
    if step == "birth":
        return Reply(_("Type the date of birth, e.g. 3/4/2015, or only the year (2015) if the "
                       "day is not known."), keyboard([_cancel_row()]))
    if step == "village":
        villages = await service.villages(data["commune"], session=request.session)
        choices = [(button_label(v.name, 30), cb.build(TRE, "a", "village", v.id))
                   for v in villages[:40]]
        rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
        return Reply(_("In which village does the child live?"),
                     keyboard([*rows, _cancel_row()]))
    if step == "groups_done":
        return Reply(_("Which circumstances (Điều 10, Law on Children)? Tap every one that "
                       "applies, then Done."), _groups_keyboard(data))
    if step == "risk":
        return Reply(_("At risk of what? Type it in a few words (e.g. “bố mẹ đi làm xa, ở "
                       "với bà đã già yếu”)."), keyboard([_cancel_row()]))
    if step == "caregiver":
        return Reply(_("Who looks after the child? Type their name, or skip."), keyboard([
            [(_("Skip"), cb.build(TRE, "skip"))], _cancel_row()]))
    if step == "relation":
        choices = [(relation_name(r).capitalize(), cb.build(TRE, "a", "relation", r))
                   for r in RELATIONS]
        rows = [choices[i:i + 3] for i in range(0, len(choices), 3)]
        return Reply(_("{name} is the child's…").format(name=esc(data["caregiver"])),
                     keyboard([*rows, _cancel_row()]))
    return Reply("\n".join([*await _summary(request, data), "", _(
        "Support the child receives: tap a line to change its status (missing → applied → "
        "has it → not eligible), then Save.")]), _supports_keyboard(data))


async def _summary(request: Request, data: dict) -> list[str]:
    """What Save will store, as typed and chosen, for a last look."""
    birth = data["birth"]
    when = (vi_short_date(dt.date.fromisoformat(birth["date"])) if birth.get("date")
            else _("year {year}").format(year=birth["year"]))
    lines = [_("<b>To be saved:</b>"), f"<b>{esc(data['name'])}</b>",
             _("{sex}, born {birth}").format(sex=sex_name(data["sex"]), birth=when)]
    village = (await service.units.get_unit(data["village"], session=request.session)
               if data.get("village") else None)
    if village is not None:
        lines.append(_("Village: {village}").format(village=esc(village.name)))
    lines += [f"• {special_group_name(g)}" for g in data.get("groups", [])]
    if data.get("at_risk"):
        lines.append("• " + _("At risk: {risk}").format(risk=esc(data.get("risk") or "")))
    if data.get("caregiver"):
        relation = relation_name(data.get("relation"))
        lines.append(_("Caregiver: {name}").format(name=esc(data["caregiver"]))
                     + (f" ({relation})" if relation else ""))
    return lines


async def _adding(request: Request) -> PendingInput | None:
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    return pending if pending is not None and pending.kind == ADDING else None


def _no_longer_open() -> Reply:
    return Reply(_("This question is no longer open. Use /tre to start again."))


@handles
async def start_adding(request: Request) -> Reply:
    """"➕ Add a child": the questions begin (an unfinished one is replaced)."""
    commune_id, own_village = _home(request)
    village_id = own_village or request.callback.int_arg(0) or None
    place = await service.place(commune_id, village_id, session=request.session)
    ensure(request.actor, RegisterAction.ADD, place)
    unfinished = await _adding(request)
    if unfinished is not None and unfinished.data.get("name"):
        # An old "Add a child" pressed mid-way: what was typed is kept, not thrown away.
        question = await _question(request, unfinished)
        question.text = _("You are already adding {name}: here is where you stopped (✖️ "
                          "Cancel to start again).").format(
            name=esc(unfinished.data["name"])) + "\n\n" + question.text
        return question
    data: dict = {"commune": commune_id}
    if village_id is not None:
        data["village"] = village_id
    pending = await cases_service.expect_input(request.user_id, ADDING, session=request.session,
                                               now=request.now, data=data)
    return await _question(request, pending)


@handles
async def start_from_case(request: Request) -> Reply:
    """"Add to the register" on a case card: the questions begin with what the case knows
    (commune, village, name, circumstances); a child already added opens instead."""
    data, existing = await service.from_case(request.actor, request.callback.int_arg(0),
                                             session=request.session)
    if existing is not None:
        return await render_card(request, existing, edit=False, prefix=_(
            "This case's child is already on the register:") + "\n\n")
    pending = await cases_service.expect_input(request.user_id, ADDING, session=request.session,
                                               now=request.now, data=data)
    return await _question(request, pending)


@handles
async def answered(request: Request) -> Reply:
    """Stores a pressed answer (sex, village, relation) and asks the next question."""
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    args = request.callback.args
    if len(args) < 2:
        raise cb.StaleButton("register answer")
    key, value = args[0], args[1]
    if key != _step(pending.data):
        return await _question(request, pending)  # an old button: ask what is due now
    try:
        if key == "sex":
            pending.data["sex"] = str(Sex(value))
        elif key == "relation":
            if value not in RELATIONS:
                raise ValueError(value)
            pending.data["relation"] = value
        elif key == "village":
            village_id = cb.parse_int(value)
            place = await service.place(pending.data["commune"], village_id,
                                        session=request.session)
            ensure(request.actor, RegisterAction.ADD, place)
            pending.data["village"] = village_id
        else:
            raise ValueError(key)
    except ValueError as exc:
        raise cb.StaleButton("register answer") from exc
    await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


@handles
async def toggle_group(request: Request) -> Reply:
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    index = request.callback.int_arg(0)
    if _step(pending.data) != "groups_done" or not 0 <= index <= AT_RISK:
        return await _question(request, pending)
    if index == AT_RISK:
        pending.data["at_risk"] = not pending.data.get("at_risk", False)
        if not pending.data["at_risk"]:
            pending.data.pop("risk", None)
    else:
        chosen = set(pending.data.get("groups", [])) ^ {str(GROUPS[index])}
        pending.data["groups"] = [str(g) for g in GROUPS if str(g) in chosen]
    await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


@handles
async def groups_done(request: Request) -> Reply:
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    if _step(pending.data) != "groups_done":
        return await _question(request, pending)
    if not pending.data.get("groups") and not pending.data.get("at_risk"):
        reply = await _question(request, pending)
        reply.text = _("Please tap at least one circumstance (or “at risk”).") + "\n\n" + \
            reply.text
        return reply
    pending.data["groups_done"] = True
    await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


@handles
async def skip_caregiver(request: Request) -> Reply:
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    if _step(pending.data) == "caregiver":
        pending.data["caregiver"] = ""
        await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


@handles
async def cycle_draft_support(request: Request) -> Reply:
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    try:
        kind = SupportKind(request.callback.args[0])
    except (IndexError, ValueError) as exc:
        raise cb.StaleButton("support") from exc
    if _step(pending.data) != "supports":
        return await _question(request, pending)
    supports = pending.data.setdefault("supports", {})
    supports[str(kind)] = str(next_support_status(supports.get(str(kind))))
    await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


def _new_child(data: dict) -> service.NewChild:
    birth = data["birth"]
    return service.NewChild(
        commune_id=data["commune"], village_id=data.get("village"), full_name=data["name"],
        sex=Sex(data["sex"]),
        birth=Birth(birth["year"], dt.date.fromisoformat(birth["date"]) if birth.get("date")
                    else None),
        groups=tuple(data.get("groups", [])), at_risk=bool(data.get("at_risk")),
        risk_note=data.get("risk"), caregiver=data.get("caregiver") or None,
        caregiver_relation=data.get("relation"),
        supports=tuple(sorted((data.get("supports") or {}).items())),
        source_case_id=data.get("case"))


@handles
async def save(request: Request) -> Reply:
    """"Save" (or "Add anyway" after a duplicate warning): the record is created."""
    pending = await _adding(request)
    if pending is None:
        return _no_longer_open()
    if _step(pending.data) != "supports":
        return await _question(request, pending)
    new = _new_child(pending.data)
    anyway = request.callback.action == "dup"
    if not anyway:
        found = await service.duplicates(request.actor, new, session=request.session)
        if found:
            return _duplicate_warning(new, found)
    child = await service.add(request.actor, new, session=request.session, now=request.now,
                              today=_today(request), review_months=_months(request))
    await cases_service.drop_input(request.user_id, session=request.session)
    return await render_card(request, child.id, edit=True,
                             prefix=_("✅ Added to the register.") + "\n\n")


def _duplicates_found(name: str, year: int, found: list[service.Duplicate],
                      ) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """The warning's lines and an "open" button for each record the person may see."""
    lines = [_("⚠️ <b>{name}, born {year}, may already be on the commune's register.</b>")
             .format(name=esc(name), year=year)]
    rows = []
    for number, dup in enumerate(found[:5], start=1):
        where = esc(dup.village_name) if dup.village_name else _("no village")
        if dup.visible:
            lines.append(_("{n}. A record in {village}.").format(n=number, village=where))
            rows.append([(_("📁 Open record {n}").format(n=number),
                          card_data(dup.child_id, new_message=True))])
        else:
            lines.append(_("{n}. A record in {village} (another village: ask the commune "
                           "officer).").format(n=number, village=where))
    return lines, rows


def _duplicate_warning(new: service.NewChild, found: list[service.Duplicate]) -> Reply:
    lines, rows = _duplicates_found(new.full_name, new.birth.year, found)
    lines.append(_("If it is the same child, open the record and update it instead. If it is "
                   "another child with the same name, add it anyway."))
    rows.append([(_("➕ Add anyway (another child)"), cb.build(TRE, "dup"))])
    rows.append(_cancel_row())
    return Reply("\n".join(lines), keyboard(rows), edit=True)


@handles
async def cancel(request: Request) -> Reply:
    await cases_service.drop_input(request.user_id, session=request.session)
    return Reply(_("Cancelled. Nothing was saved."), edit=True)


TELEGRAM_LIMIT = 4096  # Telegram splits a longer message into pieces of this length


async def _took_typed(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """A typed answer of the add flow (name, date of birth, risk, caregiver); a problem is
    explained and the same question asked again. At the boy-or-girl question, "nam"/"nữ"
    answer it and other words are the rest of a name sent in two messages."""
    step = _step(pending.data)
    text = message.text
    if pending.data.pop("continued", None):
        # The rest of a long message refused whole: not an answer either.
        if text is not None and len(text) >= TELEGRAM_LIMIT:
            pending.data["continued"] = True
        await cases_service.save_input(pending, session=request.session)
        question = await _question(request, pending)
        return [Reply(_("⚠️ This is the rest of the long message before, which was not "
                        "saved: this part was not saved either.") + "\n\n" + question.text,
                      question.keyboard)]
    if step == "sex" and text is not None:
        return [await _took_sex_or_more_name(request, pending, text)]
    if step not in TYPED:
        return [Reply(_("Please answer with the buttons.")), await _question(request, pending)]
    try:
        if text is None:
            raise InvalidInput("text_expected")
        if step == "name":
            pending.data["name"] = clean_name(text)
        elif step == "birth":
            birth = parse_birth(text, today=_today(request))
            pending.data["birth"] = {"year": birth.year,
                                     "date": birth.date.isoformat() if birth.date else None}
        elif step == "risk":
            pending.data["risk"] = clean_text(text)
        else:
            pending.data["caregiver"] = clean_text(text, limit=MAX_CAREGIVER)
    except InvalidInput as problem:
        if text is not None and len(text) >= TELEGRAM_LIMIT:
            pending.data["continued"] = True  # Telegram sends the rest as the next message
            await cases_service.save_input(pending, session=request.session)
        question = await _question(request, pending)
        return [Reply(message_for(problem) + "\n\n" + question.text, question.keyboard)]
    await cases_service.save_input(pending, session=request.session)
    return [await _question(request, pending)]


async def _took_sex_or_more_name(request: Request, pending: PendingInput, text: str) -> Reply:
    """"nam"/"nữ" typed instead of pressed; other words finish the name typed before."""
    sex = parse_sex(text)
    if sex is not None:
        pending.data["sex"] = str(sex)
        await cases_service.save_input(pending, session=request.session)
        return await _question(request, pending)
    try:
        pending.data["name"] = clean_name(f"{pending.data['name']} {text}")
    except InvalidInput as problem:
        question = await _question(request, pending)
        return Reply(message_for(problem) + "\n\n" + question.text, question.keyboard)
    await cases_service.save_input(pending, session=request.session)
    question = await _question(request, pending)
    return Reply(_("Added to the name: <b>{name}</b>. If the name is wrong, cancel and start "
                   "again.").format(name=esc(pending.data["name"])) + "\n\n" + question.text,
                 question.keyboard)


def sixteen_notice(item: service.TurnedSixteen) -> tuple[str, InlineKeyboardMarkup]:
    """What the village and the officers are told when a child leaves at 16."""
    child = item.child
    where = _(" ({village})").format(village=esc(item.village.name)) if item.village else ""
    text = _("🎂 <b>{name}</b>{where} turned 16 on {date} and has left the register of "
             "children in special circumstances (under the Law on Children, a child is "
             "under 16). Nothing else to do; the record is kept.").format(
        name=esc(child.full_name), where=where, date=vi_short_date(child.leaves_on))
    return text, keyboard([[(_("📁 Open the record"), card_data(child.id, new_message=True))]])


case_handlers.register_input(ADDING, _took_typed, keep_armed=True)
case_handlers.register_input(LEAVING, _took_destination, keep_armed=True)
case_handlers.register_input(EDITING, _took_edit, keep_armed=True)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(TRE)
    return [
        CommandHandler("tre", register_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(register_command, pattern=p + "home$"),
        CallbackQueryHandler(show_list, pattern=p + r"l:\d+:\d+$"),
        CallbackQueryHandler(show_filtered, pattern=p + r"f:\d+:[a-z]+:\d+$"),
        CallbackQueryHandler(show_card, pattern=p + r"co?:\d+$"),
        CallbackQueryHandler(show_history, pattern=p + r"h:\d+$"),
        CallbackQueryHandler(cycle_support, pattern=p + r"cs:\d+:\d+:[a-z_]+$"),
        CallbackQueryHandler(show_record_groups, pattern=p + r"cg:\d+:\d+$"),
        CallbackQueryHandler(toggle_record_group, pattern=p + r"cgt:\d+:\d+:\d+$"),
        CallbackQueryHandler(ask_edit_field, pattern=p + r"e:\d+:\d+$"),
        CallbackQueryHandler(ask_edit_value, pattern=p + r"ef:\d+:\d+:[a-z]+$"),
        CallbackQueryHandler(edit_pressed_value, pattern=p + r"ev:\d+:\d+:[a-z]+:[a-z0-9_]+$"),
        CallbackQueryHandler(save_edit_anyway, pattern=p + "es$"),
        CallbackQueryHandler(ask_leave_reason, pattern=p + r"lv:\d+:\d+$"),
        CallbackQueryHandler(leave_with_reason, pattern=p + r"lr:\d+:\d+:[a-z_0-9]+$"),
        CallbackQueryHandler(start_adding, pattern=p + r"new:\d+$"),
        CallbackQueryHandler(start_from_case, pattern=p + r"fc:\d+$"),
        CallbackQueryHandler(answered, pattern=p + r"a:[a-z]+:[a-z0-9_]+$"),
        CallbackQueryHandler(toggle_group, pattern=p + r"g:\d+$"),
        CallbackQueryHandler(groups_done, pattern=p + "gd$"),
        CallbackQueryHandler(skip_caregiver, pattern=p + "skip$"),
        CallbackQueryHandler(cycle_draft_support, pattern=p + r"s:[a-z_]+$"),
        CallbackQueryHandler(save, pattern=p + "(save|dup)$"),
        CallbackQueryHandler(reviewed_from_list, pattern=p + r"rv:\d+:\d+$"),
        CallbackQueryHandler(reviewed_from_card, pattern=p + r"rc:\d+:\d+$"),
        CallbackQueryHandler(ordered_review, pattern=p + r"or:\d+$"),
        CallbackQueryHandler(cancel, pattern=p + "x$"),
    ]
