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
