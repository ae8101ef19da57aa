"""Deadlines and events: /deadlines, /calendar, /event, /subscribe, /unsubscribe, /broadcast,
the reminder texts and the report-figures button on deadline reminders."""

from __future__ import annotations

import datetime as dt
import re

from telegram import ChatMemberUpdated, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    filters,
)

from bot.i18n import _, ngettext, vi_date, vi_short_date
from bot.runtime import TreemContext
from domain.calendar import DateRule, EventKind, fill_message, hand_in, plain_words
from domain.errors import InvalidInput, NotFound
from domain.inheritance import Origin
from domain.periods import PeriodKind, report_for_deadline
from domain.roles import AgencyKind, Role
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard, message_for
from handlers.paging import nav_row, page_of
from handlers.stats import start_export
from handlers.texts import chunks, esc, numbered_choices
from services import calendar as service
from storage.models import CalendarEvent, Reminder
from storage.units import get_agency

CAL = "cal"
SUB = "sub"
BC = "bc"
UPCOMING_DAYS = 60
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years /calendar computes (lunar dates included)
def when_text(starts_on: dt.date, ends_on: dt.date, today: dt.date) -> str:
    if starts_on <= today <= ends_on and starts_on != ends_on:
        return _("under way until {date}").format(date=vi_short_date(ends_on))
    days = (starts_on - today).days
    if days == 0:
        return _("today")
    if days < 0:
        return _("{n} days ago").format(n=-days)
    return ngettext("{n} day left", "{n} days left", days).format(n=days)


def kind_icon(kind: str) -> str:
    return {EventKind.REPORT_DEADLINE: "📝", EventKind.CAMPAIGN: "📣"}.get(kind, "📅")


def date_span(starts_on: dt.date, ends_on: dt.date) -> str:
    if starts_on == ends_on:
        return vi_date(starts_on)
    return f"{vi_date(starts_on)} – {vi_date(ends_on)}"


def event_message(event: CalendarEvent, report_to: str | None) -> str:
    """The event's message, escaped, with the commune's recipient in place of {report_to}."""
    return fill_message(esc(event.message), esc(report_to) if report_to else _("the level above"))


def hand_in_text(event: CalendarEvent, last_day: dt.date) -> str:
    """For a "trước ngày 20/5" deadline: which day is the last one, and why."""
    found = hand_in(service.rule_of(event), last_day)
    if found is None:
        return ""
    if event.before_includes_day and event.origin == Origin.PROVINCE_OWN:
        text = _("Last day to hand in: {day} (the plan says “{rule}”; the province counts "
                 "that day itself).")
    elif event.before_includes_day:
        text = _("Last day to hand in: {day} (the plan says “{rule}”; the commune counts that "
                 "day itself).")
    else:
        text = _("Last day to hand in: {day} (the plan says “{rule}”, so {named} itself is "
                 "too late).")
    text = text.format(day=vi_date(found.last_day), rule=esc(event.date_rule),
                       named=vi_short_date(found.named_day))
    if found.last_working_day != found.last_day:
        text += " " + _("That day is not a working day: the last working day before it is "
                        "{day}.").format(day=vi_date(found.last_working_day))
    return text


def render_reminder(event: CalendarEvent, reminder: Reminder, today: dt.date,
                    report_to: str | None = None) -> str:
    """The text of a reminder, written when it is released (the same for every chat)."""
    head = (_("⏰ <b>Deadline: {name}</b>") if event.kind == EventKind.REPORT_DEADLINE
            else _("📅 <b>{name}</b>")).format(name=esc(event.name))
    lines = [head, f"{date_span(reminder.starts_on, reminder.ends_on)} · "
             f"{when_text(reminder.starts_on, reminder.ends_on, today)}"]
    if hand := hand_in_text(event, reminder.ends_on):
        lines.append(hand)
    if event.message:
        lines += ["", event_message(event, report_to)]
    return "\n".join(lines)


def reminder_markup(event: CalendarEvent, reminder: Reminder) -> InlineKeyboardMarkup | None:
    """Deadline reminders of a report carry a button to that report's figures."""
    if not event.report_period:
        return None
    return keyboard([[(_("📊 Figures for this report"),
                       cb.build(CAL, "fig", event.commune_id, event.report_period,
                                reminder.starts_on.strftime("%Y%m%d")))]])


