"""Queries for the plan's targets and the report round: rounds, agencies' parts, who gets
the requests and chasers (as keyed outbox rows, so each goes out once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.roles import Role
from storage.models import (
    Agency,
    JobRun,
    Member,
    PlanTarget,
    ReportRound,
    RoundPart,
    RoundSpecRow,
    Subscription,
)


async def list_targets(commune_id: int, *, session: AsyncSession, active_only: bool = True,
                       agency_id: int | None = None) -> Sequence[PlanTarget]:
    stmt = select(PlanTarget).where(PlanTarget.commune_id == commune_id)
    if active_only:
        stmt = stmt.where(col(PlanTarget.active).is_(True))
    if agency_id is not None:
        stmt = stmt.where(PlanTarget.agency_id == agency_id)
    return (await session.exec(stmt.order_by(PlanTarget.position, PlanTarget.id))).all()


async def list_specs(commune_id: int | None, *, session: AsyncSession,
                     active_only: bool = True) -> Sequence[RoundSpecRow]:
    stmt = select(RoundSpecRow)
    if commune_id is not None:
        stmt = stmt.where(RoundSpecRow.commune_id == commune_id)
    if active_only:
        stmt = stmt.where(col(RoundSpecRow.active).is_(True))
    return (await session.exec(stmt.order_by(RoundSpecRow.commune_id, RoundSpecRow.id))).all()


async def create_round(values: dict, *, session: AsyncSession) -> bool:
    """Insert a round unless that report of that year exists (another run made it): True
    when this call created it."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ReportRound).values(**values).on_conflict_do_nothing(
        index_elements=["commune_id", "code", "year"])
    return ((await session.exec(stmt)).rowcount or 0) == 1


async def find_round(commune_id: int, code: str, year: int, *,
                     session: AsyncSession) -> ReportRound | None:
    stmt = select(ReportRound).where(ReportRound.commune_id == commune_id,
                                     ReportRound.code == code, ReportRound.year == year)
    return (await session.exec(stmt)).first()


async def get_round(round_id: int, *, session: AsyncSession) -> ReportRound | None:
    return await session.get(ReportRound, round_id)


async def list_rounds(commune_ids: Sequence[int] | None, *, session: AsyncSession,
                      status: str | None = None) -> Sequence[ReportRound]:
    stmt = select(ReportRound)
    if commune_ids is not None:
        stmt = stmt.where(col(ReportRound.commune_id).in_(list(commune_ids)))
    if status is not None:
        stmt = stmt.where(ReportRound.status == status)
    return (await session.exec(stmt.order_by(col(ReportRound.collect_on).desc(),
                                             col(ReportRound.id).desc()))).all()


async def previous_round(round_: ReportRound, *, session: AsyncSession) -> ReportRound | None:
    """The same report of the year before (its values are "last period")."""
    stmt = (select(ReportRound).where(ReportRound.commune_id == round_.commune_id,
                                      ReportRound.code == round_.code,
                                      ReportRound.year < round_.year)
            .order_by(col(ReportRound.year).desc()).limit(1))
    return (await session.exec(stmt)).first()


async def get_part(round_id: int, agency_id: int, *, session: AsyncSession) -> RoundPart | None:
    stmt = select(RoundPart).where(RoundPart.round_id == round_id,
                                   RoundPart.agency_id == agency_id)
    return (await session.exec(stmt)).first()


async def get_part_by_id(part_id: int, *, session: AsyncSession) -> RoundPart | None:
    return await session.get(RoundPart, part_id)


