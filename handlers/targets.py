"""The commune administrator's target editor in the chat: /baocao → 🎯 Targets.

The list of the plan's targets (one line per part of a target with several rates); a
target's screen with its values per year, its agency and whether it is asked this year;
changes (a target value for a year, typed and checked by unit; the agency; off for this
year) always go through a confirmation, then are saved, recorded and audited
(services/target_editor.py)."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.i18n import _
from domain.errors import InvalidInput
from domain.targets import Unit, parse_value, rule_text
from handlers import callback_data as cb
from handlers import cases as case_handlers
from handlers.common import Reply, Request, handles, keyboard
from handlers.rounds import fit, unit_hint
from handlers.texts import button_label, esc
from services import cases as cases_service
from services import target_editor as service
from storage.models import PendingInput

BT = "bt"
INPUT = "target"
NAME_CHARS = 70  # of a target's wording in the list


def _year(request: Request) -> int:
    return request.runtime.local_now().year


def _short(text: str) -> str:
    return text if len(text) <= NAME_CHARS else text[:NAME_CHARS - 1].rstrip(" ,;") + "…"


def _goal(item: service.TargetItem) -> str:
    return rule_text(item.spec.rule, item.spec.unit, item.goal) or "—"


def _cb_value(value: float) -> str:
    """A value for a button: "4.5", "550" (never an exponent)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


async def list_reply(request: Request, *, prefix: str = "", edit: bool = True) -> Reply:
    year = _year(request)
    items = await service.list_items(request.actor, year, session=request.session)
    if not items:
        return Reply(prefix + _("The commune's set-up file has no targets yet: add them under "
                                "[[targets]] and import it (see the README)."), edit=edit)
    lines = [prefix + _("🎯 <b>The plan's targets, {year}</b>").format(year=year), ""]
    for item in items:
        state = _(" · ⏸ off in {year}").format(year=year) if item.off else ""
        agency = f" · {esc(item.agency.name)}" if item.agency is not None else ""
        lines.append(f"<b>{esc(item.spec.number)}.</b> {esc(_short(item.spec.name))} · "
                     f"{esc(_goal(item))}{agency}{state}")
    lines += ["", _("Choose a target to change its value for a year, its agency, or to switch "
                    "it off for {year}.").format(year=year)]
    buttons = [(("⏸ " if item.off else "") + item.spec.number, cb.build(BT, "v", item.row.id))
               for item in items]
    rows = [buttons[i:i + 6] for i in range(0, len(buttons), 6)]
    return Reply(fit(lines), keyboard(rows), edit=edit)


def item_reply(item: service.TargetItem, *, prefix: str = "", edit: bool = True) -> Reply:
    spec, row, year = item.spec, item.row, item.year
    lines = [prefix + _("🎯 <b>Target {number}</b>").format(number=esc(spec.number))]
    if spec.title:
        lines.append(_("Part of: {title}").format(title=esc(spec.title)))
    lines += ["", esc(spec.name), ""]
    values = (", ".join(f"{y}: {rule_text(spec.rule, spec.unit, v)}"
                        for y, v in sorted(spec.values.items())) or "—")
    lines.append(_("Target values: {values}").format(values=esc(values)))
    lines.append(_("In force in {year}: {goal}").format(year=year, goal=esc(_goal(item))))
    if item.reported:
        lines.append(_("Reported by: {agency}").format(
            agency=esc(item.agency.name) if item.agency is not None else "—"))
    else:
        lines.append(_("Computed by me from the cases received."))
    lines.append(_("⏸ Switched off for {year}: not asked, not in that year's report.").format(
        year=year) if item.off else _("Asked in {year}'s rounds.").format(year=year))
    if row.edited_at is not None:
        lines.append(_("Last changed in the chat on {date}.").format(
            date=row.edited_at.strftime("%d/%m/%Y")))
    rows = []
    if item.editable_value:
        rows.append([(_("✏️ Target value for {year}").format(year=year),
                      cb.build(BT, "e", row.id, year))])
    if item.reported:
        rows.append([(_("🏢 Change the agency"), cb.build(BT, "a", row.id))])
    rows.append([(_("▶️ Switch on again for {year}").format(year=year) if item.off else
                  _("⏸ Switch off for {year}").format(year=year),
                  cb.build(BT, "o", row.id, year, 0 if item.off else 1))])
    rows.append([(_("« All targets"), cb.build(BT, "l"))])
    return Reply(fit(lines), keyboard(rows), edit=edit)


@handles
async def list_pressed(request: Request) -> Reply:
    """The targets, one button each."""
    await _disarm(request)
    return await list_reply(request)


@handles
async def item_pressed(request: Request) -> Reply:
    """One target's screen (also "back" from a change not confirmed)."""
    await _disarm(request)
    item = await service.get_item(request.actor, request.callback.int_arg(0), _year(request),
                                  session=request.session)
    return item_reply(item)


