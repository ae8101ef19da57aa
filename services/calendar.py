"""The calendar of events and deadlines, subscriptions, and the delivery rows that make
every reminder and broadcast go out exactly once. No Telegram here: the bot renders the
texts and sends; this module decides what is due and records what happened."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calendar import (
    DateRule,
    EventKind,
    EventSpec,
    Recipient,
    matches,
    planned_reminders,
    send_moment,
)
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.inheritance import Origin, admin_change
from domain.province_deadlines import communes_hand_in
from domain.roles import Action, Actor, UnitKind, ensure
from domain.setup_file import check_audience, check_leads
from storage import audit, outbox, setup_import, units
from storage import calendar as store
from storage.models import Broadcast, CalendarEvent, Delivery, Reminder, Subscription

log = logging.getLogger(__name__)


def rule_of(event: CalendarEvent) -> DateRule:
    return DateRule.parse(event.date_rule, before_includes_day=event.before_includes_day)


def spec_of(event: CalendarEvent) -> EventSpec:
    return EventSpec(code=event.code, name=event.name, kind=EventKind(event.kind),
                     rule=rule_of(event), lead_days=tuple(event.lead_days),
                     audience=tuple(event.audience), message=event.message,
                     report_period=event.report_period, active=event.active)


# --- what is coming -------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    event: CalendarEvent
    starts_on: dt.date
    ends_on: dt.date


async def occurrences(commune_id: int, start: dt.date, end: dt.date, *,
                      session: AsyncSession) -> list[Occurrence]:
    """Events of the commune that are on at some day in [start, end], by date."""
    found = []
    for event in await store.list_events(commune_id, session=session):
        for _year, _seq, first, last in rule_of(event).occurrences_between(start, end):
            found.append(Occurrence(event, first, last))
    return sorted(found, key=lambda o: (o.starts_on, o.event.id))


async def commune_of(actor: Actor, *, session: AsyncSession) -> int:
    """The commune a member works in (a village collaborator: the village's commune)."""
    if actor.scope is None:
        communes = await units.list_communes(session=session)
        if actor.is_superadmin and len(communes) == 1:
            return communes[0].id
        raise NotAllowed(Action.VIEW_DEADLINES, "no commune")
    unit = await units.get_unit(actor.scope.unit_id, session=session)
    if unit.kind is UnitKind.VILLAGE:
        return unit.parent_id
    if unit.kind is UnitKind.COMMUNE:
        return unit.id
    raise NotAllowed(Action.VIEW_DEADLINES, "province")


async def calendar_unit_of(actor: Actor, *, session: AsyncSession) -> tuple[int, bool]:
    """The unit whose calendar a member follows, and whether it is a province: a province's
    administrator follows the province's own deadlines up (domain/province_deadlines.py);
    everyone else their commune's calendar (commune_of)."""
    if actor.scope is not None:
        unit = await units.get_unit(actor.scope.unit_id, session=session)
        if unit is not None and unit.kind is UnitKind.PROVINCE:
            return unit.id, True
    return await commune_of(actor, session=session), False


async def upcoming(actor: Actor, today: dt.date, days: int, *,
                   session: AsyncSession) -> list[Occurrence]:
    ensure(actor, Action.VIEW_DEADLINES)
    commune_id = await commune_of(actor, session=session)
    return await occurrences(commune_id, today, today + dt.timedelta(days=days), session=session)


@dataclass(frozen=True)
class Agenda:
    """What /deadlines shows: the next deadline of each report, however far away, then
    the other deadlines and events on in the coming days."""

    reports: list[Occurrence]
    events: list[Occurrence]
    report_to: str | None = None  # the unit's recipient of its reports
    # A province's administrator: when its communes hand in each report (the province's
    # calendar for them), so they know when to expect the communes' reports
    collections: list[Occurrence] = field(default_factory=list)
    province: bool = False


async def agenda(actor: Actor, today: dt.date, days: int, *, session: AsyncSession) -> Agenda:
    ensure(actor, Action.VIEW_DEADLINES)
    unit_id, province = await calendar_unit_of(actor, session=session)
    window = await occurrences(unit_id, today, today + dt.timedelta(days=days),
                               session=session)
    reports = []
    for event in await store.list_events(unit_id, session=session):
        if event.report_period and (nxt := next_occurrence(event, today)) is not None:
            reports.append(Occurrence(event, *nxt))
    collections = []
    if province:
        for event in await communes_collection(unit_id, session=session):
            if (nxt := next_occurrence(event, today)) is not None:
                collections.append(Occurrence(event, *nxt))
    return Agenda(reports=sorted(reports, key=lambda o: (o.starts_on, o.event.id)),
                  events=[o for o in window if not o.event.report_period],
                  report_to=await recipient_of(unit_id, session=session),
                  collections=sorted(collections, key=lambda o: o.starts_on),
                  province=province)


async def communes_collection(province_id: int, *, session: AsyncSession,
                              ) -> list[CalendarEvent]:
    """The report events the province's communes inherit (its file's dates, else the
    defaults'), unsaved, for the province's /deadlines. A commune may still move its own."""
    province = await units.get_unit(province_id, session=session)
    return [CalendarEvent(commune_id=province_id, code=event.code, name=event.name,
                          kind=str(event.kind), date_rule=event.date,
                          lead_days=list(event.lead_days), audience=list(event.audience),
                          report_period=period, active=True,
                          before_includes_day=False, origin=str(Origin.PROVINCE))
            for period, event in communes_hand_in(
                setup_import.province_changes(province)).items()]


def next_occurrence(event: CalendarEvent, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first occurrence of `event` not over by `today` (a deadline day still counts);
    None for a one-off date already past."""
    return rule_of(event).next_after(today)


async def _editable_event(actor: Actor, code: str, *, session: AsyncSession,
                          ) -> tuple[int, CalendarEvent]:
    commune_id = await commune_of(actor, session=session)
    ensure(actor, Action.EDIT_CALENDAR, await units.get_unit_scope(commune_id, session=session))
    event = await store.get_event(commune_id, code, session=session)
    if event is None:
        raise NotFound("event")
    return commune_id, event


async def editable_event(actor: Actor, code: str, *, session: AsyncSession) -> CalendarEvent:
    """The commune's event the actor may change; NotAllowed / NotFound("event") otherwise."""
    return (await _editable_event(actor, code, session=session))[1]


async def change_event_date(actor: Actor, code: str, rule_text: str, *, session: AsyncSession,
                            now: dt.datetime) -> CalendarEvent:
    """An administrator moves an event (provinces use 15/11, 20/11, 01/12...)."""
    # InvalidInput("date_rule_invalid" / "lunar_day_missing") if not a usable date rule
    rule = DateRule.parse(rule_text)
    return await edit_event(actor, code, session=session, now=now, date_rule=rule.text)


async def edit_event(actor: Actor, code: str, *, session: AsyncSession, now: dt.datetime,
                     date_rule: str | None = None, active: bool | None = None,
                     lead_days: Sequence[int] | None = None,
                     audience: Sequence[str] | None = None,
                     message: str | None = None) -> CalendarEvent:
    """An administrator changes one thing of an event of the commune: its date, switches it
    off or on, its reminder days, who receives it, its message. Reminders not sent yet are
    planned again (none while it is off). The set-up file wins again at its next import."""
    commune_id, event = await _editable_event(actor, code, session=session)
    changes: dict[str, tuple[object, object]] = {}
    if date_rule is not None:
        DateRule.parse(date_rule)
        changes["date_rule"] = (event.date_rule, date_rule)
    if active is not None:
        changes["active"] = (event.active, active)
    if lead_days is not None:
        changes["lead_days"] = (list(event.lead_days), list(check_leads(tuple(lead_days))))
    if audience is not None:
        changes["audience"] = (list(event.audience), list(check_audience(tuple(audience))))
    if message is not None:
        message = message.strip()
        if not message or len(message) > MAX_EVENT_MESSAGE_CHARS:
            raise InvalidInput("event_message_invalid")
        changes["message"] = (event.message, message)
    for field_name, (_before, after) in changes.items():
        setattr(event, field_name, after)
    # The commune's own change: an import of the province's file leaves it; an import of
    # the commune's file leaves it too unless the file writes the same field.
    own = dict(event.own or {})
    own["admin"] = admin_change(own.get("admin", {}), {k: v[1] for k, v in changes.items()})
    event.own = own
    event.origin = str(Origin.COMMUNE)
    event.updated_at = now
    await store.drop_planned_reminders(event.id, session=session)
    await session.flush()
    # ids and settings only; a message's text is the commune's, not a citizen's
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="event_changed", object_type="event", object_id=event.id,
                       unit_id=commune_id, fields=sorted(changes),
                       before={k: v[0] for k, v in changes.items() if k != "message"},
                       after={k: v[1] for k, v in changes.items() if k != "message"})
    return event


MAX_EVENT_MESSAGE_CHARS = 1500


async def follow_inherited(actor: Actor, code: str, *, session: AsyncSession,
                           now: dt.datetime) -> tuple[CalendarEvent, bool]:
    """An administrator drops the /event changes of an event: it follows its province's
    calendar (or the default) again, with what the commune's set-up file writes still over
    it. Returns the event and whether anything changed."""
    commune_id, event = await _editable_event(actor, code, session=session)
    own = dict(event.own or {})
    if not own.get("admin"):
        return event, False
    before = {"date_rule": event.date_rule, "active": event.active}
    own.pop("admin")
    event.own = own or None
    await session.flush()
    commune = await units.get_unit(commune_id, session=session)
    province = await units.get_unit(commune.parent_id, session=session)
    rows = await store.list_events(commune_id, session=session, active_only=False)
    # the commune's whole calendar written again: only this event changes
    await setup_import.sync_events(session, setup_import.ImportSummary(), commune_id,
                                   setup_import.province_changes(province), None,
                                   any(row.before_includes_day for row in rows), now)
    await store.drop_planned_reminders(event.id, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="event_inherited", object_type="event", object_id=event.id,
                       unit_id=commune_id, before=before,
                       after={"date_rule": event.date_rule, "active": event.active})
    return event, True


async def recipient_of(commune_id: int, *, session: AsyncSession) -> str | None:
    """Whom the commune sends its reports to ({report_to} in messages): its own `report_to`,
    else its province's `communes_report_to`, else None ("cấp trên"). For a province (its
    own deadlines up): its file's `report_to` (UBND tỉnh, Bộ Y tế)."""
    commune = await units.get_unit(commune_id, session=session)
    if commune is None:
        return None
    if commune.kind is UnitKind.PROVINCE:  # its own deadlines up: its file's report_to
        return (commune.province_calendar or {}).get("report_to") or None
    if commune.report_to:
        return commune.report_to
    province = await units.get_unit(commune.parent_id, session=session) \
        if commune.parent_id else None
    stored = (province.province_calendar or {}) if province is not None else {}
    return stored.get("communes_report_to") or None


async def switched_off(commune_id: int, *, session: AsyncSession) -> list[CalendarEvent]:
    """The commune's events that are switched off (shown under /calendar)."""
    return [e for e in await store.list_events(commune_id, session=session, active_only=False)
            if not e.active]


# --- planning and releasing reminders ---------------------------------------------------------


async def plan_reminders(*, session: AsyncSession, years: Sequence[int], tz: dt.tzinfo,
                         hour: int, minute: int = 0,
                         events: Sequence[CalendarEvent] | None = None) -> int:
    """Create the reminder rows of every active event (or of `events`) for `years`
    (idempotent, and safe when two instances plan at the same moment). Returns how many
    were missing (another instance may have created some of them meanwhile)."""
    new: list[Reminder] = []
    if events is None:
        events = await store.list_events(None, session=session)
    existing = {(r.event_id, r.year, r.seq, r.lead_days): r
                for r in await store.reminders_of_events([e.id for e in events], years,
                                                         session=session)}
    for event in events:
        spec = spec_of(event)
        for year in years:
            for planned in planned_reminders(spec, year):  # none while switched off
                start, end = planned.starts_on, planned.ends_on
                send_at = send_moment(planned.day, hour, minute, tz)
                reminder = existing.get((event.id, year, planned.seq, planned.lead_days))
                if reminder is None:
                    new.append(Reminder(
                        event_id=event.id, commune_id=event.commune_id, year=year,
                        seq=planned.seq, lead_days=planned.lead_days, starts_on=start,
                        ends_on=end, send_at=send_at))
                elif reminder.status == "planned" and reminder.send_at != send_at:
                    reminder.send_at, reminder.starts_on, reminder.ends_on = send_at, start, end
    await store.add_reminders(new, session=session)
    return len(new)


# (event, reminder, today, the commune's report_to) → the reminder's text
Renderer = Callable[[CalendarEvent, Reminder, dt.date, str | None], str]


@dataclass(frozen=True)
class Released:
    reminder: Reminder
    deliveries: int


def _recipient(subscription: Subscription) -> Recipient:
    return Recipient(agency_kind=subscription.agency_kind, role=subscription.role)


async def release_due(*, session: AsyncSession, now: dt.datetime, tz: dt.tzinfo,
                      render: Renderer) -> list[Released]:
    """Turn due reminders into delivery rows, one per matching subscribed chat.

    After downtime: a reminder whose event is over is skipped (stale); when several
    reminders of one occurrence are due at once, only the latest goes out.
    """
    today = now.astimezone(tz).date()
    due = await store.list_due_reminders(now, session=session)
    latest: dict[tuple[int, int, int], Reminder] = {}
    for reminder in due:
        key = (reminder.event_id, reminder.year, reminder.seq)
        if key not in latest or reminder.lead_days < latest[key].lead_days:
            latest[key] = reminder
    released = []
    for reminder in due:
        event = await session.get(CalendarEvent, reminder.event_id)
        if (reminder.ends_on < today or not event.active
                or latest[(reminder.event_id, reminder.year, reminder.seq)] is not reminder):
            if await store.claim_reminder(reminder.id, "stale", session=session, now=now):
                log.info("reminder %s skipped: event over, switched off or superseded",
                         reminder.id)
            continue
        text = render(event, reminder, today,
                      await recipient_of(event.commune_id, session=session))
        if not await store.claim_reminder(reminder.id, "released", session=session, now=now,
                                          text=text):
            continue
        admins = None
        if await _is_province(event.commune_id, session=session):
            # the province's own deadline: its administrators receive it without subscribing;
            # a person no longer its administrator does not
            admins = await store.subscribe_admins(event.commune_id, session=session)
        subscriptions = [s for s in await store.list_subscriptions(event.commune_id,
                                                                   session=session)
                         if (admins is None or s.kind == "group" or s.chat_id in admins)
                         and matches(tuple(event.audience), _recipient(s))
                         and _receiving_at(s, reminder.send_at)]
        count = await _add_deliveries(subscriptions, session=session, now=now,
                                      reminder_id=reminder.id)
        released.append(Released(reminder, count))
    return released


async def _is_province(unit_id: int, *, session: AsyncSession) -> bool:
    unit = await units.get_unit(unit_id, session=session)
    return unit is not None and unit.kind is UnitKind.PROVINCE


def _receiving_at(subscription: Subscription, moment: dt.datetime) -> bool:
    """A chat gets the reminders due after it subscribed, never older ones (a group joining
    on 2/12 is not sent the 15/11 reminder of an event still under way)."""
    return subscription.created_at <= moment


async def _add_deliveries(subscriptions: Sequence[Subscription], *, session: AsyncSession,
                          now: dt.datetime, reminder_id: int | None = None,
                          broadcast_id: int | None = None) -> int:
    done = await store.existing_delivery_subscriptions(
        session=session, reminder_id=reminder_id, broadcast_id=broadcast_id)
    seen_chats: set[int] = set()
    rows = []
    for s in subscriptions:
        if s.id in done or s.chat_id in seen_chats:
            continue
        seen_chats.add(s.chat_id)
        rows.append(Delivery(reminder_id=reminder_id, broadcast_id=broadcast_id,
                             subscription_id=s.id, chat_id=s.chat_id, due_at=now,
                             kind="reminder" if reminder_id is not None else "broadcast"))
    await outbox.add_messages(rows, session=session)
    return len(rows)


# --- subscriptions ----------------------------------------------------------------------------


async def subscribe(actor: Actor, *, chat_id: int, group: bool, title: str,
                    agency_id: int | None, session: AsyncSession,
                    now: dt.datetime) -> Subscription:
    """Subscribe a group (for an agency, or the commune in general) or a person. A
    province's administrator subscribes a chat to the province's own deadlines (no agency)."""
    commune_id, province = await calendar_unit_of(actor, session=session)
    if province and agency_id is not None:
        raise InvalidInput("agency_not_in_commune")
    if group:
        ensure(actor, Action.SUBSCRIBE_GROUP, await units.get_unit_scope(commune_id,
                                                                         session=session))
    else:  # a person subscribes where they work (a collaborator: their village)
        ensure(actor, Action.SUBSCRIBE_SELF, actor.scope)
    agency_kind = None
    if agency_id is not None:
        agency = await units.get_agency(agency_id, session=session)
        if agency is None or agency.commune_id != commune_id or not agency.active:
            raise InvalidInput("agency_not_in_commune")
        agency_kind = str(agency.kind)
    elif not group and actor.agency_id is not None:
        agency = await units.get_agency(actor.agency_id, session=session)
        agency_kind = str(agency.kind) if agency else None
        agency_id = actor.agency_id
    subscription = await store.get_subscription(chat_id, commune_id, session=session)
    if subscription is None:
        subscription = Subscription(chat_id=chat_id, commune_id=commune_id, kind="person",
                                    created_by=actor.user_id, created_at=now)
        session.add(subscription)
    elif not subscription.active:  # receiving again from now on, not what it missed
        subscription.created_at = now
    subscription.kind = "group" if group else "person"
    subscription.agency_id = agency_id
    subscription.agency_kind = agency_kind
    subscription.role = None if group else str(actor.role)
    subscription.title = title[:128]
    subscription.active = True
    subscription.deactivated_at = None
    subscription.deactivated_reason = None
    await session.flush()
    await audit.record(session=session, at=now, actor_user_id=actor.user_id, action="subscribed",
                       object_type="subscription", object_id=subscription.id, unit_id=commune_id,
                       agency_kind=agency_kind)
    return subscription


async def agencies_for_group(actor: Actor, *, session: AsyncSession):  # noqa: ANN201
    """The agencies a group can be subscribed for, if the actor may subscribe groups."""
    commune_id = await commune_of(actor, session=session)
    ensure(actor, Action.SUBSCRIBE_GROUP, await units.get_unit_scope(commune_id, session=session))
    return await units.list_agencies(commune_id, session=session)


async def unsubscribe(actor: Actor, *, chat_id: int, group: bool, session: AsyncSession,
                      now: dt.datetime) -> int:
    if group:
        commune_id, _province = await calendar_unit_of(actor, session=session)
        ensure(actor, Action.SUBSCRIBE_GROUP, await units.get_unit_scope(commune_id,
                                                                         session=session))
    elif actor.scope is not None and await _is_province(actor.scope.unit_id, session=session):
        # a row that stays off: the province's reminders would otherwise subscribe its
        # administrator on their own
        await store.subscribe_admins(actor.scope.unit_id, session=session, only=actor.user_id)
    stopped = await store.deactivate_chat(chat_id, "unsubscribed", session=session, now=now)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="unsubscribed", object_type="chat", object_id=chat_id)
    return stopped


