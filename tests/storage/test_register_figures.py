"""The register's figures in /stats by sex, age band, village, added and left in the
period: counted by the database on a small seeded register (both backends)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.periods import Period, PeriodKind
from domain.roles import UnitKind
from handlers.stats import _register_breakdowns
from services import register as service
from storage.models import RegisterChild, Unit

TODAY = dt.date(2027, 7, 10)
HANOI = dt.timezone(dt.timedelta(hours=7))
PERIOD = Period(PeriodKind.SIX_MONTH, dt.date(2027, 1, 1), dt.date(2027, 6, 30), 2027)


def _child(commune_id, village_id, sex, birth_year, birth_date=None, *, created=None,
           left_on=None, reason=None) -> RegisterChild:
    created = created or dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    return RegisterChild(
        commune_id=commune_id, village_id=village_id, full_name="Tên", match_key="k", sex=sex,
        birth_year=birth_year, birth_date=birth_date, leaves_on=dt.date(birth_year + 16, 12, 31),
        groups=["orphan"], status="left" if left_on else "active", left_on=left_on,
        leave_reason=reason, created_at=created, updated_at=created)


async def _seed(db, commune_id):
    async with db.session() as session:
        villages = (await session.exec(sa.select(Unit.id).where(
            Unit.parent_id == commune_id, Unit.kind == UnitKind.VILLAGE)
            .order_by(Unit.id))).scalars().all()
        province_id = (await session.get(Unit, commune_id)).parent_id
        other = Unit(kind=UnitKind.COMMUNE, code="OTHER", name="Xã Khác", parent_id=province_id,
                     created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        session.add(other)
        await session.flush()
        a, b = villages[0], villages[1]
        in_period = dt.datetime(2027, 3, 5, tzinfo=dt.UTC)
        session.add_all([
            # ages on 10/7/2027: 5 (birthday tomorrow), 6 (birthday today), 10, 11, 15
            _child(commune_id, a, "male", 2021, dt.date(2021, 7, 11)),
            _child(commune_id, a, "female", 2021, dt.date(2021, 7, 10), created=in_period),
            _child(commune_id, b, "female", 2016, dt.date(2016, 12, 1)),
            _child(commune_id, b, "male", 2016, dt.date(2016, 7, 10)),
            _child(commune_id, None, "female", 2012),  # year only: 15 this year
            _child(commune_id, a, "male", 2022),  # year only: 5 this year
            # left: in the period (two reasons), before it (not counted), active elsewhere
            _child(commune_id, a, "male", 2011, left_on=dt.date(2027, 2, 1), reason="turned_16"),
            _child(commune_id, b, "female", 2015, created=in_period,
                   left_on=dt.date(2027, 6, 30), reason="moved_away"),
            _child(commune_id, b, "female", 2015, left_on=dt.date(2026, 12, 31),
                   reason="deceased"),
            _child(other.id, None, "male", 2020, created=in_period),
        ])
        return a, b, other.id


def _period():
    lo, hi = PERIOD.bounds(HANOI)
    return lo, hi, PERIOD.start, PERIOD.end


async def test_commune_breakdowns(db, commune):
    a, b, _other = await _seed(db, commune.commune_id)
    async with db.session() as session:
        f = await service.figures([commune.commune_id], session=session, today=TODAY,
                                  period=_period(), villages=True)
    assert f.total == 6
    assert f.by_sex == {"male": 3, "female": 3}
    assert f.by_age == {"0-5": 2, "6-10": 2, "11-15": 2}
    assert f.by_village == {a: 3, b: 2, None: 1}
    assert f.joined == 2
    assert f.left == {"turned_16": 1, "moved_away": 1}
    text = "\n".join(_register_breakdowns(f, {a: "Thôn <A>", b: "Thôn B"}))
    assert "Thôn &lt;A&gt;" in text and "<b>3</b>" in text


async def test_province_aggregates_without_villages(db, commune):
    await _seed(db, commune.commune_id)
    async with db.session() as session:
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
        communes = (await session.exec(sa.select(Unit.id).where(
            Unit.parent_id == province_id))).scalars().all()
        f = await service.figures(list(communes), session=session, today=TODAY,
                                  period=_period(), villages=True)
    assert f.total == 7
    assert f.by_sex == {"male": 4, "female": 3}
    assert f.by_age == {"0-5": 2, "6-10": 3, "11-15": 2}
    assert f.by_village == {}  # aggregates only: no village list for a province
    async with db.session() as session:
        one = await service.figures([commune.commune_id], session=session, today=TODAY)
    assert one.by_village == {}  # a province of one commune: still not by village
    assert f.joined == 3
    assert sum(f.left.values()) == 2


async def test_without_today_or_period_the_old_figures(db, commune):
    await _seed(db, commune.commune_id)
    async with db.session() as session:
        f = await service.figures([commune.commune_id], session=session)
    assert f.total == 6 and f.by_sex == {} and f.joined is None and f.left == {}