@handles
async def edit_pressed(request: Request) -> Reply:
    """Waits for the new target value of a year (typed, checked by unit)."""
    target_id, year = request.callback.int_arg(0), request.callback.int_arg(1)
    item = await service.get_item(request.actor, target_id, year, session=request.session)
    if not item.editable_value:
        return item_reply(item)
    cancel = (_("✖️ Cancel"), cb.build(BT, "v", target_id))
    text = _("✏️ Target {number}, {year}: now {goal}.").format(
        number=esc(item.spec.number), year=year, goal=esc(_goal(item)))
    if item.spec.unit is Unit.YES_NO:
        return Reply(text + "\n\n" + _("Choose the new target value."), keyboard([
            [(_("✅ Có"), cb.build(BT, "c", target_id, year, 1)),
             (_("❌ Không"), cb.build(BT, "c", target_id, year, 0))], [cancel]]), edit=True)
    await cases_service.expect_input(request.user_id, INPUT, session=request.session,
                                     now=request.now, data={"target": target_id, "year": year})
    return Reply(text + "\n\n" + _("Type the new target value: {hint}.").format(
        hint=unit_hint(item.spec.unit)), keyboard([[cancel]]), edit=True)


def _confirm_value(item: service.TargetItem, value: float) -> Reply:
    spec = item.spec
    new = rule_text(spec.rule, spec.unit, value)
    text = _("Change the target value of target {number} for {year} from {old} to {new}? It "
             "holds from {year} until the next year that has a value of its own.").format(
        number=esc(spec.number), year=item.year, old=esc(_goal(item)), new=esc(new))
    return Reply(text, keyboard([
        [(_("✅ Yes, change it"), cb.build(BT, "vy", item.row.id, item.year, _cb_value(value),
                                          item.fingerprint)),
         (_("↩️ No"), cb.build(BT, "v", item.row.id))]]))


