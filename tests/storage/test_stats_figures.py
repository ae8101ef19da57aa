"""Every report figure, counted by the database, against the same figure computed from the
seed list in plain Python (both backends)."""

from __future__ import annotations

import pytest

from domain.errors import NotAllowed
from domain.periods import PeriodKind, report_period
from domain.roles import Actor, Role, UnitScope
from services import stats
from storage.models import Unit
from tests.stats_seed import HANOI, NOW, expected, seed


def _nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def _figures_dict(f: stats.CommuneFigures) -> dict:
    return {
        "reports": f.reports, "by_category": f.by_category, "by_village": f.by_village,
        "by_age": f.by_age, "by_urgency": f.by_urgency, "by_channel": f.by_channel,
        "by_month": f.by_month, "cases_by_status": f.cases_by_status,
        "cases_by_risk": f.cases_by_risk, "overdue": f.overdue, "urgent": f.urgent,
        "urgent_in_time": f.urgent_in_time, "median_plan_days": f.median_plan_days,
        "plans": f.plans, "plans_in_time": f.plans_in_time, "referrals": f.referrals,
        "special_groups": f.special_groups,
    }


def _same(got: dict, want: dict) -> None:
    for key, value in want.items():
        if isinstance(value, dict):
            assert _nonzero(got[key]) == _nonzero(value), key
        else:
            assert got[key] == value, key


@pytest.fixture
async def world(db, commune):
    async with db.session() as session:
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
    return await seed(db, province_id, commune.commune_id)


async def test_commune_figures_match_the_seed(db, world):
    commune_id = next(iter(world.communes))
    officer = Actor(user_id=5, role=Role.OFFICER, scope=UnitScope((world.province_id, commune_id)))
    period = report_period(PeriodKind.SIX_MONTH, 2027)
    async with db.session() as session:
        scope = await stats.scope_for(officer, session=session)
        figures = await stats.figures(scope, period, session=session, tz=HANOI, now=NOW)
    assert not scope.province_level and scope.commune_ids == (commune_id,)
    (mine,) = figures.communes
    want = expected(world, commune_id)
    assert want["reports"] > 40 and want["urgent"] > 5 and want["plans"] > 3
    assert want["referrals"] and want["overdue"] and want["special_groups"][None]
    _same(_figures_dict(mine), want)
    assert set(figures.village_names) == {v for v in want["by_village"] if v}


async def test_province_sees_both_communes_side_by_side(db, world):
    admin = Actor(user_id=6, role=Role.ADMIN, scope=UnitScope((world.province_id,)))
    period = report_period(PeriodKind.SIX_MONTH, 2027)
    async with db.session() as session:
        scope = await stats.scope_for(admin, session=session)
        figures = await stats.figures(scope, period, session=session, tz=HANOI, now=NOW)
    assert scope.province_level and set(scope.commune_ids) == set(world.communes)
    assert [f.name for f in figures.communes] == sorted(world.communes.values())
    for f in figures.communes:
        _same(_figures_dict(f), expected(world, f.commune_id))
    _same(_figures_dict(figures.total), expected(world, None))
    rows = [r async for page in stats.case_rows(db, scope, period, tz=HANOI) for r in page]
    assert rows == []  # aggregates only


async def test_annual_period_and_the_case_pages(db, world):
    commune_id = next(iter(world.communes))
    officer = Actor(user_id=5, role=Role.OFFICER, scope=UnitScope((world.province_id, commune_id)))
    period = report_period(PeriodKind.ANNUAL, 2027)
    lo, hi = period.bounds(HANOI)
    async with db.session() as session:
        scope = await stats.scope_for(officer, session=session)
        figures = await stats.figures(scope, period, session=session, tz=HANOI, now=NOW)
    _same(_figures_dict(figures.communes[0]), expected(world, commune_id, lo, hi))
    rows = [r async for page in stats.case_rows(db, scope, period, tz=HANOI, page=7)
            for r in page]
    seeded = {c.case_id: c for c in world.cases
              if c.commune_id == commune_id and lo <= c.created_at < hi}
    assert [r.case_id for r in rows] == sorted(seeded)
    for row in rows:
        case = seeded[row.case_id]
        assert row.planned_at == (min(case.plan_events) if case.plan_events else None)
        assert row.agency_ids == tuple(a for a, _at in sorted(case.referrals, key=lambda x: x[1]))
        assert row.special_groups == tuple(case.special_groups)


async def test_citizens_and_agency_members_and_other_communes_are_refused(db, world):
    first, second = list(world.communes)
    async with db.session() as session:
        for actor in (Actor(user_id=1),
                      Actor(user_id=2, role=Role.AGENCY_MEMBER,
                            scope=UnitScope((world.province_id, first)))):
            with pytest.raises(NotAllowed):
                await stats.scope_for(actor, session=session)
        officer = Actor(user_id=5, role=Role.OFFICER, scope=UnitScope((world.province_id, first)))
        with pytest.raises(NotAllowed):
            await stats.scope_for(officer, second, session=session)
        with pytest.raises(NotAllowed):
            await stats.scope_for(officer, world.province_id, session=session)