# --- asking -----------------------------------------------------------------------------


def occurrence_block(occ: service.Occurrence, today: dt.date,
                     report_to: str | None = None) -> str:
    block = [f"{kind_icon(occ.event.kind)} <b>{esc(occ.event.name)}</b>",
             f"{date_span(occ.starts_on, occ.ends_on)} · "
             f"<b>{when_text(occ.starts_on, occ.ends_on, today)}</b>"]
    if hand := hand_in_text(occ.event, occ.ends_on):
        block.append(hand)
    if occ.event.message:
        block.append(event_message(occ.event, report_to))
    return "\n".join(block)


@handles
async def deadlines(request: Request) -> list[Reply]:
    """The next deadline of each report, however far, then the events of the next 60 days."""
    today = request.runtime.local_now().date()
    found = await service.agenda(request.actor, today, UPCOMING_DAYS, session=request.session)
    blocks = [occurrence_block(occ, today, found.report_to) for occ in found.reports]
    blocks.append(_("<b>Deadlines and events in the next {days} days</b>")
                  .format(days=UPCOMING_DAYS))
    if found.events:
        blocks += [occurrence_block(occ, today, found.report_to) for occ in found.events]
    else:
        blocks[-1] += "\n" + _("No other deadline or event in the next {days} days.").format(
            days=UPCOMING_DAYS)
    if found.province:
        blocks += communes_blocks(found.collections, today)
    header = _("<b>Next report deadlines</b>") if found.reports else ""
    return [Reply(text) for text in chunks(blocks, header)]


def communes_blocks(collections: list[service.Occurrence], today: dt.date) -> list[str]:
    """A province's /deadlines: when its communes send their reports (the province's
    calendar for them), so its administrators know when to expect them."""
    if not collections:
        return []
    blocks = [_("<b>Reports from the communes</b> (the province's calendar; a commune may "
                "have set its own date)")]
    for occ in collections:
        block = [_("📥 <b>Communes send their reports: {name}</b>").format(
                     name=esc(occ.event.name)),
                 f"{date_span(occ.starts_on, occ.ends_on)} · "
                 f"<b>{when_text(occ.starts_on, occ.ends_on, today)}</b>"]
        if hand := hand_in_text(occ.event, occ.ends_on):
            block.append(hand)
        blocks.append("\n".join(block))
    return blocks


@handles
async def year_calendar(request: Request) -> list[Reply]:
    """/calendar [year]: every event of the year, one line each."""
    args = request.context.args or []
    today = request.runtime.local_now().date()
    commune_id, province = await service.calendar_unit_of(request.actor,
                                                          session=request.session)
    year = today.year
    if args:
        if not args[0].isdigit():
            return [Reply(_("“{text}” is not a year. Write, for example: /calendar {year}")
                          .format(text=esc(args[0][:20]), year=today.year + 1))]
        year = int(args[0])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            return [Reply(_("The calendar covers the years {first} to {last}; {year} is outside "
                            "them.").format(first=FIRST_YEAR, last=LAST_YEAR, year=year))]
    service_occ = await service.occurrences(commune_id, dt.date(year, 1, 1), dt.date(year, 12, 31),
                                            session=request.session)
    lines = [f"{kind_icon(o.event.kind)} {vi_short_date(o.starts_on)}"
             + (f"–{vi_short_date(o.ends_on)}" if o.ends_on != o.starts_on else "")
             + f" · {esc(o.event.name)} (<code>{esc(o.event.code)}</code>)"
             + (f" · <i>{mark}</i>" if (mark := origin_mark(o.event)) else "")
             for o in service_occ if o.starts_on.year == year or o.ends_on.year == year]
    header = _("<b>Calendar {year}</b>").format(year=year)
    blocks = ["\n".join(lines)]
    if any(origin_mark(o.event) for o in service_occ):
        blocks.append(_("“from the province”: set by the province's calendar, which every "
                        "commune of the province follows; “the commune's own”: set or changed "
                        "by the commune (its set-up file or /event), the province's changes do "
                        "not replace it. /event CODE shows where an event comes from."))
    off = await service.switched_off(commune_id, session=request.session)
    if off:
        blocks.append(_("Switched off (no reminders): {codes}").format(
            codes=", ".join(f"<code>{esc(e.code)}</code>" for e in off)))
    if province:
        blocks.append(_("These are the province's own report deadlines, from its set-up file "
                        "(report_6m_by, report_year_by): importing the file again changes "
                        "them. /deadlines also shows when the communes send their reports."))
    else:
        blocks.append(_("Administrators can change an event: /event CODE DATE, e.g. /event "
                        "bao-cao-nam trước 20/11; /event CODE tắt (or bật). /event alone "
                        "shows everything it can do."))
    return [Reply(text) for text in chunks(blocks, header)]


