"""A seeded data set for the report figures: two communes of one province, cases of every
kind, written through the models; and the expected figures computed from the seed list in
plain Python, independently of the queries under test."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import select

from domain.cases import CaseStatus, SpecialGroup
from domain.reports import AgeGroup, Category
from domain.roles import AgencyKind, UnitKind
from domain.workdays import is_working_day
from storage.models import Agency, Case, CaseEvent, CaseReferral, Report, Unit

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
CHANNELS = ["telegram", "telegram", "telegram", "phone", "school", "direct", "agency", "other"]
PERIOD_LO = dt.datetime(2026, 11, 15, tzinfo=HANOI).astimezone(dt.UTC)  # 6-month report 2027
PERIOD_HI = dt.datetime(2027, 5, 15, tzinfo=HANOI).astimezone(dt.UTC)
# 19/5/2027: the last day to hand in the 6-month report ("trước ngày 20/5")
NOW = dt.datetime(2027, 5, 19, 3, 0, tzinfo=dt.UTC)
SECRET_NAME = "Nguyễn Thị Bí Mật"
SECRET_STORY = "Em bị đánh ở nhà số 12, gọi 0912 345 678"


@dataclass
class SeedCase:
    commune_id: int
    village_id: int | None
    category: str
    age_group: str
    urgent: bool
    channel: str
    created_at: dt.datetime
    status: str
    risk: str | None
    assessed_at: dt.datetime | None
    due_at: dt.datetime | None
    special_groups: list[str]
    plan_events: list[dt.datetime] = field(default_factory=list)
    referrals: list[tuple[int, dt.datetime]] = field(default_factory=list)
    child_count: int = 1
    case_id: int = 0


@dataclass
class World:
    province_id: int
    communes: dict[int, str]
    villages: dict[int, list[int]]  # commune → village ids
    agencies: dict[int, list[int]]  # commune → agency ids
    cases: list[SeedCase]


async def add_second_commune(session, province_id: int, now: dt.datetime) -> int:
    commune = Unit(kind=UnitKind.COMMUNE, code="xuan-truong", name="Xã Xuân Trường",
                   parent_id=province_id, created_at=now)
    session.add(commune)
    await session.flush()
    for code, name in (("xt-1", "Thôn Xuân Bảng"), ("xt-2", "Thôn Trà Thượng")):
        session.add(Unit(kind=UnitKind.VILLAGE, code=code, name=name, parent_id=commune.id,
                         created_at=now))
    session.add(Agency(commune_id=commune.id, code="cong-an", kind=AgencyKind.POLICE,
                       name="Công an xã Xuân Trường"))
    await session.flush()
    return commune.id


def _random_cases(world: World, rng: random.Random) -> list[SeedCase]:
    cases = []
    span = int((dt.datetime(2027, 6, 5, tzinfo=dt.UTC)
                - dt.datetime(2026, 11, 1, tzinfo=dt.UTC)).total_seconds())
    times = [dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(span))
             for _ in range(110)]
    # The edges of the period: local midnight in, a microsecond before out, the last second
    # in, the end out.
    times += [PERIOD_LO, PERIOD_LO - dt.timedelta(microseconds=1),
              PERIOD_HI - dt.timedelta(seconds=1), PERIOD_HI]
    for i, created in enumerate(times):
        commune_id = list(world.communes)[0 if i % 3 else 1]
        villages = world.villages[commune_id]
        status = rng.choice(list(CaseStatus))
        urgent = rng.random() < 0.35
        risk = rng.choice([None, "high", "medium", "low"])
        assessed = None
        if risk is not None:
            delta = rng.choice([dt.timedelta(hours=2), dt.timedelta(hours=12),
                                dt.timedelta(hours=12, seconds=1), dt.timedelta(days=2),
                                dt.timedelta(minutes=30)])
            assessed = created + delta
        due = rng.choice([None, NOW - dt.timedelta(days=3), NOW + dt.timedelta(hours=5),
                          NOW - dt.timedelta(minutes=1)])
        groups = rng.sample([str(g) for g in SpecialGroup], k=rng.choice([0, 0, 1, 1, 2, 3]))
        plans = []
        if status in (CaseStatus.SUPPORTING, CaseStatus.REVIEWING, CaseStatus.CLOSED) and \
                rng.random() < 0.8:
            first = created + dt.timedelta(hours=rng.randrange(1, 24 * 15))
            plans = [first, first + dt.timedelta(days=rng.randrange(1, 20))]  # back to it later
        referrals = []
        for agency_id in rng.sample(world.agencies[commune_id],
                                    k=min(len(world.agencies[commune_id]),
                                          rng.choice([0, 0, 1, 2]))):
            referrals.append((agency_id, created + dt.timedelta(days=rng.randrange(0, 12))))
        cases.append(SeedCase(
            commune_id=commune_id,
            village_id=rng.choice([*villages, None]),
            category=rng.choice(list(Category)).value,
            age_group=rng.choice(list(AgeGroup)).value,
            urgent=urgent, channel=rng.choice(CHANNELS), created_at=created, status=status,
            risk=risk, assessed_at=assessed, due_at=due, special_groups=groups,
            plan_events=plans, referrals=referrals, child_count=rng.choice([1, 1, 2, 3])))
    return cases


async def seed(db, province_id: int, commune_id: int, *, seed_value: int = 2027) -> World:
    """Adds a second commune under the province and ~110 cases across both."""
    async with db.session() as session:
        second = await add_second_commune(session, province_id, NOW)
        communes = {commune_id: "Xã Minh Tân", second: "Xã Xuân Trường"}
        villages, agencies = {}, {}
        for cid in communes:
            villages[cid] = list((await session.exec(select(Unit.id).where(
                Unit.parent_id == cid, Unit.kind == UnitKind.VILLAGE).order_by(Unit.id))).all())
            agencies[cid] = list((await session.exec(select(Agency.id).where(
                Agency.commune_id == cid).order_by(Agency.id))).all())[:4]
    world = World(province_id, communes, villages, agencies, [])
    world.cases = _random_cases(world, random.Random(seed_value))
    async with db.session() as session:
        for i, case in enumerate(world.cases):
            report = Report(code=f"S{i:07d}", commune_id=case.commune_id,
                            village_id=case.village_id, category=case.category,
                            urgent=case.urgent, age_group=case.age_group,
                            child_count=case.child_count, child_name=SECRET_NAME,
                            story=SECRET_STORY, address="Nhà số 12", latitude=20.1,
                            longitude=105.9, channel=case.channel, created_at=case.created_at)
            session.add(report)
            await session.flush()
            row = Case(report_id=report.id, commune_id=case.commune_id, status=case.status,
                       urgent=case.urgent, created_at=case.created_at,
                       updated_at=case.created_at, risk=case.risk,
                       assessed_at=case.assessed_at, due_at=case.due_at,
                       special_groups=case.special_groups)
            session.add(row)
            await session.flush()
            case.case_id = row.id
            session.add(CaseEvent(case_id=row.id, at=case.created_at, kind="opened",
                                  to_status="received"))
            for at in case.plan_events:
                session.add(CaseEvent(case_id=row.id, at=at, kind="status",
                                      from_status="planning", to_status="supporting"))
            for agency_id, at in case.referrals:
                session.add(CaseReferral(case_id=row.id, agency_id=agency_id, referred_at=at,
                                         referred_by=1, active=True))
    return world


# --- the expected figures, from the seed list alone -------------------------------------------


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(HANOI).date()


def _working_days(received: dt.datetime, done: dt.datetime) -> int:
    day, last, count = _local_day(received), _local_day(done), 0
    while day < last:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def expected(world: World, commune_id: int | None, lo: dt.datetime = PERIOD_LO,
             hi: dt.datetime = PERIOD_HI, now: dt.datetime = NOW) -> dict:
    """Every figure for one commune (None: both) over [lo, hi)."""
    mine = [c for c in world.cases if commune_id in (None, c.commune_id)]
    inside = [c for c in mine if lo <= c.created_at < hi]
    urgent = [c for c in inside if c.urgent]
    plan_days = [_working_days(c.created_at, min(c.plan_events))
                 for c in inside if c.plan_events]
    referrals = Counter(a for c in mine for a, at in c.referrals if lo <= at < hi)
    months = Counter(c.created_at.astimezone(HANOI).strftime("%Y-%m") for c in inside)
    return {
        "reports": len(inside),
        "by_category": dict(Counter(c.category for c in inside)),
        "by_village": dict(Counter(c.village_id or 0 for c in inside)),
        "by_age": dict(Counter(c.age_group for c in inside)),
        "by_urgency": dict(Counter(c.urgent for c in inside)),
        "by_channel": dict(Counter(c.channel for c in inside)),
        "by_month": dict(months),
        "cases_by_status": dict(Counter(str(c.status) for c in inside)),
        "cases_by_risk": dict(Counter(c.risk or "none" for c in inside)),
        "overdue": sum(1 for c in inside if c.status != "closed" and c.due_at is not None
                       and c.due_at < now),
        "urgent": len(urgent),
        "urgent_in_time": sum(1 for c in urgent if c.assessed_at is not None
                              and c.assessed_at - c.created_at <= dt.timedelta(hours=12)),
        "median_plan_days": statistics.median(plan_days) if plan_days else None,
        "plans": len(plan_days),
        "plans_in_time": sum(1 for d in plan_days if d <= 5),
        "referrals": dict(referrals),
        "special_groups": {**Counter(g for c in inside for g in c.special_groups),
                           None: sum(1 for c in inside if c.special_groups)},
    }
