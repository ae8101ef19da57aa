"""The outbox: every message the bot sends because something happened is a `deliveries`
row, written in the transaction of what caused it. These queries claim one row right
before its request (pending → sending, a conditional UPDATE: never twice, even with
several instances), record its outcome, and settle rows a dead instance left "sending"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import aliased
from sqlmodel import col, exists, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, Delivery, Reminder

IN_PROGRESS = ("pending", "sending")
# PostgreSQL NOTIFY channel: rows for the active instance's bulk run were queued.
CHANNEL = "treem_outbox"
OUTBOX_IDS = "treem.outbox_ids"  # session.info key: rows this unit of work queued


async def add_messages(rows: Sequence[Delivery], *, session: AsyncSession) -> list[int]:
    """Queue messages in the caller's transaction; returns their ids (also remembered on
    the session, so whoever commits it can wake the sender)."""
    if not rows:
        return []
    session.add_all(rows)
    await session.flush()
    ids = [row.id for row in rows]
    session.info.setdefault(OUTBOX_IDS, []).extend(ids)
    return ids


async def announce(*, session: AsyncSession) -> None:
    """Wake the active instance, whichever it is, when this transaction commits (a
    PostgreSQL NOTIFY is delivered at commit, and not at all on a rollback). SQLite runs one
    instance, which wakes itself."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_notify(CHANNEL, "")))


def queued_ids(session: AsyncSession) -> list[int]:
    return list(session.info.get(OUTBOX_IDS, ()))


def _older_waiting():  # noqa: ANN202
    """An older row to the same chat is still pending or being sent."""
    earlier = aliased(Delivery)
    return exists().where(earlier.chat_id == Delivery.chat_id, earlier.id < Delivery.id,
                          col(earlier.status).in_(IN_PROGRESS))


async def list_due(now: dt.datetime, *, session: AsyncSession,
                   limit: int) -> list[tuple[int, int]]:
    """(id, chat_id) of pending rows due now whose turn it is (nothing older to the same
    chat waits), oldest first."""
    stmt = select(Delivery.id, Delivery.chat_id).where(Delivery.status == "pending",
                                                       Delivery.due_at <= now,
                                                       ~_older_waiting())
    stmt = stmt.order_by(Delivery.due_at, Delivery.id).limit(limit)
    return [(row[0], row[1]) for row in (await session.exec(stmt)).all()]


async def turns_of(ids: Sequence[int], now: dt.datetime, *,
                   session: AsyncSession) -> tuple[list[tuple[int, int]], bool]:
    """Of these rows, those due whose turn it is ((id, chat_id), oldest first), and whether
    any other is due but waits behind an older row of its chat. One statement, so one
    snapshot: read apart, an older row that finished between the two reads made a row look
    neither ready nor waiting, and it was left behind."""
    waiting = _older_waiting().label("waiting")
    stmt = (select(Delivery.id, Delivery.chat_id, waiting)
            .where(col(Delivery.id).in_(list(ids)), Delivery.status == "pending",
                   Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id))
    rows = (await session.exec(stmt)).all()
    return [(row[0], row[1]) for row in rows if not row[2]], any(row[2] for row in rows)


async def claim(delivery_id: int, *, session: AsyncSession, now: dt.datetime,
                instance: int) -> Delivery | None:
    """pending → sending for this one row, if nothing older to the same chat is still
    pending or being sent (messages to one chat go out in row order). Committed by the
    caller right before the request. None: taken by someone else, or not its turn."""
    result = await session.exec(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending",
                               Delivery.due_at <= now, ~_older_waiting())
        .values(status="sending", claimed_at=now, claimed_by=instance,
                attempts=Delivery.attempts + 1)
        .returning(Delivery)
        .execution_options(populate_existing=True))
    return result.scalars().first()


async def get_reminder(reminder_id: int, *, session: AsyncSession) -> Reminder | None:
    return await session.get(Reminder, reminder_id)


async def get_broadcast_text(broadcast_id: int, *, session: AsyncSession) -> str:
    return (await session.exec(select(Broadcast.text).where(Broadcast.id == broadcast_id))).one()


async def finish(delivery_id: int, values: dict, *, session: AsyncSession) -> None:
    """Record one outcome (status and the columns that change)."""
    await session.exec(update(Delivery).where(Delivery.id == delivery_id,
                                              Delivery.status == "sending").values(**values))


async def claimers_of_sending(*, session: AsyncSession) -> list[int | None]:
    """The instances that have rows "sending" now."""
    stmt = select(Delivery.claimed_by).where(Delivery.status == "sending").distinct()
    return list((await session.exec(stmt)).all())


async def mark_uncertain(claimers: Sequence[int | None], *, session: AsyncSession,
                         older_than: dt.datetime | None = None) -> int:
    """Rows left "sending" by instances that died (or by this one, for rows no task of it
    is sending): Telegram may or may not have them, so they are never sent again (no
    duplicates) and counted as uncertain."""
    if not claimers:
        return 0
    known = [c for c in claimers if c is not None]
    condition = col(Delivery.claimed_by).in_(known) if known else None
    if None in claimers:
        unknown = col(Delivery.claimed_by).is_(None)
        condition = unknown if condition is None else (condition | unknown)
    stmt = update(Delivery).where(Delivery.status == "sending", condition)
    if older_than is not None:
        stmt = stmt.where(Delivery.claimed_at < older_than)
    result = await session.exec(stmt.values(status="uncertain", last_error="interrupted"))
    return result.rowcount or 0


async def sending_ids_of(instance: int, *, session: AsyncSession) -> list[int]:
    stmt = select(Delivery.id).where(Delivery.status == "sending",
                                     Delivery.claimed_by == instance)
    return list((await session.exec(stmt)).all())


async def mark_ids_uncertain(ids: Sequence[int], *, session: AsyncSession) -> int:
    if not ids:
        return 0
    result = await session.exec(
        update(Delivery).where(col(Delivery.id).in_(list(ids)), Delivery.status == "sending")
        .values(status="uncertain", last_error="interrupted"))
    return result.rowcount or 0


# --- broadcasts: progress and the end ------------------------------------------------------


async def list_sending_broadcasts(*, session: AsyncSession) -> Sequence[Broadcast]:
    stmt = select(Broadcast).where(Broadcast.status == "sending").order_by(Broadcast.id)
    return (await session.exec(stmt)).all()


async def count_broadcast(broadcast_id: int, *, session: AsyncSession) -> dict[str, int]:
    stmt = (select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
            .group_by(Delivery.status))
    return dict((await session.exec(stmt)).all())


async def close_broadcast(broadcast_id: int, *, session: AsyncSession) -> bool:
    """sending → done once no row of it is pending or being sent; True for the one
    caller (of all instances) that closed it, who then queues the summary."""
    waiting = exists().where(Delivery.broadcast_id == Broadcast.id,
                             col(Delivery.status).in_(IN_PROGRESS))
    result = await session.exec(
        update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "sending",
                                ~waiting).values(status="done"))
    return result.rowcount == 1