_OFF_WORDS = {"tat", "tat di", "off"}
_ON_WORDS = {"bat", "bat lai", "bat len", "on"}
_INHERIT_WORDS = {"theo tinh", "theo lich tinh", "theo lich cua tinh", "mac dinh", "inherit"}
_ALL_WORDS = ("tat ca", "ca xa")  # what the refusal itself glosses "all" with
_LEAD_WORDS = ("nhac", "leads", "lead days")
_AUDIENCE_WORDS = ("gui cho", "doi tuong", "audience")
_MESSAGE_WORDS = ("noi dung", "message")


def _after(keywords: tuple[str, ...], plain: str, raw: str) -> str | None:
    """The text after a leading keyword ("nhắc 14 7" → "14 7"), from the raw text (its
    diacritics kept), or None if `plain` does not start with one of them."""
    for keyword in keywords:
        if plain == keyword or plain.startswith(keyword + " "):
            words = len(keyword.split())
            parts = raw.split(maxsplit=words)
            return parts[words] if len(parts) > words else ""
    return None


def origin_mark(event: CalendarEvent) -> str:
    """A few words on where an event comes from, for /calendar ("" for a default)."""
    if event.origin == Origin.PROVINCE:
        return _("from the province")
    if event.origin == Origin.COMMUNE:
        return _("the commune's own")
    if event.origin == Origin.PROVINCE_OWN:
        return _("the province's own")
    return ""


def origin_text(event: CalendarEvent) -> str:
    """Where an event comes from, in a sentence (/event CODE)."""
    own = event.own or {}
    if event.origin == Origin.PROVINCE:
        return _("It comes from the province's calendar: every commune of the province "
                 "follows it, and a change of the province reaches this commune.")
    if event.origin == Origin.COMMUNE and not own:
        return _("It is the commune's own event (its set-up file).")
    if event.origin == Origin.COMMUNE:
        where = (_("the commune's set-up file and /event") if own.get("file") and own.get("admin")
                 else _("/event") if own.get("admin") else _("the commune's set-up file"))
        text = _("The commune set it itself ({where}); a change of the province's calendar does "
                 "not replace what the commune set.").format(where=where)
        if own.get("admin"):
            text += " " + _("/event {code} theo tỉnh drops the /event changes.").format(
                code=esc(event.code))
        return text
    return _("It is the national default calendar's.")


def event_details(event: CalendarEvent, report_to: str | None) -> str:
    """/event CODE: the event as it is now, and where it comes from."""
    lines = [f"{kind_icon(event.kind)} <b>{esc(event.name)}</b> (<code>{esc(event.code)}</code>)",
             _("Date: {rule}").format(rule=esc(event.date_rule)),
             _("Reminders: {days} days before").format(
                 days=", ".join(str(d) for d in event.lead_days)),
             _("To: {who}").format(who=", ".join(esc(audience_name(a)) for a in event.audience))]
    if not event.active:
        lines.append(_("Switched off: /event {code} bật switches it on.").format(
            code=esc(event.code)))
    if event.message:
        lines.append(event_message(event, report_to))
    lines.append(origin_text(event))
    return "\n".join(lines)