async def _took_value(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """The typed target value: refused with the unit's hint (still waiting), or the
    confirmation."""
    target_id, year = int(pending.data.get("target", 0)), int(pending.data.get("year", 0))
    item = await service.get_item(request.actor, target_id, year, session=request.session)
    cancel = keyboard([[(_("✖️ Cancel"), cb.build(BT, "v", target_id))]])
    try:
        value = parse_value(item.spec.unit, message.text or "")
    except InvalidInput:
        return [Reply(_("⚠️ “{text}” cannot be used as a target value of target {number}: "
                        "please type {hint}. Nothing was changed.").format(
            text=esc((message.text or "")[:40]), number=esc(item.spec.number),
            hint=unit_hint(item.spec.unit)), cancel)]
    await _disarm(request)
    return [_confirm_value(item, value)]


@handles
async def yes_no_pressed(request: Request) -> Reply:
    target_id, year = request.callback.int_arg(0), request.callback.int_arg(1)
    item = await service.get_item(request.actor, target_id, year, session=request.session)
    reply = _confirm_value(item, float(bool(request.callback.int_arg(2))))
    reply.edit = True
    return reply


@handles
async def value_confirmed(request: Request) -> Reply:
    """Saves the target value (checked again: the button is not trusted)."""
    target_id, year = request.callback.int_arg(0), request.callback.int_arg(1)
    try:
        value = float(request.callback.args[2])
    except (IndexError, ValueError):
        raise InvalidInput("target_value_invalid") from None
    try:
        item, old = await service.set_value(request.actor, target_id, year, value,
                                            session=request.session, now=request.now,
                                            seen=_seen(request, 3))
    except (service.AlreadyDone, service.ChangedMeanwhile) as unchanged:
        return _unchanged(unchanged)
    spec = item.spec
    return item_reply(item, prefix=_("✅ Changed: target {number} for {year} is now {new} "
                                     "(was {old}).").format(
        number=esc(spec.number), year=year, new=esc(rule_text(spec.rule, spec.unit, value)),
        old=esc(rule_text(spec.rule, spec.unit, old) or "—")) + "\n\n")


@handles
async def agency_pressed(request: Request) -> Reply:
    """The commune's agencies, to choose who reports the target."""
    target_id = request.callback.int_arg(0)
    item = await service.get_item(request.actor, target_id, _year(request),
                                  session=request.session)
    agencies = await service.list_agencies(request.actor, session=request.session)
    rows = [[(button_label(("✓ " if a.id == item.row.agency_id else "") + a.name),
              cb.build(BT, "ac", target_id, a.id))] for a in agencies]
    rows.append([(_("↩️ Back"), cb.build(BT, "v", target_id))])
    return Reply(_("🏢 Which agency reports target {number}?").format(
        number=esc(item.spec.number)), keyboard(rows), edit=True)


@handles
async def agency_chosen(request: Request) -> Reply:
    target_id, agency_id = request.callback.int_arg(0), request.callback.int_arg(1)
    item = await service.get_item(request.actor, target_id, _year(request),
                                  session=request.session)
    agency = next((a for a in await service.list_agencies(request.actor,
                                                          session=request.session)
                   if a.id == agency_id), None)
    if agency is None:
        raise InvalidInput("agency_not_in_commune")
    text = _("Target {number} will be reported by {new} instead of {old}, from the next "
             "question asked (answers already given stay with the part they were given "
             "in). Change it?").format(
        number=esc(item.spec.number), new=esc(agency.name),
        old=esc(item.agency.name) if item.agency is not None else "—")
    return Reply(text, keyboard([[(_("✅ Yes, change it"), cb.build(BT, "ay", target_id,
                                                                   agency_id,
                                                                   item.fingerprint)),
                                  (_("↩️ No"), cb.build(BT, "v", target_id))]]), edit=True)


@handles
async def agency_confirmed(request: Request) -> Reply:
    target_id, agency_id = request.callback.int_arg(0), request.callback.int_arg(1)
    try:
        item = await service.set_agency(request.actor, target_id, agency_id, _year(request),
                                        session=request.session, now=request.now,
                                        seen=_seen(request, 2))
    except (service.AlreadyDone, service.ChangedMeanwhile) as unchanged:
        return _unchanged(unchanged)
    return item_reply(item, prefix=_("✅ Changed: target {number} is now reported by "
                                     "{agency}.").format(
        number=esc(item.spec.number), agency=esc(item.agency.name if item.agency else "—"))
        + "\n\n")


@handles
async def off_pressed(request: Request) -> Reply:
    target_id, year, off = (request.callback.int_arg(0), request.callback.int_arg(1),
                            request.callback.int_arg(2))
    item = await service.get_item(request.actor, target_id, year, session=request.session)
    text = (_("Switch target {number} off for {year}? It will not be asked in {year}'s rounds "
              "and not be in {year}'s reports (answers already given are kept).") if off else
            _("Switch target {number} on again for {year}? It will be asked in {year}'s "
              "rounds.")).format(number=esc(item.spec.number), year=year)
    return Reply(text, keyboard([[(_("✅ Yes"), cb.build(BT, "oy", target_id, year, off,
                                                            item.fingerprint)),
                                  (_("↩️ No"), cb.build(BT, "v", target_id))]]), edit=True)


@handles
async def off_confirmed(request: Request) -> Reply:
    target_id, year, off = (request.callback.int_arg(0), request.callback.int_arg(1),
                            request.callback.int_arg(2))
    try:
        item = await service.set_off(request.actor, target_id, year, bool(off),
                                     session=request.session, now=request.now,
                                     seen=_seen(request, 3))
    except (service.AlreadyDone, service.ChangedMeanwhile) as unchanged:
        return _unchanged(unchanged)
    head = (_("⏸ Target {number} is switched off for {year}.") if off else
            _("▶️ Target {number} is switched on again for {year}.")).format(
        number=esc(item.spec.number), year=year)
    return item_reply(item, prefix=head + "\n\n")


def _seen(request: Request, index: int) -> str | None:
    """The target's fingerprint a confirmation carries (None on a button made before
    confirmations carried one: then only "already in effect" is checked)."""
    args = request.callback.args
    return args[index] if len(args) > index else None


def _unchanged(unchanged: service.AlreadyDone | service.ChangedMeanwhile) -> Reply:
    """A confirmation that wrote nothing: pressed twice (already done), or shown before the
    target changed; the target's screen as it is now."""
    if isinstance(unchanged, service.AlreadyDone):
        head = _("✔️ Already done: target {number} already is as you confirmed. Nothing was "
                 "changed again.")
    else:
        head = _("⚠️ Not changed: target {number} was changed after this confirmation was "
                 "shown (by another press or another administrator). Here it is now; change "
                 "it again if you still want to.")
    item = unchanged.item
    return item_reply(item, prefix=head.format(number=esc(item.spec.number)) + "\n\n")


async def _disarm(request: Request) -> None:
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is not None and pending.kind == INPUT:
        await cases_service.drop_input(request.user_id, session=request.session)


case_handlers.register_input(INPUT, _took_value, keep_armed=True)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(BT)
    return [
        CallbackQueryHandler(list_pressed, pattern=p + "l$"),
        CallbackQueryHandler(item_pressed, pattern=p + r"v:\d+$"),
        CallbackQueryHandler(edit_pressed, pattern=p + r"e:\d+:\d+$"),
        CallbackQueryHandler(yes_no_pressed, pattern=p + r"c:\d+:\d+:[01]$"),
        CallbackQueryHandler(value_confirmed, pattern=p + r"vy:\d+:\d+:[0-9.]+(:[0-9a-f]{8})?$"),
        CallbackQueryHandler(agency_pressed, pattern=p + r"a:\d+$"),
        CallbackQueryHandler(agency_chosen, pattern=p + r"ac:\d+:\d+$"),
        CallbackQueryHandler(agency_confirmed, pattern=p + r"ay:\d+:\d+(:[0-9a-f]{8})?$"),
        CallbackQueryHandler(off_pressed, pattern=p + r"o:\d+:\d+:[01]$"),
        CallbackQueryHandler(off_confirmed, pattern=p + r"oy:\d+:\d+:[01](:[0-9a-f]{8})?$"),
    ]
