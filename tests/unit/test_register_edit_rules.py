"""What a correction or a re-imported row changes on a record (no database): a year alone
never replaces a known day, an empty cell clears nothing, the same values change nothing;
row numbers shown as runs; the on-time share of reviews."""

from __future__ import annotations

import datetime as dt

from domain.register import Birth, Sex
from domain.register_import import ImportRow
from handlers.register_files import row_ranges
from services.register import IdentityEdit, RegisterFigures, _identity_changes
from services.register_import import row_changes
from storage.models import RegisterChild


def child(**fields) -> RegisterChild:
    base = {"id": 7, "commune_id": 1, "village_id": 10, "full_name": "Nguyễn Văn An",
            "match_key": "k", "sex": "male", "birth_year": 2015,
            "birth_date": dt.date(2015, 4, 3), "leaves_on": dt.date(2031, 4, 3),
            "caregiver": "Trần Thị Bình", "caregiver_relation": "grandparents",
            "groups": ["disability"], "at_risk": False}
    return RegisterChild(**{**base, **fields})


def row(**fields) -> ImportRow:
    base = {"number": 3, "full_name": "Nguyen Van An", "birth": Birth(2015, dt.date(2015, 4, 3)),
            "sex": Sex.MALE, "village": "Đông", "groups": ["disability"], "at_risk": False,
            "risk_note": None, "caregiver": None, "supports": []}
    return ImportRow(**{**base, **fields})


def test_the_same_row_changes_nothing_and_never_the_name():
    assert row_changes(child(), {}, row(), 10) == []


def test_a_year_alone_does_not_replace_a_known_day_but_fills_an_unknown_one():
    assert row_changes(child(), {}, row(birth=Birth(2015)), 10) == []
    assert row_changes(child(birth_date=None), {}, row(), 10) == ["birth"]


def test_an_empty_caregiver_cell_clears_nothing_a_new_one_changes_it():
    assert row_changes(child(), {}, row(caregiver=None), 10) == []
    assert row_changes(child(), {}, row(caregiver="Ông nội"), 10) == ["caregiver"]


def test_village_groups_risk_and_support_statuses_are_named():
    changed = row_changes(child(), {"bhyt": "missing", "birth": "has"},
                          row(village="Đoài", groups=["orphan"], at_risk=True,
                              risk_note="bỏ học", supports=[("bhyt", "has"), ("birth", "has")]),
                          11)
    assert changed == ["village", "groups", "risk", "bhyt"]


def test_a_correction_clearing_the_caregiver_clears_the_relation_too():
    changes = _identity_changes(child(), IdentityEdit(caregiver=""))
    assert changes == {"caregiver": None, "relation": None}
    assert _identity_changes(child(), IdentityEdit(sex=Sex.MALE, full_name=" Nguyễn  Văn An")) \
        == {}


def test_row_numbers_are_shown_as_runs():
    assert row_ranges([5, 2, 3, 4, 9, 12, 13]) == "2–5, 9, 12–13"
    assert row_ranges(list(range(2, 200, 2)), limit=3) == "2, 4, 6, …"


def test_the_on_time_share_of_reviews():
    figures = RegisterFigures(3, {}, 0, {}, {}, reviews_on_time=1, reviews_late=1,
                              reviews_overdue=1)
    assert figures.reviews_due == 3 and round(figures.on_time_share(), 3) == 0.333
    assert RegisterFigures(0, {}, 0, {}, {}).on_time_share() is None