def _event_help() -> str:
    return _("Write /event, the event's code and what to change, for example:\n"
             "/event bao-cao-nam trước 20/11 (the date)\n"
             "/event trung-thu 15/8 âm lịch\n"
             "/event ra-soat ngày 25 hằng tháng\n"
             "/event bao-cao-6-thang tắt (no more reminders; “bật” switches it on again)\n"
             "/event bao-cao-nam nhắc 14 7 1 0 (reminder days before the event)\n"
             "/event bao-cao-nam gửi cho culture_social officer (who receives it)\n"
             "/event bao-cao-nam nội dung New message… ({report_to} is replaced by the "
             "commune's recipient)\n"
             "/event bao-cao-nam theo tỉnh (drop the /event changes: follow the province's "
             "calendar again)\n"
             "/event bao-cao-nam alone shows the event and where it comes from.\n"
             "The codes are in /calendar.")


@handles
async def edit_event(request: Request) -> Reply:
    """/event CODE …: an administrator changes an event of the commune (date, on/off,
    reminder days, audience, message)."""
    raw = (request.update.effective_message.text or "").split(maxsplit=2)
    if len(raw) < 2:
        return Reply(_event_help())
    code = raw[1].lower()  # codes are lower case; "BAO-CAO-NAM" too
    rest = raw[2].strip() if len(raw) > 2 else ""
    plain = plain_words(rest)
    changes: dict = {}
    try:  # who may, and which event, before what to change: "/event foo 30/2" names both
        found = await service.editable_event(request.actor, code, session=request.session)
    except NotFound:
        return Reply(_unknown_event(code, rest if _is_date_change(plain) else ""))
    if not rest:  # "/event bao-cao-nam": what it is now, and where it comes from
        report_to = await service.recipient_of(found.commune_id, session=request.session)
        return Reply(event_details(found, report_to) + "\n\n" + _event_help())
    if plain.rstrip(".!") in _INHERIT_WORDS:
        event, changed = await service.follow_inherited(request.actor, code,
                                                        session=request.session, now=request.now)
        if not changed:
            return Reply(_("“{name}” has no /event change to drop.").format(
                name=esc(event.name)) + "\n" + origin_text(event))
        await _plan_again(request, event)
        return Reply(_("Done: “{name}” follows its calendar again ({rule}).").format(
            name=esc(event.name), rule=esc(event.date_rule)) + "\n" + origin_text(event))
    was_inherited = found.origin == Origin.PROVINCE
    try:
        if plain.rstrip(".!") in _OFF_WORDS | _ON_WORDS:  # "tắt.", "Tắt đi", "bật lại"
            changes["active"] = plain.rstrip(".!") in _ON_WORDS
        elif (leads := _after(_LEAD_WORDS, plain, rest)) is not None:
            numbers = re.findall(r"\d+", leads)
            # Every number typed counts: "14 7 1000" is refused, never read as "14 7".
            if not re.fullmatch(r"[\d\s,;]+", leads) or any(len(n) > 3 for n in numbers):
                raise InvalidInput("lead_days_invalid")
            changes["lead_days"] = [int(n) for n in numbers]
        elif (who := _after(_AUDIENCE_WORDS, plain, rest)) is not None:
            if plain_words(who).rstrip(".") in _ALL_WORDS:
                who = "all"
            changes["audience"] = [w for w in re.split(r"[\s,;]+", who.lower()) if w]
        elif (message := _after(_MESSAGE_WORDS, plain, rest)) is not None:
            changes["message"] = message
        else:
            changes["date_rule"] = service.DateRule.parse(rest).text
        event = await service.edit_event(request.actor, code, session=request.session,
                                         now=request.now, **changes)
    except InvalidInput as problem:
        return Reply(message_for(problem))
    except NotFound:
        return Reply(_unknown_event(code, rest if "date_rule" in changes else ""))
    await _plan_again(request, event)
    text = await _changed_text(request, event, changes)
    if was_inherited:
        text += "\n" + _("This event came from the province's calendar; from now on the "
                         "commune's own change stays when the province changes it.")
    return Reply(text)


async def _plan_again(request: Request, event: CalendarEvent) -> None:
    """Its reminders are planned again in this transaction: a crash right after the commit
    cannot leave the event without them."""
    year = request.runtime.local_now().year
    hour, minute = request.runtime.settings.reminder_hour_minute
    await service.plan_reminders(session=request.session, years=[year, year + 1],
                                 tz=request.runtime.tz, hour=hour, minute=minute,
                                 events=[event])


