"""Figures for the 6-month and annual reports, for one commune or a province's communes side
by side. Counting is done by the database (storage/stats.py); this module decides whose
figures an actor may see, puts the answers together and pages through the case list for
the export. No Telegram here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calendar import DateRule
from domain.errors import NotAllowed, NotFound
from domain.names import sort_key
from domain.periods import REPORT_KINDS, Period, PeriodKind, default_deadline
from domain.roles import Action, Actor, UnitKind, UnitScope, ensure
from domain.stats import PLAN_WORKING_DAYS, median, share, working_days_between
from storage import audit, units
from storage import calendar as calendar_store
from storage import stats as store
from storage.db import Database

ALL_COMMUNES = 0  # the scope of an install-wide administrator: every commune


@dataclass(frozen=True)
class Scope:
    """Whose figures: one commune, or a province's communes (aggregates only)."""

    unit_id: int  # the commune, the province, or ALL_COMMUNES
    name: str | None  # None for every commune of the installation
    code: str  # for file names
    commune_ids: tuple[int, ...]
    province_level: bool

    @property
    def aggregates_only(self) -> bool:
        return self.province_level


@dataclass
class CommuneFigures:
    commune_id: int
    name: str
    by_category: dict[str, int] = field(default_factory=dict)
    by_village: dict[int, int] = field(default_factory=dict)  # village id (0: none) → reports
    by_age: dict[str, int] = field(default_factory=dict)
    by_urgency: dict[bool, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)  # '2027-01' → reports
    cases_by_status: dict[str, int] = field(default_factory=dict)
    cases_by_risk: dict[str, int] = field(default_factory=dict)  # 'none': not assessed
    # The national indicator "Số trẻ em bị xâm hại" (Thông tư 13/2021/TT-BLĐTBXH) breaks
    # children down by sex, age group and place: cases, 'none' where not recorded.
    cases_by_sex: dict[str, int] = field(default_factory=dict)
    cases_by_age: dict[str, int] = field(default_factory=dict)
    cases_by_place: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    urgent: int = 0
    urgent_in_time: int = 0
    plan_days: Counter = field(default_factory=Counter)  # working days → cases
    referrals: dict[int, int] = field(default_factory=dict)  # agency id → referrals
    special_groups: dict[str | None, int] = field(default_factory=dict)  # None: any group

    @property
    def reports(self) -> int:
        return sum(self.by_category.values())

    @property
    def cases(self) -> int:
        return sum(self.cases_by_status.values())

    @property
    def closed(self) -> int:
        return self.cases_by_status.get("closed", 0)

    @property
    def open(self) -> int:
        return self.cases - self.closed

    @property
    def urgent_in_time_share(self) -> float | None:
        return share(self.urgent_in_time, self.urgent)

    @property
    def median_plan_days(self) -> float | None:
        return median(self.plan_days)

    @property
    def plans(self) -> int:
        return sum(self.plan_days.values())

    @property
    def plans_in_time(self) -> int:
        return sum(n for days, n in self.plan_days.items() if days <= PLAN_WORKING_DAYS)

    @property
    def referral_count(self) -> int:
        return sum(self.referrals.values())


def _add(into: dict, other: dict) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + value


def combined(parts: list[CommuneFigures], name: str) -> CommuneFigures:
    """The figures of several communes added up (medians over all their cases)."""
    total = CommuneFigures(commune_id=ALL_COMMUNES, name=name)
    for part in parts:
        for attr in ("by_category", "by_village", "by_age", "by_urgency", "by_channel",
                     "by_month", "cases_by_status", "cases_by_risk", "cases_by_sex",
                     "cases_by_age", "cases_by_place", "referrals",
                     "special_groups"):
            _add(getattr(total, attr), getattr(part, attr))
        total.plan_days.update(part.plan_days)
        total.overdue += part.overdue
        total.urgent += part.urgent
        total.urgent_in_time += part.urgent_in_time
    return total


