"""Aggregating queries for report figures: counted by the database, never in memory.

Every query takes the communes to count (`commune_ids`) and the period as UTC bounds
[lo, hi), and answers per commune, so a province sees its communes side by side from the
same queries. A report belongs to the period it was received in (`reports.created_at`);
its case's figures (status, risk, special groups, time to the plan) follow it. Referrals
belong to the period they were made in.

The few expressions SQL dialects spell differently (local dates, time differences, JSON
arrays) are built by the helpers at the top, for SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from domain.stats import NO_RISK, NO_VILLAGE, URGENT_ASSESSMENT
from storage.models import Agency, Case, CaseEvent, CaseReferral, Report, Unit

PerCommune = dict[int, dict[Any, int]]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _local(column, fmt: str, tz: dt.tzinfo, at: dt.datetime, dialect: str):  # noqa: ANN001, ANN202
    """`column` (UTC) as local text: fmt is 'month' (YYYY-MM) or 'day' (YYYY-MM-DD).

    PostgreSQL converts with the zone's rules; SQLite with the zone's offset at `at`
    (Vietnam has had one offset, UTC+7, since 1975)."""
    if dialect == "postgresql" and getattr(tz, "key", None):
        pattern = {"month": "YYYY-MM", "day": "YYYY-MM-DD"}[fmt]
        return func.to_char(func.timezone(tz.key, column), pattern)
    offset = at.astimezone(tz).utcoffset() or dt.timedelta()
    pattern = {"month": "%Y-%m", "day": "%Y-%m-%d"}[fmt]
    if dialect == "postgresql":
        return func.to_char(column + sa.literal(offset), pattern.replace("%Y", "YYYY")
                            .replace("%m", "MM").replace("%d", "DD"))
    return func.strftime(pattern, column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _within(later, earlier, limit: dt.timedelta, dialect: str):  # noqa: ANN001, ANN202
    """later - earlier <= limit (1 ms of slack on SQLite, which counts in floating days)."""
    if dialect == "postgresql":
        return later - earlier <= sa.literal(limit)
    seconds = (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return seconds <= limit.total_seconds() + 0.001


def _json_elements(column, dialect: str):  # noqa: ANN001, ANN202
    """A table of the text elements of a JSON array column."""
    if dialect == "postgresql":
        return func.json_array_elements_text(sa.cast(column, sa.JSON)).table_valued("value")
    return func.json_each(column).table_valued("value")


def _received(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime) -> list:
    return [col(Report.commune_id).in_(commune_ids), Report.created_at >= lo,
            Report.created_at < hi]


def _per_commune(rows) -> PerCommune:  # noqa: ANN001
    result: PerCommune = defaultdict(dict)
    for commune_id, key, count in rows:
        result[commune_id][key] = result[commune_id].get(key, 0) + count
    return dict(result)


# --- reports ------------------------------------------------------------------------------

REPORT_DIMENSIONS = {
    "category": Report.category,
    "village": Report.village_id,
    "age": Report.age_group,
    "urgent": Report.urgent,
    "channel": Report.channel,
}


async def reports_by(dimension: str, commune_ids: Sequence[int], lo: dt.datetime,
                     hi: dt.datetime, *, session: AsyncSession) -> PerCommune:
    """Reports received, per commune and value of `dimension` (see REPORT_DIMENSIONS)."""
    column = REPORT_DIMENSIONS[dimension]
    stmt = (select(Report.commune_id, column, func.count()).where(*_received(commune_ids, lo, hi))
            .group_by(Report.commune_id, column))
    rows = (await session.exec(stmt)).all()
    if dimension == "village":
        rows = [(c, v or NO_VILLAGE, n) for c, v, n in rows]
    elif dimension == "urgent":
        rows = [(c, bool(v), n) for c, v, n in rows]
    return _per_commune(rows)


async def reports_by_month(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                           session: AsyncSession, tz: dt.tzinfo) -> PerCommune:
    """Reports received per commune and local month ('2027-01')."""
    month = _local(Report.created_at, "month", tz, lo, _dialect(session)).label("month")
    stmt = (select(Report.commune_id, month, func.count()).where(*_received(commune_ids, lo, hi))
            .group_by(Report.commune_id, month))
    return _per_commune((await session.exec(stmt)).all())


# --- cases --------------------------------------------------------------------------------


def _cases_received(columns: Sequence, commune_ids: Sequence[int], lo: dt.datetime,
                    hi: dt.datetime) -> sa.Select:
    """SELECT columns FROM cases JOIN reports: the cases of the reports received."""
    return (sa.select(*columns).select_from(Case).join(Report, col(Report.id) == Case.report_id)
            .where(*_received(commune_ids, lo, hi)))


async def cases_by(dimension: str, commune_ids: Sequence[int], lo: dt.datetime,
                   hi: dt.datetime, *, session: AsyncSession) -> PerCommune:
    """Cases of the reports received, per commune and current status, risk, the child's sex,
    the place of harm or the age group ('none': not recorded)."""
    column = {"status": Case.status, "risk": Case.risk, "sex": Case.child_sex,
              "place": Case.harm_place, "age": Report.age_group}[dimension]
    stmt = (_cases_received([Report.commune_id, column, func.count()], commune_ids, lo, hi)
            .group_by(Report.commune_id, column))
    rows = (await session.exec(stmt)).all()
    if dimension in ("risk", "sex", "place"):  # not assessed / not recorded yet
        rows = [(c, r or NO_RISK, n) for c, r, n in rows]
    return _per_commune(rows)


async def overdue_cases(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime,
                        now: dt.datetime, *, session: AsyncSession) -> dict[int, int]:
    """Open cases of the reports received whose current step is past its deadline now."""
    stmt = (_cases_received([Report.commune_id, func.count()], commune_ids, lo, hi)
            .where(Case.status != CaseStatus.CLOSED, col(Case.due_at).is_not(None),
                   Case.due_at < now)
            .group_by(Report.commune_id))
    return dict((await session.exec(stmt)).all())


async def urgent_assessment(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                            session: AsyncSession) -> dict[int, tuple[int, int]]:
    """(urgent reports received, of which assessed within 12 hours) per commune."""
    in_time = sa.and_(col(Case.assessed_at).is_not(None),
                      _within(Case.assessed_at, Report.created_at, URGENT_ASSESSMENT,
                              _dialect(session)))
    stmt = (_cases_received([Report.commune_id, func.count(),
                             func.sum(sa.case((in_time, 1), else_=0))], commune_ids, lo, hi)
            .where(col(Report.urgent).is_(True))
            .group_by(Report.commune_id))
    return {c: (n, int(k or 0)) for c, n, k in (await session.exec(stmt)).all()}


def _first_plan():  # noqa: ANN202
    """When each case first reached 'supporting' (its support plan adopted)."""
    return (select(CaseEvent.case_id, func.min(CaseEvent.at).label("at"))
            .where(CaseEvent.to_status == CaseStatus.SUPPORTING)
            .group_by(CaseEvent.case_id).subquery("first_plan"))


async def plan_day_pairs(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                         session: AsyncSession, tz: dt.tzinfo
                         ) -> list[tuple[int, dt.date, dt.date, int]]:
    """(commune, local day received, local day of the plan, how many cases) for the cases
    that have a support plan: grouped by the two days, so the rows are few."""
    dialect = _dialect(session)
    plan = _first_plan()
    received = _local(Report.created_at, "day", tz, lo, dialect).label("received")
    planned = _local(plan.c.at, "day", tz, lo, dialect).label("planned")
    stmt = (_cases_received([Report.commune_id, received, planned, func.count()],
                            commune_ids, lo, hi)
            .join(plan, plan.c.case_id == Case.id)
            .group_by(Report.commune_id, received, planned))
    return [(c, dt.date.fromisoformat(r), dt.date.fromisoformat(p), n)
            for c, r, p, n in (await session.exec(stmt)).all()]


async def special_groups(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                         session: AsyncSession) -> PerCommune:
    """Cases of the reports received with a child in each special-circumstances group;
    key None counts the cases with at least one group."""
    dialect = _dialect(session)
    elements = _json_elements(Case.special_groups, dialect)
    stmt = (_cases_received([Report.commune_id, elements.c.value, func.count()],
                            commune_ids, lo, hi)
            .join(elements, sa.true())
            .group_by(Report.commune_id, elements.c.value))
    result = _per_commune((await session.exec(stmt)).all())
    length = func.json_array_length(sa.cast(Case.special_groups, sa.JSON)
                                    if dialect == "postgresql" else Case.special_groups)
    any_stmt = (_cases_received([Report.commune_id, func.count()], commune_ids, lo, hi)
                .where(col(Case.special_groups).is_not(None), length > 0)
                .group_by(Report.commune_id))
    for commune_id, count in (await session.exec(any_stmt)).all():
        result.setdefault(commune_id, {})[None] = count
    return result


async def referrals_by_agency(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                              session: AsyncSession) -> PerCommune:
    """Referrals made in the period, per commune and agency id."""
    stmt = (select(Case.commune_id, CaseReferral.agency_id, func.count())
            .join(Case, col(Case.id) == CaseReferral.case_id)
            .where(col(Case.commune_id).in_(commune_ids), CaseReferral.referred_at >= lo,
                   CaseReferral.referred_at < hi)
            .group_by(Case.commune_id, CaseReferral.agency_id))
    return _per_commune((await session.exec(stmt)).all())


# --- names and the case list -------------------------------------------------------------------


async def unit_names(ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(Unit.id, Unit.name).where(col(Unit.id).in_(list(ids)))
    return dict((await session.exec(stmt)).all())


async def agency_names(ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(Agency.id, Agency.name).where(col(Agency.id).in_(list(ids)))
    return dict((await session.exec(stmt)).all())


CASE_ROW_FIELDS = ("case_id", "commune_id", "received_at", "category", "village_id",
                   "age_group", "child_count", "urgent", "channel", "status", "risk",
                   "special_groups", "assessed_at", "due_at", "closed_at", "planned_at",
                   "child_sex", "harm_place", "agency_ids")


async def list_case_ids(commune_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime, *,
                        session: AsyncSession) -> list[int]:
    """The ids of the cases of the reports received, in order (what the case list holds)."""
    stmt = _cases_received([Case.id], commune_ids, lo, hi).order_by(Case.id)
    return list((await session.exec(stmt)).scalars().all())


async def list_case_rows(case_ids: Sequence[int], *, session: AsyncSession) -> list[tuple]:
    """These cases (found by primary key), without personal data: no name, story, address,
    location or reporter; fields as CASE_ROW_FIELDS."""
    # Per case through the index on case_events.case_id: a page reads only its own rows.
    planned = (sa.select(func.min(CaseEvent.at))
               .where(CaseEvent.case_id == Case.id,
                      CaseEvent.to_status == CaseStatus.SUPPORTING)
               .correlate(Case).scalar_subquery())
    columns = [Case.id, Report.commune_id, Report.created_at, Report.category,
               Report.village_id, Report.age_group, Report.child_count, Report.urgent,
               Report.channel, Case.status, Case.risk, Case.special_groups, Case.assessed_at,
               Case.due_at, Case.closed_at, sa.type_coerce(planned, CaseEvent.__table__.c.at.type),
               Case.child_sex, Case.harm_place]
    stmt = (sa.select(*columns).select_from(Case).join(Report, col(Report.id) == Case.report_id)
            .where(col(Case.id).in_(list(case_ids))).order_by(Case.id))
    rows = (await session.exec(stmt)).all()
    if not rows:
        return []
    referred: dict[int, list[int]] = defaultdict(list)
    ref_stmt = (select(CaseReferral.case_id, CaseReferral.agency_id)
                .where(col(CaseReferral.case_id).in_([r[0] for r in rows]))
                .order_by(CaseReferral.referred_at, CaseReferral.id))
    for case_id, agency_id in (await session.exec(ref_stmt)).all():
        referred[case_id].append(agency_id)
    return [(*row, referred.get(row[0], [])) for row in rows]


async def agencies_of(commune_ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    stmt = select(Agency.id, Agency.name).where(col(Agency.commune_id).in_(commune_ids))
    return dict((await session.exec(stmt)).all())


async def villages_of(commune_ids: Sequence[int], *, session: AsyncSession) -> dict[int, str]:
    stmt = select(Unit.id, Unit.name).where(col(Unit.parent_id).in_(commune_ids))
    return dict((await session.exec(stmt)).all())