async def chat_gone(chat_id: int, reason: str, *, session: AsyncSession, now: dt.datetime) -> int:
    """The bot was blocked, or removed from the group: stop everything for that chat."""
    stopped = await store.deactivate_chat(chat_id, reason, session=session, now=now)
    if stopped:
        log.info("chat=%s deactivated (%s)", chat_id, reason)
    return stopped


# --- broadcasts -------------------------------------------------------------------------------


async def start_broadcast(actor: Actor, *, session: AsyncSession, now: dt.datetime) -> Broadcast:
    commune_id = await commune_of(actor, session=session)
    ensure(actor, Action.BROADCAST, await units.get_unit_scope(commune_id, session=session))
    previous = await store.draft_broadcast_of(actor.user_id, session=session)
    if previous is not None:
        previous.status = "cancelled"
    return await store.add_broadcast(Broadcast(commune_id=commune_id, created_by=actor.user_id,
                                               created_at=now), session=session)


async def waiting_broadcast(user_id: int, *, session: AsyncSession) -> Broadcast | None:
    """A broadcast whose text this administrator is about to type."""
    broadcast = await store.draft_broadcast_of(user_id, session=session)
    return broadcast if broadcast is not None and not broadcast.text else None


async def drop_waiting_broadcast(user_id: int, *, session: AsyncSession) -> None:
    """The administrator moved on before typing the broadcast: it is cancelled."""
    broadcast = await waiting_broadcast(user_id, session=session)
    if broadcast is not None:
        broadcast.status = "cancelled"
        session.add(broadcast)
        await session.flush()