@dataclass
class Figures:
    scope: Scope
    period: Period
    generated_at: dt.datetime
    communes: list[CommuneFigures]
    village_names: dict[int, str]
    agency_names: dict[int, str]
    village_commune: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> CommuneFigures:
        if len(self.communes) == 1:
            return self.communes[0]
        return combined(self.communes, self.scope.name or "")


# --- whose figures ------------------------------------------------------------------------------


async def scope_for(actor: Actor, unit_id: int | None = None, *,
                    session: AsyncSession) -> Scope:
    """The figures `actor` may see: their own unit's by default, or `unit_id`'s (a button's).
    NotAllowed for citizens, agency members and units outside the actor's own."""
    if unit_id is None:
        unit_id = actor.unit_id if actor.scope is not None else ALL_COMMUNES
    if unit_id == ALL_COMMUNES:
        ensure(actor, Action.VIEW_STATS, UnitScope(()) if not actor.is_superadmin else None)
        communes = await units.list_communes(session=session)
        if len(communes) == 1:
            unit_id = communes[0].id
        else:
            return Scope(ALL_COMMUNES, None, "all", tuple(c.id for c in communes), True)
    unit = await units.get_unit(unit_id, session=session)
    if unit is None:
        raise NotFound("unit")
    ensure(actor, Action.VIEW_STATS, await units.get_unit_scope(unit_id, session=session))
    if unit.kind is UnitKind.COMMUNE:
        return Scope(unit.id, unit.name, unit.code, (unit.id,), False)
    if unit.kind is UnitKind.PROVINCE:
        communes = await units.list_communes(session=session, within=unit.id)
        return Scope(unit.id, unit.name, unit.code, tuple(c.id for c in communes), True)
    raise NotAllowed(Action.VIEW_STATS, "village")


async def deadlines_of(scope: Scope, *, session: AsyncSession):  # noqa: ANN201
    """The report deadlines a commune has (its own or its province's), or a province's own
    deadlines up (its set-up file's report_6m_by / report_year_by); the defaults otherwise."""
    rules: dict[PeriodKind, DateRule] = {}
    if scope.province_level and scope.unit_id != ALL_COMMUNES:
        province = await units.get_unit(scope.unit_id, session=session)
        stored = (province.province_calendar or {}) if province is not None else {}
        includes_day = bool(stored.get("before_includes_day"))
        for kind, text in (stored.get("deadlines") or {}).items():
            rules[PeriodKind(kind)] = DateRule.parse(text, before_includes_day=includes_day)
    elif not scope.province_level:
        for event in await calendar_store.list_events(scope.unit_id, session=session):
            if event.report_period in {str(k) for k in REPORT_KINDS}:
                rules[PeriodKind(event.report_period)] = DateRule.parse(
                    event.date_rule, before_includes_day=event.before_includes_day)

    def deadline_of(kind: PeriodKind, year: int) -> dt.date:
        rule = rules.get(kind)
        return rule.occurrence(year)[0] if rule else default_deadline(kind, year)

    return deadline_of


async def record_use(actor: Actor, scope: Scope, period: Period, what: str, *,
                     session: AsyncSession, now: dt.datetime) -> None:
    """An audit row for figures viewed or exported (ids and dates only)."""
    kind, start, end = period.key()
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action=f"stats_{what}", object_type="unit", object_id=scope.unit_id,
                       unit_id=scope.unit_id or None, period=kind, start=start, end=end)


# --- the figures ----------------------------------------------------------------------------------


