"""Queries for people's rights over their data and for the access report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    DataRequest,
    Member,
    Report,
    ReportAddition,
    ReportReporter,
)
from storage.units import within_units


async def list_own_reports(user_id: int, *, session: AsyncSession
                           ) -> Sequence[tuple[Report, ReportReporter, Case | None]]:
    """The reports this person sent, newest first, with what is kept about them."""
    stmt = (select(Report, ReportReporter, Case)
            .join(ReportReporter, ReportReporter.report_id == Report.id)
            .join(Case, Case.report_id == Report.id, isouter=True)
            .where(ReportReporter.telegram_user_id == user_id)
            .order_by(col(Report.created_at).desc(), col(Report.id).desc()))
    return (await session.exec(stmt)).all()


async def list_own_messages(user_id: int, report_id: int, case_id: int | None, *,
                            session: AsyncSession) -> list[tuple[dt.datetime, str]]:
    """What this person wrote on a report after sending it: additions and answers."""
    found: list[tuple[dt.datetime, str]] = []
    additions = await session.exec(select(ReportAddition)
                                   .where(ReportAddition.report_id == report_id))
    found += [(a.created_at, a.text) for a in additions.all() if a.text]
    if case_id is not None:
        events = await session.exec(select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == "relay_in",
            CaseEvent.actor_user_id == user_id))
        found += [(e.at, e.note or "") for e in events.all()]
    return sorted(found)


async def add_request(request: DataRequest, *, session: AsyncSession) -> DataRequest:
    session.add(request)
    await session.flush()
    return request


async def list_requests(user_id: int, *, session: AsyncSession) -> Sequence[DataRequest]:
    stmt = (select(DataRequest).where(DataRequest.user_id == user_id)
            .order_by(col(DataRequest.id)))
    return (await session.exec(stmt)).all()


async def count_access(*, session: AsyncSession, since: dt.datetime, until: dt.datetime,
                       unit_ids: Sequence[int] | None) -> int:
    stmt = (select(sa.func.count()).select_from(AuditEntry)
            .where(*_access_filter(since, until, unit_ids)))
    return (await session.exec(stmt)).one()


async def list_access(*, session: AsyncSession, since: dt.datetime, until: dt.datetime,
                      unit_ids: Sequence[int] | None, offset: int = 0,
                      limit: int | None = None) -> Sequence[AuditEntry]:
    """Audit rows of reading or exporting in [since, until), newest first."""
    stmt = (select(AuditEntry).where(*_access_filter(since, until, unit_ids))
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).offset(offset))
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.exec(stmt)).all()


def _access_filter(since: dt.datetime, until: dt.datetime,
                   unit_ids: Sequence[int] | None) -> list:
    """Reading or taking out data (domain.data_rights.is_access) in [since, until)."""
    action = col(AuditEntry.action)
    where = [AuditEntry.at >= since, AuditEntry.at < until,
             sa.or_(action.endswith("_viewed", autoescape=True),
                    action.endswith("_exported", autoescape=True))]
    if unit_ids is not None:
        where.append(within_units(AuditEntry.unit_id, unit_ids))
    return where


async def member_names(user_ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    if not user_ids:
        return {}
    stmt = select(Member.telegram_user_id, Member.display_name).where(
        col(Member.telegram_user_id).in_(list(user_ids)))
    return dict((await session.exec(stmt)).all())


async def report_codes_of_cases(case_ids: Sequence[int], *, session: AsyncSession
                                ) -> dict[int, str]:
    if not case_ids:
        return {}
    stmt = (select(Case.id, Report.code).join(Report, Report.id == Case.report_id)
            .where(col(Case.id).in_(list(case_ids))))
    return dict((await session.exec(stmt)).all())