async def _changed_text(request: Request, event: CalendarEvent, changes: dict) -> str:
    name = esc(event.name)
    if changes.get("active") is False:
        return _("Done: “{name}” is switched off. No reminder of it will be sent; "
                 "/event {code} bật switches it on again.").format(name=name,
                                                                  code=esc(event.code))
    if "lead_days" in changes:
        text = _("Done: reminders of “{name}” go out {days} days before.").format(
            name=name, days=", ".join(str(d) for d in event.lead_days))
    elif "audience" in changes:
        text = _("Done: “{name}” now goes to: {who}.").format(
            name=name, who=", ".join(esc(audience_name(a)) for a in event.audience))
    elif "message" in changes:
        text = _("Done: the message of “{name}” is now:").format(name=name) + "\n" + \
            event_message(event, await service.recipient_of(event.commune_id,
                                                            session=request.session))
    elif "active" in changes:
        text = _("Done: “{name}” is switched on again.").format(name=name)
    else:
        text = _("Done: “{name}” is now on {rule}.").format(name=name,
                                                           rule=esc(event.date_rule))
    if not event.active:
        return text + "\n" + _("It is switched off: /event {code} bật to send its reminders "
                               "again.").format(code=esc(event.code))
    today = request.runtime.local_now().date()
    nxt = service.next_occurrence(event, today)
    if nxt:
        text += "\n" + _("Next: {when}. Reminders are planned again from the new date.").format(
            when=date_span(*nxt))
    else:
        text += "\n" + _("That date is past: no reminder will be sent.")
    return text


def _is_date_change(plain: str) -> bool:
    """Whether /event's words after the code are a date (not a switch or a keyword)."""
    keywords = (*_LEAD_WORDS, *_AUDIENCE_WORDS, *_MESSAGE_WORDS)
    return plain.rstrip(".!") not in _OFF_WORDS | _ON_WORDS | _INHERIT_WORDS and _after(
        keywords, plain, plain) is None


def _unknown_event(code: str, rule_text: str) -> str:
    """/event with a code that is no event: say so, and whether the date was readable too."""
    lines = [_("There is no event with the code “{code}”. The codes are in /calendar.")
             .format(code=esc(code[:40]))]
    try:
        DateRule.parse(rule_text)
    except InvalidInput:
        if rule_text:
            lines.append(_("“{text}” is not a date either.").format(text=esc(rule_text[:40]))
                         + " " + message_for(InvalidInput("date_rule_invalid")))
    return "\n".join(lines)


@handles
async def report_figures(request: Request) -> Reply | None:
    """The 📊 button of a report deadline reminder: the report appendix (XLSX and CSV) for
    exactly that report's period."""
    commune_id = request.callback.int_arg(0)
    deadline = dt.datetime.strptime(request.callback.args[2], "%Y%m%d").date()
    period = report_for_deadline(PeriodKind(request.callback.args[1]), deadline)
    return await start_export(request, commune_id, period)


# --- subscriptions ----------------------------------------------------------------------------


@handles
async def subscribe(request: Request) -> Reply:
    """In a group: choose the agency whose chat it is. In private: subscribe yourself."""
    chat = request.update.effective_chat
    _unit, province = await service.calendar_unit_of(request.actor, session=request.session)
    if chat.type == "private":
        await service.subscribe(request.actor, chat_id=chat.id, group=False,
                                title=request.update.effective_user.first_name or "",
                                agency_id=None, session=request.session, now=request.now)
        if province:
            return Reply(_("You will receive the reminders of the province's own report "
                           "deadlines here. /unsubscribe stops them."))
        return Reply(_("You will receive the commune's reminders here. /unsubscribe stops them."))
    if province:  # a province's group: its own deadlines, no agency to choose
        await service.subscribe(request.actor, chat_id=chat.id, group=True,
                                title=chat.title or "", agency_id=None,
                                session=request.session, now=request.now)
        return Reply(_("Done. This group will receive the reminders of the province's own "
                       "report deadlines. An administrator can stop them with /unsubscribe."))
    return await _agency_choice(request, page=0)