async def figures(scope: Scope, period: Period, *, session: AsyncSession, tz: dt.tzinfo,
                  now: dt.datetime) -> Figures:
    """Every figure of the period for the scope's communes, counted by the database."""
    ids = list(scope.commune_ids)
    lo, hi = period.bounds(tz)
    names = await store.unit_names(ids, session=session)
    per = {cid: CommuneFigures(cid, names.get(cid, "")) for cid in ids}
    for dimension, attr in (("category", "by_category"), ("village", "by_village"),
                            ("age", "by_age"), ("urgent", "by_urgency"),
                            ("channel", "by_channel")):
        for cid, counts in (await store.reports_by(dimension, ids, lo, hi,
                                                   session=session)).items():
            setattr(per[cid], attr, counts)
    for cid, counts in (await store.reports_by_month(ids, lo, hi, session=session,
                                                     tz=tz)).items():
        per[cid].by_month = counts
    for dimension, attr in (("status", "cases_by_status"), ("risk", "cases_by_risk"),
                            ("sex", "cases_by_sex"), ("age", "cases_by_age"),
                            ("place", "cases_by_place")):
        for cid, counts in (await store.cases_by(dimension, ids, lo, hi,
                                                 session=session)).items():
            setattr(per[cid], attr, counts)
    for cid, count in (await store.overdue_cases(ids, lo, hi, now, session=session)).items():
        per[cid].overdue = count
    for cid, (urgent, in_time) in (await store.urgent_assessment(ids, lo, hi,
                                                                 session=session)).items():
        per[cid].urgent, per[cid].urgent_in_time = urgent, in_time
    for cid, received, planned, count in await store.plan_day_pairs(ids, lo, hi,
                                                                    session=session, tz=tz):
        per[cid].plan_days[working_days_between(received, planned)] += count
    for cid, counts in (await store.referrals_by_agency(ids, lo, hi, session=session)).items():
        per[cid].referrals = counts
    for cid, counts in (await store.special_groups(ids, lo, hi, session=session)).items():
        per[cid].special_groups = counts
    village_ids = {v for f in per.values() for v in f.by_village if v}
    agency_ids = {a for f in per.values() for a in f.referrals}
    village_commune = {v: f.commune_id for f in per.values() for v in f.by_village if v}
    ordered = sorted(per.values(), key=lambda f: (sort_key(f.name), f.commune_id))
    return Figures(scope=scope, period=period, generated_at=now, communes=ordered,
                   village_names=await store.unit_names(sorted(village_ids), session=session),
                   agency_names=await store.agency_names(sorted(agency_ids), session=session),
                   village_commune=village_commune)


async def agency_names_of(scope: Scope, *, session: AsyncSession) -> dict[int, str]:
    return await store.agencies_of(list(scope.commune_ids), session=session)


async def village_names_of(scope: Scope, *, session: AsyncSession) -> dict[int, str]:
    return await store.villages_of(list(scope.commune_ids), session=session)


# --- the case list of the export --------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """One case as the export lists it: no name, story, address, location or reporter."""

    case_id: int
    commune_id: int
    received_at: dt.datetime
    category: str
    village_id: int | None
    age_group: str
    child_count: int
    urgent: bool
    channel: str
    status: str
    risk: str | None
    special_groups: tuple[str, ...]
    assessed_at: dt.datetime | None
    due_at: dt.datetime | None
    closed_at: dt.datetime | None
    planned_at: dt.datetime | None
    agency_ids: tuple[int, ...]
    child_sex: str | None = None  # recorded at the assessment (domain.cases.ChildSex)
    harm_place: str | None = None  # domain.cases.HarmPlace


PAGE = 2000


async def case_rows(db: Database, scope: Scope, period: Period, *, tz: dt.tzinfo,
                    page: int | None = None) -> AsyncIterator[list[CaseRow]]:
    """The period's cases, page by page: their ids first (one query), then each page by
    primary key in its own short transaction (so a long export never holds SQLite's lock
    while the file is written). Province level: nothing (aggregates only)."""
    if scope.aggregates_only:
        return
    lo, hi = period.bounds(tz)
    async with db.session() as session:
        ids = await store.list_case_ids(list(scope.commune_ids), lo, hi, session=session)
    size = page or PAGE
    for first in range(0, len(ids), size):
        async with db.session() as session:
            rows = await store.list_case_rows(ids[first:first + size], session=session)
        yield [CaseRow(*r[:11], tuple(r[11] or ()), *r[12:16], tuple(r[18]), r[16], r[17])
               for r in rows]
