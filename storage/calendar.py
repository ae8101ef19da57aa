"""Queries on calendar events, subscriptions, reminders, broadcasts and deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.roles import Role
from storage.models import (
    Broadcast,
    CalendarEvent,
    Delivery,
    Member,
    Reminder,
    Subscription,
)

# --- events ---------------------------------------------------------------------------------


async def list_events(commune_id: int | None, *, session: AsyncSession,
                      active_only: bool = True) -> Sequence[CalendarEvent]:
    stmt = select(CalendarEvent)
    if commune_id is not None:
        stmt = stmt.where(CalendarEvent.commune_id == commune_id)
    if active_only:
        stmt = stmt.where(col(CalendarEvent.active).is_(True))
    return (await session.exec(stmt.order_by(CalendarEvent.commune_id, CalendarEvent.id))).all()


async def get_event(commune_id: int, code: str, *, session: AsyncSession) -> CalendarEvent | None:
    stmt = select(CalendarEvent).where(CalendarEvent.commune_id == commune_id,
                                       CalendarEvent.code == code)
    return (await session.exec(stmt)).first()


async def drop_planned_reminders(event_id: int, *, session: AsyncSession) -> int:
    """Forget reminders not released yet (the event's date changed: they are re-planned)."""
    result = await session.exec(delete(Reminder).where(Reminder.event_id == event_id,
                                                       Reminder.status == "planned"))
    return result.rowcount or 0


# --- reminders ------------------------------------------------------------------------------


async def reminders_of_events(event_ids: Sequence[int], years: Sequence[int], *,
                              session: AsyncSession) -> Sequence[Reminder]:
    """The reminders of these events in these years, in one query per 500 events (the
    planner runs hourly over every event of a province)."""
    found: list[Reminder] = []
    ids = list(event_ids)
    for start in range(0, len(ids), 500):
        stmt = select(Reminder).where(col(Reminder.event_id).in_(ids[start:start + 500]),
                                      col(Reminder.year).in_(list(years)))
        found += (await session.exec(stmt)).all()
    return found


async def add_reminders(reminders: Sequence[Reminder], *, session: AsyncSession) -> None:
    """Insert those whose occurrence has no reminder yet (another instance planning at the
    same moment may have made some): ON CONFLICT DO NOTHING, never insert-then-fail."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [reminder.model_dump(exclude={"id"}) for reminder in reminders]
    if not rows:
        return
    # One compiled statement for every row (executemany); the table, not the model, so
    # the ORM does not process each row.
    statement = insert(Reminder.__table__).on_conflict_do_nothing(
        index_elements=["event_id", "year", "seq", "lead_days"])
    await session.exec(statement, params=rows)


async def list_due_reminders(now: dt.datetime, *, session: AsyncSession,
                             limit: int = 200) -> Sequence[Reminder]:
    stmt = (select(Reminder).where(Reminder.status == "planned", Reminder.send_at <= now)
            .order_by(Reminder.send_at, Reminder.id).limit(limit))
    return (await session.exec(stmt)).all()


async def claim_reminder(reminder_id: int, status: str, *, session: AsyncSession,
                         now: dt.datetime, text: str | None = None) -> bool:
    """planned → released/stale, once, even with several instances."""
    result = await session.exec(
        update(Reminder).where(Reminder.id == reminder_id, Reminder.status == "planned")
        .values(status=status, released_at=now, text=text))
    return result.rowcount == 1


# --- subscriptions ----------------------------------------------------------------------------


async def get_subscription(chat_id: int, commune_id: int, *,
                           session: AsyncSession) -> Subscription | None:
    stmt = select(Subscription).where(Subscription.chat_id == chat_id,
                                      Subscription.commune_id == commune_id)
    return (await session.exec(stmt)).first()


async def list_subscriptions(commune_id: int | None, *, session: AsyncSession,
                             active_only: bool = True) -> Sequence[Subscription]:
    stmt = select(Subscription)
    if commune_id is not None:
        stmt = stmt.where(Subscription.commune_id == commune_id)
    if active_only:
        stmt = stmt.where(col(Subscription.active).is_(True))
    return (await session.exec(stmt.order_by(Subscription.id))).all()


async def subscribe_admins(province_id: int, *, session: AsyncSession,
                           only: int | None = None) -> set[int]:
    """The province's active administrators (or only the one `only`), each with a private
    subscription to the province's own deadlines: made, from the day they joined, if they have
    none; one they stopped with /unsubscribe stays stopped. ON CONFLICT DO NOTHING, so two
    instances releasing at the same moment make one row. Returns their user ids."""
    stmt = select(Member).where(Member.unit_id == province_id, Member.role == Role.ADMIN,
                                col(Member.active).is_(True))
    if only is not None:
        stmt = stmt.where(Member.telegram_user_id == only)
    admins = (await session.exec(stmt)).all()
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for member in admins:
        await session.exec(insert(Subscription).values(
            chat_id=member.telegram_user_id, commune_id=province_id, kind="person",
            role=str(Role.ADMIN), title="", active=True, created_by=member.telegram_user_id,
            created_at=member.joined_at).on_conflict_do_nothing(
                index_elements=["chat_id", "commune_id"]))
    return {member.telegram_user_id for member in admins}


async def deactivate_chat(chat_id: int, reason: str, *, session: AsyncSession,
                          now: dt.datetime) -> int:
    """Stop everything for a chat that blocked or removed the bot."""
    reason = reason[:40]
    result = await session.exec(
        update(Subscription).where(Subscription.chat_id == chat_id,
                                   col(Subscription.active).is_(True))
        .values(active=False, deactivated_at=now, deactivated_reason=reason))
    await session.exec(
        update(Delivery).where(Delivery.chat_id == chat_id, Delivery.status == "pending")
        .values(status="deactivated", last_error=reason))
    return result.rowcount or 0


# --- deliveries -------------------------------------------------------------------------------


async def existing_delivery_subscriptions(*, session: AsyncSession, reminder_id: int | None = None,
                                          broadcast_id: int | None = None) -> set[int]:
    stmt = select(Delivery.subscription_id)
    if reminder_id is not None:
        stmt = stmt.where(Delivery.reminder_id == reminder_id)
    else:
        stmt = stmt.where(Delivery.broadcast_id == broadcast_id)
    return set((await session.exec(stmt)).all())


# --- broadcasts -------------------------------------------------------------------------------


async def get_broadcast(broadcast_id: int, *, session: AsyncSession) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def draft_broadcast_of(user_id: int, *, session: AsyncSession) -> Broadcast | None:
    stmt = select(Broadcast).where(Broadcast.created_by == user_id, Broadcast.status == "draft")
    return (await session.exec(stmt.order_by(col(Broadcast.id).desc()))).first()


async def add_broadcast(broadcast: Broadcast, *, session: AsyncSession) -> Broadcast:
    session.add(broadcast)
    await session.flush()
    return broadcast

