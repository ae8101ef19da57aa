"""Queries for officers working cases: lists with filters, referrals, what each person is
waiting to type, and the keyed deliveries of deadline alerts and morning digests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import OPEN_STATUSES
from domain.roles import Role
from storage.models import (
    Agency,
    Case,
    CaseReferral,
    Delivery,
    JobRun,
    Member,
    PendingInput,
    Report,
    ReportReporter,
)

# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list shows. Exactly one of the `who` fields narrows by person."""

    commune_id: int
    open_only: bool = True
    assigned_member_id: int | None = None
    unassigned: bool = False
    overdue_at: dt.datetime | None = None  # open and past their deadline at this moment
    agency_id: int | None = None  # referred to this agency
    reporter_user_id: int | None = None  # submitted by this person
    village_id: int | None = None
    category: str | None = None
    status: str | None = None
    awaiting_approval: bool = False  # a plan or a closing waits for the leader


def _filtered(stmt, f: CaseFilter):  # noqa: ANN001, ANN202
    stmt = stmt.where(Case.commune_id == f.commune_id)
    if f.open_only:
        stmt = stmt.where(col(Case.status).in_([str(s) for s in OPEN_STATUSES]))
    if f.assigned_member_id is not None:
        stmt = stmt.where(Case.assigned_member_id == f.assigned_member_id)
    if f.unassigned:
        stmt = stmt.where(col(Case.assigned_member_id).is_(None))
    if f.overdue_at is not None:
        stmt = stmt.where(col(Case.due_at).is_not(None), Case.due_at < f.overdue_at)
    if f.agency_id is not None:
        referred = select(CaseReferral.case_id).where(CaseReferral.agency_id == f.agency_id,
                                                      col(CaseReferral.active).is_(True))
        stmt = stmt.where(col(Case.id).in_(referred))
    if f.reporter_user_id is not None:
        mine = select(ReportReporter.report_id).where(
            ReportReporter.telegram_user_id == f.reporter_user_id)
        stmt = stmt.where(col(Case.report_id).in_(mine))
    if f.village_id is not None:
        stmt = stmt.where(Report.village_id == f.village_id)
    if f.category is not None:
        stmt = stmt.where(Report.category == f.category)
    if f.status is not None:
        stmt = stmt.where(Case.status == f.status)
    if f.awaiting_approval:
        stmt = stmt.where(col(Case.approval).is_not(None))
    return stmt


async def count_cases(f: CaseFilter, *, session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Case)
    if f.village_id is not None or f.category is not None:  # only then the report counts
        stmt = stmt.join(Report, Report.id == Case.report_id)
    return (await session.exec(_filtered(stmt, f))).one()


async def list_cases(f: CaseFilter, *, session: AsyncSession, offset: int,
                     limit: int) -> Sequence[tuple[Case, Report]]:
    """Most pressing first: urgent, then the nearest deadline, then the oldest."""
    stmt = select(Case, Report).join(Report, Report.id == Case.report_id)
    stmt = _filtered(stmt, f).order_by(
        col(Case.urgent).desc(), col(Case.due_at).is_(None), Case.due_at, Case.created_at,
        Case.id).offset(offset).limit(limit)
    return (await session.exec(stmt)).all()


async def count_by_village_and_category(f: CaseFilter, *, session: AsyncSession
                                        ) -> tuple[dict[int | None, int], dict[str, int]]:
    """How many cases of the list fall in each village and each category (filter buttons)."""
    base = select(Report.village_id, func.count()).select_from(Case).join(
        Report, Report.id == Case.report_id)
    villages = dict((await session.exec(_filtered(base, f).group_by(Report.village_id))).all())
    base = select(Report.category, func.count()).select_from(Case).join(
        Report, Report.id == Case.report_id)
    categories = dict((await session.exec(_filtered(base, f).group_by(Report.category))).all())
    return villages, categories


# --- referrals ------------------------------------------------------------------------------


async def list_referrals(case_id: int, *, session: AsyncSession
                         ) -> Sequence[tuple[CaseReferral, Agency]]:
    stmt = (select(CaseReferral, Agency).join(Agency, Agency.id == CaseReferral.agency_id)
            .where(CaseReferral.case_id == case_id, col(CaseReferral.active).is_(True))
            .order_by(CaseReferral.referred_at, CaseReferral.id))
    return (await session.exec(stmt)).all()


async def get_referral(case_id: int, agency_id: int, *,
                       session: AsyncSession) -> CaseReferral | None:
    stmt = select(CaseReferral).where(CaseReferral.case_id == case_id,
                                      CaseReferral.agency_id == agency_id)
    return (await session.exec(stmt)).first()


async def save_referral(referral: CaseReferral, *, session: AsyncSession) -> CaseReferral:
    session.add(referral)
    await session.flush()
    return referral


async def list_agency_members(agency_id: int, *, session: AsyncSession) -> Sequence[Member]:
    stmt = (select(Member).where(Member.agency_id == agency_id, col(Member.active).is_(True),
                                 Member.role == Role.AGENCY_MEMBER).order_by(Member.id))
    return (await session.exec(stmt)).all()


