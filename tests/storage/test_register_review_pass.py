"""The morning review pass reaches every village with children due, however many children are
due in the province (it once read the first 5,000 due children only: villages after them never
got a list), and each village once a day (both backends)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.roles import Role, UnitKind
from services import register as service
from storage.models import Member, RegisterChild, Unit

TODAY = dt.date(2027, 7, 12)
NOW = dt.datetime(2027, 7, 12, 1, 0, tzinfo=dt.UTC)
MANY = 5_003  # more than the old single query returned


def _row(number: int, commune_id: int, village_id: int) -> dict:
    return {"commune_id": commune_id, "village_id": village_id, "full_name": "Tên",
            "match_key": f"k{number}", "sex": "female", "birth_year": 2015, "birth_date": None,
            "leaves_on": dt.date(2031, 12, 31), "caregiver": None, "caregiver_relation": None,
            "at_risk": False, "groups": ["orphan"], "risk_note": None, "notes": None,
            "status": "active", "leave_reason": None, "left_on": None, "leave_note": None,
            "source_case_id": None, "reviewed_on": TODAY - dt.timedelta(days=95),
            "review_due_on": TODAY - dt.timedelta(days=3), "created_at": NOW,
            "created_by": 1, "updated_at": NOW, "revision": 0}


async def test_every_village_with_children_due_gets_its_list_once(db, commune):
    async with db.session() as session:
        villages = (await session.exec(sa.select(Unit.id).where(
            Unit.parent_id == commune.commune_id, Unit.kind == UnitKind.VILLAGE)
            .order_by(Unit.id))).scalars().all()
        first, last = villages[0], villages[-1]
        for n, village_id in enumerate((first, last)):
            session.add(Member(telegram_user_id=9_000 + n, display_name=f"CTV {n}",
                               role=Role.COLLABORATOR, unit_id=village_id, joined_at=NOW))
        rows = [_row(i, commune.commune_id, first) for i in range(MANY)]
        rows += [_row(MANY + i, commune.commune_id, last) for i in range(3)]
        await session.execute(sa.insert(RegisterChild.__table__), rows)
    async with db.session() as session:
        lists = await service.claim_review_lists(session=session, today=TODAY, now=NOW)
    assert {x.village.id: len(x.children) for x in lists} == {first: MANY, last: 3}
    assert [x.recipients for x in lists] == [[9_000], [9_001]]
    async with db.session() as session:  # the same day again (a second instance): nothing
        assert await service.claim_review_lists(session=session, today=TODAY, now=NOW) == []


async def test_a_village_reviewed_between_the_two_reads_is_skipped(db, commune, monkeypatch):
    """The children due in a village can all be reviewed (by an officer, on another instance)
    after the pass listed the village and before it read the children: no list, no error."""
    async with db.session() as session:
        village = (await session.exec(sa.select(Unit.id).where(
            Unit.parent_id == commune.commune_id, Unit.kind == UnitKind.VILLAGE)
            .order_by(Unit.id))).scalars().first()
        session.add(Member(telegram_user_id=9_100, display_name="CTV", role=Role.COLLABORATOR,
                           unit_id=village, joined_at=NOW))
        await session.execute(sa.insert(RegisterChild.__table__),
                              [_row(i, commune.commune_id, village) for i in range(2)])
    listed = service.store.villages_with_due_reviews

    async def listed_then_reviewed(today, *, session):
        villages = await listed(today, session=session)
        await session.execute(sa.update(RegisterChild).values(
            reviewed_on=TODAY, review_due_on=TODAY + dt.timedelta(days=90)))
        return villages

    monkeypatch.setattr(service.store, "villages_with_due_reviews", listed_then_reviewed)
    async with db.session() as session:
        assert await service.claim_review_lists(session=session, today=TODAY, now=NOW) == []
