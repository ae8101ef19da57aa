"""Aggregating queries for report figures: counted by the database, never in memory."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, Report


async def reports_by_category(commune_id: int, start: dt.datetime, end: dt.datetime, *,
                              session: AsyncSession) -> dict[str, int]:
    stmt = (select(Report.category, func.count()).where(
        Report.commune_id == commune_id, Report.created_at >= start, Report.created_at < end)
        .group_by(Report.category))
    return dict((await session.exec(stmt)).all())


async def urgent_reports(commune_id: int, start: dt.datetime, end: dt.datetime, *,
                         session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Report).where(
        Report.commune_id == commune_id, Report.created_at >= start, Report.created_at < end,
        col(Report.urgent).is_(True))
    return (await session.exec(stmt)).one()


async def cases_by_status(commune_id: int, start: dt.datetime, end: dt.datetime, *,
                          session: AsyncSession) -> dict[str, int]:
    stmt = (select(Case.status, func.count()).where(
        Case.commune_id == commune_id, Case.created_at >= start, Case.created_at < end)
        .group_by(Case.status))
    return dict((await session.exec(stmt)).all())