MAX_BROADCAST_CHARS = 3500


async def set_broadcast_text(broadcast: Broadcast, text: str, *, session: AsyncSession) -> None:
    text = text.strip()
    if not text:
        raise InvalidInput("text_expected")
    if len(text) > MAX_BROADCAST_CHARS:
        raise InvalidInput("broadcast_too_long")
    broadcast.text = text
    await session.flush()


async def broadcast_for(actor: Actor, broadcast_id: int, *,
                        session: AsyncSession) -> Broadcast:
    broadcast = await store.get_broadcast(broadcast_id, session=session)
    if broadcast is None or broadcast.created_by != actor.user_id:
        raise NotFound("broadcast")
    ensure(actor, Action.BROADCAST, await units.get_unit_scope(broadcast.commune_id,
                                                               session=session))
    return broadcast


async def audience_size(broadcast: Broadcast, audience: str, *, session: AsyncSession) -> int:
    return len(await _broadcast_recipients(broadcast.commune_id, audience, session=session))


async def _broadcast_recipients(commune_id: int, audience: str, *,
                                session: AsyncSession) -> list[Subscription]:
    return [s for s in await store.list_subscriptions(commune_id, session=session)
            if matches((audience,), _recipient(s))]


async def confirm_broadcast(actor: Actor, broadcast_id: int, audience: str, *,
                            session: AsyncSession, now: dt.datetime,
                            progress_chat_id: int,
                            progress_message_id: int | None = None) -> tuple[Broadcast, int]:
    broadcast = await broadcast_for(actor, broadcast_id, session=session)
    if broadcast.status != "draft" or not broadcast.text:
        raise InvalidInput("broadcast_not_draft")
    broadcast.status = "sending"
    broadcast.audience = [audience]
    broadcast.confirmed_at = now
    broadcast.progress_chat_id = progress_chat_id
    broadcast.progress_message_id = progress_message_id
    recipients = await _broadcast_recipients(broadcast.commune_id, audience, session=session)
    count = await _add_deliveries(recipients, session=session, now=now, broadcast_id=broadcast.id)
    await outbox.announce(session=session)  # the active instance starts it at once
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="broadcast_sent", object_type="broadcast", object_id=broadcast.id,
                       unit_id=broadcast.commune_id, recipients=count, audience=audience)
    return broadcast, count


async def cancel_broadcast(actor: Actor, broadcast_id: int, *, session: AsyncSession) -> None:
    broadcast = await broadcast_for(actor, broadcast_id, session=session)
    if broadcast.status == "draft":
        broadcast.status = "cancelled"