async def _agency_choice(request: Request, page: int) -> Reply:
    agencies = await service.agencies_for_group(request.actor, session=request.session)
    shown = page_of(agencies, page)
    labels, full_names = numbered_choices([a.name for a in shown.items], shown.first)
    rows = [[(label, cb.build(SUB, "a", a.id))] for label, a in zip(labels, shown.items,
                                                                      strict=True)]
    rows += nav_row(shown, lambda n: cb.build(SUB, "ap", n))
    rows.append([(_("The whole commune (no single agency)"), cb.build(SUB, "a", 0))])
    text = _("Which agency is this group for? It will receive that agency's reminders.")
    return Reply(f"{text}\n\n{full_names}" if full_names else text, keyboard(rows),
                 edit=request.callback is not None)


@handles
async def agency_page(request: Request) -> Reply:
    """Another page of the group's agency choice."""
    return await _agency_choice(request, page=request.callback.int_arg(0))


@handles
async def chose_agency(request: Request) -> Reply:
    """Subscribes the group for the chosen agency."""
    chat = request.update.effective_chat
    agency_id = request.callback.int_arg(0) or None
    await service.subscribe(request.actor, chat_id=chat.id, group=True,
                                           title=chat.title or "", agency_id=agency_id,
                                           session=request.session, now=request.now)
    agency = await get_agency(agency_id, session=request.session) if agency_id else None
    who = esc(agency.name) if agency else _("the whole commune")
    return Reply(_("Done. This group will receive the reminders for {who}. An officer or "
                   "administrator can stop them with /unsubscribe.").format(who=who), edit=True)


@handles
async def unsubscribe(request: Request) -> Reply:
    """Stops reminders for this chat."""
    chat = request.update.effective_chat
    stopped = await service.unsubscribe(request.actor, chat_id=chat.id,
                                        group=chat.type != "private", session=request.session,
                                        now=request.now)
    if not stopped:
        return Reply(_("This chat was not receiving reminders."))
    return Reply(_("Reminders stopped for this chat. /subscribe starts them again."))


async def membership_changed(update: Update, context: TreemContext) -> None:
    """The bot was removed from a group, or blocked by a person: stop sending there."""
    change: ChatMemberUpdated = update.my_chat_member
    if change.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        runtime = context.runtime
        async with runtime.db.session() as session:
            await service.chat_gone(change.chat.id, "removed", session=session,
                                    now=runtime.clock.now())


# --- broadcast ------------------------------------------------------------------------------


@handles
async def start_broadcast(request: Request) -> Reply:
    """/broadcast: asks the administrator for the message."""
    broadcast = await service.start_broadcast(request.actor, session=request.session,
                                              now=request.now)
    if not await service.audience_size(broadcast, "all", session=request.session):
        await service.cancel_broadcast(request.actor, broadcast.id, session=request.session)
        return Reply(_no_recipients())
    return Reply(_("Type the message to send to the commune's subscribed chats (up to 3,500 "
                   "characters). You will see a preview before anything is sent."),
                 keyboard([[(_("✖️ Cancel"), cb.build(BC, "x", broadcast.id))]]))


def _subscribe_help() -> str:
    return _("A chat receives the commune's reminders and messages once it subscribes: in an "
             "agency's group, an officer or administrator sends /subscribe and chooses the "
             "agency; a member can also send /subscribe in a private chat with me.")


def _no_recipients() -> str:
    return _("Nobody can receive a message yet: no group or person of the commune has "
             "subscribed.") + "\n\n" + _subscribe_help()


async def take_broadcast_text(request: Request) -> list[Reply] | None:
    """If this administrator is writing a broadcast, the text is its message."""
    broadcast = await service.waiting_broadcast(request.user_id, session=request.session)
    if broadcast is None:
        return None
    text = request.update.effective_message.text
    if text is None:
        return [Reply(_("Please type the message as text."))]
    try:
        await service.set_broadcast_text(broadcast, text, session=request.session)
    except InvalidInput as problem:
        return [Reply(message_for(problem))]
    return [await _audience_step(request, broadcast)]


AUDIENCES = ("all", *[str(k) for k in AgencyKind])