async def lock_part(part_id: int, *, session: AsyncSession) -> RoundPart | None:
    """The part, re-read and locked until the commit (FOR UPDATE on PostgreSQL): two members
    of an agency typing at once are applied one after the other, none lost."""
    stmt = (select(RoundPart).where(RoundPart.id == part_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def hold_round(round_id: int, *, session: AsyncSession) -> ReportRound | None:
    """The round re-read in share mode until the commit (FOR SHARE on PostgreSQL): a lock
    of the round waits for the edits in flight, and an edit after it sees it locked."""
    stmt = (select(ReportRound).where(ReportRound.id == round_id).with_for_update(read=True)
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def lock_round(round_id: int, *, session: AsyncSession) -> ReportRound | None:
    """The round re-read and locked until the commit (FOR UPDATE on PostgreSQL)."""
    stmt = (select(ReportRound).where(ReportRound.id == round_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def create_part(round_id: int, agency_id: int, *, session: AsyncSession,
                      now: dt.datetime, user_id: int) -> RoundPart:
    part = RoundPart(round_id=round_id, agency_id=agency_id, started_at=now, updated_at=now,
                     updated_by=user_id, answers={})
    session.add(part)
    await session.flush()
    return part


async def save_part(part: RoundPart, *, session: AsyncSession) -> None:
    flag_modified(part, "answers")
    session.add(part)
    await session.flush()


async def list_parts(round_id: int, *, session: AsyncSession) -> Sequence[RoundPart]:
    stmt = select(RoundPart).where(RoundPart.round_id == round_id).order_by(RoundPart.id)
    return (await session.exec(stmt)).all()


async def list_commune_parts(commune_id: int, *,
                             session: AsyncSession) -> Sequence[RoundPart]:
    """Every agency part of every round of the commune (a target renamed into its first part
    carries its values over)."""
    stmt = (select(RoundPart).join(ReportRound, col(ReportRound.id) == RoundPart.round_id)
            .where(ReportRound.commune_id == commune_id).order_by(RoundPart.id))
    return (await session.exec(stmt)).all()


async def get_target(target_id: int, *, session: AsyncSession) -> PlanTarget | None:
    return await session.get(PlanTarget, target_id)


async def lock_target(target_id: int, *, session: AsyncSession) -> PlanTarget | None:
    """The target's row, locked until the commit (two administrators' changes in turn)."""
    stmt = (select(PlanTarget).where(PlanTarget.id == target_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def save_target(target: PlanTarget, *, session: AsyncSession) -> None:
    flag_modified(target, "target_values")
    flag_modified(target, "off_years")
    session.add(target)
    await session.flush()


async def list_active_agencies(commune_id: int, *, session: AsyncSession) -> Sequence[Agency]:
    stmt = (select(Agency).where(Agency.commune_id == commune_id, col(Agency.active).is_(True))
            .order_by(Agency.id))
    return (await session.exec(stmt)).all()


async def agency_chats(agency_id: int, *, session: AsyncSession) -> list[int]:
    """Where an agency's requests go: its members' private chats and the chats subscribed
    for it (its group), each once."""
    members = (await session.exec(select(Member.telegram_user_id).where(
        Member.agency_id == agency_id, col(Member.active).is_(True),
        Member.role == Role.AGENCY_MEMBER).order_by(Member.id))).all()
    groups = (await session.exec(select(Subscription.chat_id).where(
        Subscription.agency_id == agency_id, col(Subscription.active).is_(True))
        .order_by(Subscription.id))).all()
    return list(dict.fromkeys([*members, *groups]))


async def staff_chats(commune_id: int, *, role: Role, session: AsyncSession) -> list[int]:
    stmt = (select(Member.telegram_user_id).where(Member.unit_id == commune_id,
                                                  Member.role == role,
                                                  col(Member.active).is_(True))
            .order_by(Member.id))
    return list((await session.exec(stmt)).all())


def reminder_key(round_id: int, agency_id: int, number: int) -> str:
    """The once-only key of an officer's `number`-th one-tap reminder (job_runs): the same
    button pressed twice claims the same key, so the reminder goes out once."""
    return f"rrm:{round_id}:{agency_id}:{number}"


async def count_reminders(round_id: int, *, session: AsyncSession) -> dict[int, int]:
    """How many one-tap reminders each agency got in the round."""
    keys = (await session.exec(select(JobRun.key).where(
        col(JobRun.key).startswith(f"rrm:{round_id}:")))).all()
    counts: dict[int, int] = {}
    for key in keys:
        agency_id = int(key.split(":")[2])
        counts[agency_id] = counts.get(agency_id, 0) + 1
    return counts