# --- what a person is about to type ------------------------------------------------------


async def get_pending(user_id: int, *, session: AsyncSession) -> PendingInput | None:
    stmt = select(PendingInput).where(PendingInput.user_id == user_id)
    return (await session.exec(stmt)).first()


async def set_pending(user_id: int, kind: str, *, session: AsyncSession, now: dt.datetime,
                      case_id: int | None = None, revision: int | None = None,
                      data: dict | None = None) -> PendingInput:
    """Replace whatever this person was about to type with `kind`."""
    await clear_pending(user_id, session=session)
    pending = PendingInput(user_id=user_id, kind=kind, case_id=case_id, revision=revision,
                           data=data or {}, created_at=now)
    session.add(pending)
    await session.flush()
    return pending


async def save_pending(pending: PendingInput, *, session: AsyncSession) -> None:
    flag_modified(pending, "data")  # a JSON column changed in place is not seen otherwise
    session.add(pending)
    await session.flush()


async def clear_pending(user_id: int, *, session: AsyncSession) -> None:
    existing = await get_pending(user_id, session=session)
    if existing is not None:
        await session.delete(existing)
        await session.flush()


# --- deadline alerts and digests ------------------------------------------------------------


async def list_cases_alert_due(moment: dt.datetime, *, session: AsyncSession,
                               limit: int = 500) -> Sequence[Case]:
    """Cases whose next deadline alert is due at `moment` (through the index on
    next_alert_at); the caller moves next_alert_at on, so paging needs no offset."""
    stmt = (select(Case).where(col(Case.next_alert_at).is_not(None),
                               Case.next_alert_at <= moment)
            .order_by(Case.next_alert_at, Case.id).limit(limit))
    return (await session.exec(stmt)).all()


async def lock_case(case_id: int, *, session: AsyncSession) -> Case | None:
    """The case, read fresh and locked until the transaction ends (FOR UPDATE; SQLite
    serialises writers anyway): two leaders pressing at once, or a leader deciding while the
    officer withdraws, are taken one after the other, the second seeing the first's change."""
    stmt = (select(Case).where(Case.id == case_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.exec(stmt)).first()


async def list_open_cases(*, session: AsyncSession, after_id: int = 0,
                          limit: int = 500) -> Sequence[tuple[Case, Report]]:
    stmt = (select(Case, Report).join(Report, Report.id == Case.report_id)
            .where(col(Case.status).in_([str(s) for s in OPEN_STATUSES]), Case.id > after_id)
            .order_by(Case.id).limit(limit))
    return (await session.exec(stmt)).all()


async def list_open_cases_between(after_id: int, upto_id: int, *, session: AsyncSession
                                  ) -> Sequence[tuple[Case, Report]]:
    """Open cases with after_id < id <= upto_id: a range of the primary key, so walking a
    province's archive in windows costs the window, not a sort of every open case."""
    stmt = (select(Case, Report).join(Report, Report.id == Case.report_id)
            .where(Case.id > after_id, Case.id <= upto_id,
                   col(Case.status).in_([str(s) for s in OPEN_STATUSES]))
            .order_by(Case.id))
    return (await session.exec(stmt)).all()


async def last_case_id(*, session: AsyncSession) -> int:
    return (await session.exec(select(func.max(Case.id)))).one() or 0


async def add_keyed_deliveries(rows: Sequence[dict], *, session: AsyncSession) -> int:
    """Insert deliveries that have a unique `key`, skipping keys that exist (another
    instance, or an earlier run, made them): each alert goes out once. Returns how many
    were new."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Delivery).values(list(rows)).on_conflict_do_nothing(index_elements=["key"])
    result = await session.exec(stmt)
    return result.rowcount or 0


async def claim_lease(key: str, *, session: AsyncSession, now: dt.datetime,
                      stale_before: dt.datetime) -> bool:
    """Take `key` in job_runs for a long job: True if free, or if its holder stopped renewing
    it before `stale_before` (that instance died); renew with `renew_lease`."""
    if await claim_job_run(key, session=session, now=now):
        return True
    stmt = (sa_update(JobRun).where(JobRun.key == key, JobRun.at < stale_before)
            .values(at=now))
    return ((await session.exec(stmt)).rowcount or 0) == 1


async def renew_lease(key: str, *, session: AsyncSession, now: dt.datetime) -> None:
    await session.exec(sa_update(JobRun).where(JobRun.key == key).values(at=now))


async def release_lease(key: str, *, session: AsyncSession) -> None:
    await session.exec(sa_delete(JobRun).where(JobRun.key == key))


async def job_ran(key: str, *, session: AsyncSession) -> bool:
    return (await session.get(JobRun, key)) is not None


async def claim_job_run(key: str, *, session: AsyncSession, now: dt.datetime) -> bool:
    """True once per `key` across all instances (a daily job claims its day)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.exec(insert(JobRun).values(key=key, at=now)
                                .on_conflict_do_nothing(index_elements=["key"]))
    return (result.rowcount or 0) == 1