def audience_name(audience: str) -> str:
    names = {
        "all": _("All subscribed chats"),
        AgencyKind.CULTURE_SOCIAL: _("Culture and social affairs"),
        AgencyKind.POLICE: _("Police"),
        AgencyKind.HEALTH: _("Health station"),
        AgencyKind.SCHOOL: _("Schools"),
        AgencyKind.FRONT: _("Fatherland Front"),
        AgencyKind.UNION: _("Unions"),
        AgencyKind.VILLAGE: _("Villages"),
        AgencyKind.OTHER: _("Other agencies"),
        Role.OFFICER: _("Officers"),
        Role.ADMIN: _("Administrators"),
    }
    return names.get(audience, audience)


async def _audience_step(request: Request, broadcast) -> Reply:  # noqa: ANN001
    rows = [[(audience_name(a), cb.build(BC, "aud", broadcast.id, a))] for a in AUDIENCES]
    rows.append([(_("✖️ Cancel"), cb.build(BC, "x", broadcast.id))])
    return Reply(_("Who should receive it?"), keyboard(rows))


@handles
async def chose_audience(request: Request) -> list[Reply]:
    """Shows the preview and the number of chats, and asks to confirm."""
    broadcast = await service.broadcast_for(request.actor, request.callback.int_arg(0),
                                            session=request.session)
    audience = request.callback.args[1]
    if audience not in AUDIENCES or broadcast.status != "draft":
        return [Reply(_("This broadcast was already sent or cancelled."))]
    count = await service.audience_size(broadcast, audience, session=request.session)
    if not count:
        return [Reply(_("No chat receives messages for {audience} yet.").format(
            audience=audience_name(audience)) + "\n\n" + _subscribe_help()),
            await _audience_step(request, broadcast)]
    preview = Reply(esc(broadcast.text))
    ask = Reply(_("Above is exactly what will be sent to {n} chats ({audience}). Send it?").format(
        n=count, audience=audience_name(audience)), keyboard([
            [(_("📨 Send now"), cb.build(BC, "ok", broadcast.id, audience))],
            [(_("✖️ Cancel"), cb.build(BC, "x", broadcast.id))]]))
    return [preview, ask]


@handles
async def confirm(request: Request) -> Reply:
    """Creates one outbox row per chat; this message then shows the progress."""
    pressed = request.update.callback_query.message
    try:
        _broadcast, count = await service.confirm_broadcast(
            request.actor, request.callback.int_arg(0), request.callback.args[1],
            session=request.session, now=request.now,
            progress_chat_id=request.update.effective_chat.id,
            progress_message_id=pressed.message_id if pressed is not None else None)
    except InvalidInput:
        return Reply(_("This broadcast was already sent or cancelled."), edit=True)
    # The rows are in the outbox; the active instance sends them and edits this message
    # to show the progress.
    return Reply(_("Sending to {n} chats…").format(n=count), edit=True)


@handles
async def cancel(request: Request) -> Reply:
    await service.cancel_broadcast(request.actor, request.callback.int_arg(0),
                                   session=request.session)
    return Reply(_("Broadcast cancelled; nothing was sent."), edit=True)


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("deadlines", deadlines, filters=private),
        CommandHandler("calendar", year_calendar, filters=private),
        CommandHandler("event", edit_event, filters=private),
        CommandHandler("broadcast", start_broadcast, filters=private),
        CommandHandler("subscribe", subscribe),
        CommandHandler("unsubscribe", unsubscribe),
        CallbackQueryHandler(deadlines, pattern=cb.pattern("menu") + "deadlines$"),
        CallbackQueryHandler(start_broadcast, pattern=cb.pattern("menu") + "broadcast$"),
        CallbackQueryHandler(report_figures, pattern=cb.pattern(CAL) + r"fig:\d+:(6m|year):\d{8}$"),
        CallbackQueryHandler(chose_agency, pattern=cb.pattern(SUB) + r"a:\d+$"),
        CallbackQueryHandler(agency_page, pattern=cb.pattern(SUB) + r"ap:\d+$"),
        CallbackQueryHandler(chose_audience, pattern=cb.pattern(BC) + r"aud:\d+:[a-z_]+$"),
        CallbackQueryHandler(confirm, pattern=cb.pattern(BC) + r"ok:\d+:[a-z_]+$"),
        CallbackQueryHandler(cancel, pattern=cb.pattern(BC) + r"x:\d+$"),
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
