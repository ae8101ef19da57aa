"""Figures for the 6-month and annual reports (the statistics feature adds charts and XLSX)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.roles import Action, Actor, ensure
from storage import stats, units


@dataclass(frozen=True)
class PeriodFigures:
    commune_name: str
    start: dt.date
    end: dt.date  # inclusive
    reports_by_category: dict[str, int]
    urgent: int
    cases_by_status: dict[str, int]

    @property
    def reports(self) -> int:
        return sum(self.reports_by_category.values())


def report_period(period: str, year: int, deadline: dt.date) -> tuple[dt.date, dt.date]:
    """The days a report covers: from 1 January to its deadline (the 6-month report due
    20/5 and the annual one due 15/11 both count the year so far)."""
    if period not in ("6m", "year"):
        raise ValueError(period)
    return dt.date(year, 1, 1), deadline


async def figures(actor: Actor, commune_id: int, start: dt.date, end: dt.date, *,
                  session: AsyncSession, tz: dt.tzinfo) -> PeriodFigures:
    ensure(actor, Action.VIEW_STATS, await units.get_unit_scope(commune_id, session=session))
    lo = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    commune = await units.get_unit(commune_id, session=session)
    return PeriodFigures(
        commune_name=commune.name, start=start, end=end,
        reports_by_category=await stats.reports_by_category(commune_id, lo, hi, session=session),
        urgent=await stats.urgent_reports(commune_id, lo, hi, session=session),
        cases_by_status=await stats.cases_by_status(commune_id, lo, hi, session=session))
