"""Queries for the register of children in special circumstances: records, their support,
their history ("biến động"), lists by village, duplicates by match key, and the children
whose 16th birthday has come. Functions flush, never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import update as sa_update
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.register import register_match_key
from storage.crypto import PREFIX, Keyring
from storage.db import Database
from storage.models import (
    CaseReferral,
    Member,
    RegisterChild,
    RegisterEvent,
    RegisterSupport,
)

ACTIVE = "active"


async def create_child(child: RegisterChild, *, session: AsyncSession) -> RegisterChild:
    session.add(child)
    await session.flush()
    return child


async def save_child(child: RegisterChild, *, session: AsyncSession) -> None:
    flag_modified(child, "groups")
    session.add(child)
    await session.flush()


async def get_child(child_id: int, *, session: AsyncSession) -> RegisterChild | None:
    return await session.get(RegisterChild, child_id)


async def lock_child(child_id: int, *, session: AsyncSession) -> RegisterChild | None:
    """The record, read fresh and locked until the transaction ends (FOR UPDATE; SQLite
    serialises writers anyway): a second change at the same moment waits, then sees the
    first one's revision."""
    stmt = (select(RegisterChild).where(RegisterChild.id == child_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def find_by_match_key(match_key: str, *, session: AsyncSession,
                            exclude_id: int | None = None) -> Sequence[RegisterChild]:
    """Active records with this key (see domain.register.register_match_key)."""
    stmt = select(RegisterChild).where(RegisterChild.match_key == match_key,
                                       RegisterChild.status == ACTIVE)
    if exclude_id is not None:
        stmt = stmt.where(RegisterChild.id != exclude_id)
    return (await session.exec(stmt.order_by(col(RegisterChild.id)))).all()


async def find_by_case(case_id: int, *, session: AsyncSession) -> RegisterChild | None:
    """The active record added from this case, if any."""
    stmt = select(RegisterChild).where(RegisterChild.source_case_id == case_id,
                                       RegisterChild.status == ACTIVE)
    return (await session.exec(stmt.order_by(col(RegisterChild.id)))).first()


async def list_active(commune_id: int, *, session: AsyncSession,
                      village_id: int | None = None) -> Sequence[RegisterChild]:
    """The active children of a commune (or of one of its villages). Names are sorted by the
    caller (Vietnamese order, and encrypted names cannot be sorted in SQL)."""
    stmt = select(RegisterChild).where(RegisterChild.commune_id == commune_id,
                                       RegisterChild.status == ACTIVE)
    if village_id is not None:
        stmt = stmt.where(RegisterChild.village_id == village_id)
    return (await session.exec(stmt)).all()


async def count_active_by_village(commune_id: int, *,
                                  session: AsyncSession) -> dict[int | None, int]:
    stmt = (select(RegisterChild.village_id, func.count())
            .where(RegisterChild.commune_id == commune_id, RegisterChild.status == ACTIVE)
            .group_by(RegisterChild.village_id))
    return dict((await session.exec(stmt)).all())


async def list_supports(child_id: int, *, session: AsyncSession) -> Sequence[RegisterSupport]:
    stmt = select(RegisterSupport).where(RegisterSupport.child_id == child_id)
    return (await session.exec(stmt.order_by(col(RegisterSupport.id)))).all()


async def kinds_with_status(commune_id: int, kind: str, statuses: Sequence[str], *,
                            session: AsyncSession) -> set[int]:
    """Ids of the commune's children whose `kind` of support has one of `statuses`."""
    stmt = (select(RegisterSupport.child_id)
            .join(RegisterChild, col(RegisterChild.id) == col(RegisterSupport.child_id))
            .where(RegisterChild.commune_id == commune_id, RegisterSupport.kind == kind,
                   col(RegisterSupport.status).in_(list(statuses))))
    return set((await session.exec(stmt)).all())


async def set_support(child_id: int, kind: str, status: str, *, since: dt.date,
                      session: AsyncSession, note: str | None = None) -> bool:
    """Sets one kind of support; True if something changed."""
    stmt = select(RegisterSupport).where(RegisterSupport.child_id == child_id,
                                         RegisterSupport.kind == kind)
    existing = (await session.exec(stmt)).first()
    if existing is None:
        session.add(RegisterSupport(child_id=child_id, kind=kind, status=status, since=since,
                                    note=note))
    elif existing.status == status and (note is None or existing.note == note):
        return False
    else:
        existing.status, existing.since = status, since
        if note is not None:
            existing.note = note
        session.add(existing)
    await session.flush()
    return True


async def add_event(child_id: int, kind: str, *, session: AsyncSession, at: dt.datetime,
                    actor_user_id: int | None, due_on: dt.date | None = None,
                    done_on: dt.date | None = None, **changes: object) -> RegisterEvent:
    event = RegisterEvent(child_id=child_id, kind=kind, at=at, actor_user_id=actor_user_id,
                          changes=changes, due_on=due_on, done_on=done_on)
    session.add(event)
    await session.flush()
    return event


async def list_events(child_id: int, *, session: AsyncSession,
                      limit: int = 20) -> Sequence[tuple[RegisterEvent, str | None]]:
    """The newest history rows with the display name of who made them (None: the bot or a
    person no longer a member)."""
    stmt = (select(RegisterEvent, Member.display_name)
            .join(Member, col(Member.telegram_user_id) == col(RegisterEvent.actor_user_id),
                  isouter=True)
            .where(RegisterEvent.child_id == child_id)
            .order_by(col(RegisterEvent.at).desc(), col(RegisterEvent.id).desc()).limit(limit))
    return (await session.exec(stmt)).all()


async def referred_agencies(case_id: int | None, *, session: AsyncSession) -> frozenset[int]:
    """Agencies an active referral of this case went to."""
    if case_id is None:
        return frozenset()
    stmt = select(CaseReferral.agency_id).where(CaseReferral.case_id == case_id,
                                                col(CaseReferral.active).is_(True))
    return frozenset((await session.exec(stmt)).all())


async def list_turned_16(day: dt.date, *, session: AsyncSession,
                         limit: int = 500) -> Sequence[RegisterChild]:
    """Active children whose 16th birthday is `day` or earlier."""
    stmt = (select(RegisterChild)
            .where(RegisterChild.status == ACTIVE, RegisterChild.leaves_on <= day)
            .order_by(col(RegisterChild.id)).limit(limit))
    return (await session.exec(stmt)).all()


async def mark_left(child_id: int, *, revision: int | None, reason: str, on: dt.date,
                    note: str | None, now: dt.datetime, session: AsyncSession) -> bool:
    """Active → left, only if still active (and at `revision`, when given): True for the
    one caller that made the change, so a second press or a second instance does nothing."""
    stmt = (sa_update(RegisterChild)
            .where(col(RegisterChild.id) == child_id, col(RegisterChild.status) == ACTIVE)
            .values(status="left", leave_reason=reason, left_on=on, leave_note=note or None,
                    updated_at=now, revision=RegisterChild.revision + 1)
            .execution_options(synchronize_session=False))
    if revision is not None:
        stmt = stmt.where(col(RegisterChild.revision) == revision)
    result = await session.exec(stmt)
    changed = result.rowcount == 1
    if changed:
        child = await session.get(RegisterChild, child_id)
        if child is not None:
            await session.refresh(child)
    return changed


async def list_members_of(unit_id: int, roles: Sequence[str], *,
                          session: AsyncSession) -> Sequence[Member]:
    """Active members with one of `roles` in this unit (a village's collaborators, a
    commune's officers)."""
    stmt = select(Member).where(Member.unit_id == unit_id, col(Member.active).is_(True),
                                col(Member.role).in_(list(roles)))
    return (await session.exec(stmt.order_by(col(Member.id)))).all()


async def villages_with_due_reviews(day: dt.date, *, session: AsyncSession) -> list[int]:
    """Villages with at least one active child whose periodic review is due on `day` or
    earlier (every such village, however many children are due in the province)."""
    stmt = (select(RegisterChild.village_id)
            .where(RegisterChild.status == ACTIVE, col(RegisterChild.review_due_on).is_not(None),
                   col(RegisterChild.review_due_on) <= day,
                   col(RegisterChild.village_id).is_not(None))
            .distinct().order_by(col(RegisterChild.village_id)))
    return list((await session.exec(stmt)).all())


async def list_due_reviews(day: dt.date, village_id: int, *,
                           session: AsyncSession) -> Sequence[RegisterChild]:
    """The village's active children whose periodic review is due on `day` or earlier."""
    stmt = (select(RegisterChild)
            .where(RegisterChild.status == ACTIVE, RegisterChild.village_id == village_id,
                   col(RegisterChild.review_due_on).is_not(None),
                   col(RegisterChild.review_due_on) <= day)
            .order_by(col(RegisterChild.id)))
    return (await session.exec(stmt)).all()


async def claim_day(key: str, *, session: AsyncSession, now: dt.datetime) -> bool:
    """True once per key across instances (one review list per village and day)."""
    from storage.cases import claim_job_run

    return await claim_job_run(key, session=session, now=now)


async def recompute_match_keys(db: Database, keyring: Keyring, *, batch: int = 500) -> int:
    """After a key rotation: every record's duplicate key under the current key's blind
    index (the old index no longer matches what the bot computes). Raw columns, so it runs
    with the rotation's keyring whatever key the process installed; in batches."""
    table = RegisterChild.__table__
    changed, after = 0, 0
    while True:
        async with db.session() as session:
            rows = (await session.exec(
                sa.select(table.c.id, table.c.full_name, table.c.birth_year,
                          table.c.commune_id, table.c.match_key)
                .where(table.c.id > after).order_by(table.c.id).limit(batch))).all()
            for child_id, stored_name, birth_year, commune_id, old_key in rows:
                name = keyring.decrypt(stored_name) if stored_name.startswith(PREFIX) \
                    else stored_name
                key = register_match_key(name, birth_year, commune_id,
                                         digest=keyring.blind_index)
                if key != old_key:
                    await session.exec(sa.update(table).where(table.c.id == child_id)
                                       .values(match_key=key))
                    changed += 1
        if len(rows) < batch:
            return changed
        after = rows[-1][0]


async def supports_of_commune(commune_id: int, *,
                              session: AsyncSession) -> dict[int, dict[str, str]]:
    """child id → {support kind: status} for the commune's active children."""
    stmt = (select(RegisterSupport.child_id, RegisterSupport.kind, RegisterSupport.status)
            .join(RegisterChild, col(RegisterChild.id) == col(RegisterSupport.child_id))
            .where(RegisterChild.commune_id == commune_id, RegisterChild.status == ACTIVE))
    found: dict[int, dict[str, str]] = {}
    for child_id, kind, status in (await session.exec(stmt)).all():
        found.setdefault(child_id, {})[kind] = status
    return found


async def active_totals(commune_ids: Sequence[int], *,
                        session: AsyncSession) -> tuple[int, int]:
    """(active children, of them at risk) of these communes, counted in SQL."""
    at_risk = func.sum(sa.case((col(RegisterChild.at_risk).is_(True), 1), else_=0))
    stmt = select(func.count(), at_risk).where(
        col(RegisterChild.commune_id).in_(list(commune_ids)), RegisterChild.status == ACTIVE)
    total, risk = (await session.exec(stmt)).one()
    return total, int(risk or 0)


async def group_counts(commune_ids: Sequence[int], *,
                       session: AsyncSession) -> dict[str, int]:
    """Group of Điều 10 → active children of these communes in it, counted by the database
    (the JSON list unnested: json_each on SQLite, json_array_elements_text on PostgreSQL)."""
    table = RegisterChild.__table__
    if session.bind.dialect.name == "postgresql":
        items = sa.func.json_array_elements_text(table.c.groups).table_valued("value")
    else:
        items = sa.func.json_each(table.c.groups).table_valued("value")
    group = items.c.value
    stmt = (sa.select(group, sa.func.count())
            .select_from(table.join(items, sa.true()))
            .where(table.c.commune_id.in_(list(commune_ids)), table.c.status == ACTIVE)
            .group_by(group))
    return {str(name): n for name, n in (await session.exec(stmt)).all()}


async def support_counts(commune_ids: Sequence[int], *,
                         session: AsyncSession) -> dict[tuple[str, str], int]:
    """(kind, status) → number of active children of these communes, counted in SQL."""
    stmt = (select(RegisterSupport.kind, RegisterSupport.status, func.count())
            .join(RegisterChild, col(RegisterChild.id) == col(RegisterSupport.child_id))
            .where(col(RegisterChild.commune_id).in_(list(commune_ids)),
                   RegisterChild.status == ACTIVE)
            .group_by(RegisterSupport.kind, RegisterSupport.status))
    return {(kind, status): n for kind, status, n in (await session.exec(stmt)).all()}


async def overdue_by_commune(day: dt.date, *, session: AsyncSession) -> dict[int, int]:
    """commune → active children whose periodic review was due before `day` (counted in
    SQL, for the officers' morning digest)."""
    stmt = (select(RegisterChild.commune_id, func.count())
            .where(RegisterChild.status == ACTIVE,
                   col(RegisterChild.review_due_on).is_not(None),
                   col(RegisterChild.review_due_on) < day)
            .group_by(RegisterChild.commune_id))
    return dict((await session.exec(stmt)).all())


async def take_pending(pending_id: int, *, session: AsyncSession) -> bool:
    """Deletes this pending input if it is still there: True for the one caller that did
    (a double press of "Import" runs the import once, on both databases)."""
    from storage.models import PendingInput

    result = await session.exec(sa.delete(PendingInput).where(
        col(PendingInput.id) == pending_id).execution_options(synchronize_session=False))
    return result.rowcount == 1


BreakdownRow = tuple[int, str, str, int | None, int]


async def breakdown_counts(commune_ids: Sequence[int], *, today: dt.date,
                           session: AsyncSession) -> Sequence[BreakdownRow]:
    """(commune, sex, age band, village, active children), counted in SQL. The age band
    follows domain.register.age_on: with a date of birth, completed years on `today`; with
    the year only, the age reached during this year."""
    c6, c11 = _years_before(today, 6), _years_before(today, 11)
    band = sa.case(
        (col(RegisterChild.birth_date).is_(None),
         sa.case((col(RegisterChild.birth_year) > today.year - 6, "0-5"),
                 (col(RegisterChild.birth_year) > today.year - 11, "6-10"), else_="11-15")),
        (col(RegisterChild.birth_date) > c6, "0-5"),
        (col(RegisterChild.birth_date) > c11, "6-10"),
        else_="11-15")
    stmt = (select(RegisterChild.commune_id, RegisterChild.sex, band, RegisterChild.village_id,
                   func.count())
            .where(col(RegisterChild.commune_id).in_(list(commune_ids)),
                   RegisterChild.status == ACTIVE)
            .group_by(RegisterChild.commune_id, RegisterChild.sex, band,
                      RegisterChild.village_id))
    return (await session.exec(stmt)).all()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


async def joined_count(commune_ids: Sequence[int], *, start: dt.datetime, end: dt.datetime,
                       session: AsyncSession) -> int:
    """Records added to these communes' register in [start, end), whatever they are now."""
    stmt = select(func.count()).select_from(RegisterChild).where(
        col(RegisterChild.commune_id).in_(list(commune_ids)),
        col(RegisterChild.created_at) >= start, col(RegisterChild.created_at) < end)
    return int((await session.exec(stmt)).one())


async def left_counts(commune_ids: Sequence[int], *, first: dt.date, last: dt.date,
                      session: AsyncSession) -> dict[str, int]:
    """Leaving reason → records that left the register between `first` and `last` (days,
    both included)."""
    stmt = (select(RegisterChild.leave_reason, func.count())
            .where(col(RegisterChild.commune_id).in_(list(commune_ids)),
                   RegisterChild.status != ACTIVE,
                   col(RegisterChild.left_on) >= first, col(RegisterChild.left_on) <= last)
            .group_by(RegisterChild.leave_reason))
    return {reason or "": n for reason, n in (await session.exec(stmt)).all()}


async def review_counts(commune_ids: Sequence[int], *, first: dt.date, last: dt.date,
                        today: dt.date, session: AsyncSession) -> tuple[int, int, int]:
    """Periodic reviews that fall due between `first` and `last`: (done on or before the due
    day, done later, not done and already overdue: due before today), counted in SQL from
    the history's "reviewed" rows and the active children's current due day."""
    on_time = sa.case((col(RegisterEvent.done_on) <= col(RegisterEvent.due_on), 1), else_=0)
    stmt = (select(func.count(), func.coalesce(func.sum(on_time), 0))
            .select_from(RegisterEvent)
            .join(RegisterChild, col(RegisterChild.id) == col(RegisterEvent.child_id))
            .where(col(RegisterChild.commune_id).in_(list(commune_ids)),
                   RegisterEvent.kind == "reviewed",
                   col(RegisterEvent.due_on) >= first, col(RegisterEvent.due_on) <= last,
                   col(RegisterEvent.done_on).is_not(None)))
    done, in_time = (await session.exec(stmt)).one()
    pending = select(func.count()).select_from(RegisterChild).where(
        col(RegisterChild.commune_id).in_(list(commune_ids)), RegisterChild.status == ACTIVE,
        col(RegisterChild.review_due_on) >= first,
        col(RegisterChild.review_due_on) <= min(last, today - dt.timedelta(days=1)))
    overdue = int((await session.exec(pending)).one())
    return int(in_time), int(done) - int(in_time), overdue
