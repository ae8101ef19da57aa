"""The register's rules: dates of birth as villages write them, turning 16, leaving
reasons, support status taps, and duplicate matching without tones."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import InvalidInput
from domain.register import (
    Birth,
    ChildStatus,
    LeaveReason,
    SupportStatus,
    add_months,
    age_on,
    clean_groups,
    clean_name,
    has_turned_16,
    leave,
    next_support_status,
    normalise_name,
    parse_birth,
    register_match_key,
    review_due,
    sixteenth_birthday,
)
from domain.workdays import is_working_day

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(("text", "expected"), [
    ("3/4/2015", Birth(2015, dt.date(2015, 4, 3))),
    ("03-04-2015", Birth(2015, dt.date(2015, 4, 3))),
    ("3.4.2015", Birth(2015, dt.date(2015, 4, 3))),
    (" 3 / 4 / 2015 ", Birth(2015, dt.date(2015, 4, 3))),
    ("2015", Birth(2015)),
    ("năm 2015", Birth(2015)),
    ("29/2/2016", Birth(2016, dt.date(2016, 2, 29))),
    ("3/12/2026", Birth(2026, dt.date(2026, 12, 3))),  # born today
])
def test_dates_of_birth_as_villages_write_them(text, expected):
    assert parse_birth(text, today=TODAY) == expected


@pytest.mark.parametrize(("text", "code"), [
    ("ba tháng tư", "birth_unreadable"),
    ("3/4", "birth_unreadable"),  # "3/4/15" reads as 2015: tests/e2e/test_register_misuse.py
    ("", "birth_unreadable"),
    ("2015-04-03", "birth_unreadable"),  # year first is not how villages write it
    ("31/2/2015", "birth_impossible"),
    ("13/13/2015", "birth_impossible"),
    ("4/12/2026", "birth_future"),
    ("2027", "birth_future"),
    ("3/12/2010", "birth_too_old"),  # 16 today
    ("2009", "birth_too_old"),
])
def test_dates_that_cannot_be_used(text, code):
    with pytest.raises(InvalidInput) as problem:
        parse_birth(text, today=TODAY)
    assert problem.value.code == code


def test_a_child_born_17_years_ago_by_the_year_is_still_a_child_until_the_year_ends():
    # Born "2010" (day unknown): 16 during 2026 for certain only on 31 December.
    assert parse_birth("2010", today=TODAY) == Birth(2010)
    assert sixteenth_birthday(Birth(2010)) == dt.date(2026, 12, 31)


def test_turning_16():
    birth = Birth(2010, dt.date(2010, 12, 4))
    assert sixteenth_birthday(birth) == dt.date(2026, 12, 4)
    assert not has_turned_16(birth, dt.date(2026, 12, 3))
    assert has_turned_16(birth, dt.date(2026, 12, 4))
    assert age_on(birth, dt.date(2026, 12, 3)) == 15
    assert age_on(birth, dt.date(2026, 12, 4)) == 16
    leap = Birth(2012, dt.date(2012, 2, 29))
    assert sixteenth_birthday(leap) == dt.date(2028, 2, 29)  # a leap year again
    leap_common = Birth(2008, dt.date(2008, 2, 29))
    assert sixteenth_birthday(leap_common) == dt.date(2024, 2, 29)
    assert sixteenth_birthday(Birth(2009, dt.date(2009, 2, 28))) == dt.date(2025, 2, 28)
    assert age_on(Birth(2015), dt.date(2026, 1, 1)) == 11


def test_a_29_february_birthday_in_a_common_year_is_1_march():
    assert sixteenth_birthday(Birth(2004, dt.date(2004, 2, 29))) == dt.date(2020, 2, 29)
    assert sixteenth_birthday(Birth(2012, dt.date(2012, 2, 29))) == dt.date(2028, 2, 29)
    # 16 years after a leap year is a leap year, except across a century: 2100 is common.
    assert sixteenth_birthday(Birth(2084, dt.date(2084, 2, 29))) == dt.date(2100, 3, 1)


@pytest.mark.parametrize(("a", "b"), [
    ("Nguyễn Văn Đức", "nguyen van duc"),
    ("NGUYỄN  VĂN ĐỨC", "Nguyen Van Duc"),
    ("Nguyễn Văn Đức ", "Nguyễn-Văn Đức"),
    ("Lê Thị Hoà", "Lê Thị Hòa"),  # old and new tone placement
])
def test_names_match_without_tones_case_or_spacing(a, b):
    assert normalise_name(a) == normalise_name(b)
    assert register_match_key(a, 2015, 7) == register_match_key(b, 2015, 7)


def test_the_match_key_needs_the_same_year_and_commune_and_never_spells_the_name():
    key = register_match_key("Nguyễn Văn Đức", 2015, 7)
    assert key != register_match_key("Nguyễn Văn Đức", 2016, 7)
    assert key != register_match_key("Nguyễn Văn Đức", 2015, 8)
    assert key == register_match_key("Nguyễn Văn Đực", 2015, 7)  # tones fold together
    assert key != register_match_key("Nguyễn Văn Được", 2015, 7)
    assert "nguyen" not in key and len(key) == 64


@pytest.mark.parametrize(("text", "code"), [
    ("   ", "child_name_blank"),
    ("\u200b\u200b", "child_name_blank"),
    ("x" * 101, "name_too_long"),
    ("3/4/2015", "child_name_digits"),
])
def test_names_that_cannot_be_used(text, code):
    with pytest.raises(InvalidInput) as problem:
        clean_name(text)
    assert problem.value.code == code


def test_a_name_is_trimmed():
    assert clean_name("  Nguyễn   Văn  Đức ") == "Nguyễn Văn Đức"


def test_leaving_is_idempotent_and_a_move_needs_the_destination():
    left = leave(ChildStatus.ACTIVE, LeaveReason.DECEASED, on=TODAY)
    assert left is not None and left.reason is LeaveReason.DECEASED and left.on == TODAY
    assert leave(ChildStatus.LEFT, LeaveReason.DECEASED, on=TODAY) is None
    with pytest.raises(InvalidInput) as problem:
        leave("active", LeaveReason.MOVED_AWAY, on=TODAY, note=" ")
    assert problem.value.code == "destination_required"
    moved = leave("active", LeaveReason.MOVED_AWAY, on=TODAY, note=" Xã Yên Mạc ")
    assert moved.note == "Xã Yên Mạc"


def test_a_support_button_goes_round_the_statuses():
    seen = [next_support_status(None)]
    for _ in range(4):
        seen.append(next_support_status(seen[-1]))
    assert seen == [SupportStatus.MISSING, SupportStatus.APPLIED, SupportStatus.HAS,
                    SupportStatus.NOT_ELIGIBLE, SupportStatus.MISSING]


def test_groups_keep_the_law_order_and_drop_unknown_codes():
    assert clean_groups(["disability", "orphan", "nonsense"]) == ["orphan", "disability"]


def test_months_are_added_as_people_count_them():
    assert add_months(dt.date(2026, 11, 23), 3) == dt.date(2027, 2, 23)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)


def test_a_review_is_due_on_a_working_day():
    assert review_due(dt.date(2026, 11, 23)) == dt.date(2027, 2, 23)  # a Tuesday
    # 3 months after 2 June 2026 is 2 September, National Day: the next working day.
    due = review_due(dt.date(2026, 6, 2))
    assert due > dt.date(2026, 9, 2) and is_working_day(due)
    # Falling on a Saturday: the next Monday.
    assert review_due(dt.date(2026, 5, 5), 4) == dt.date(2026, 9, 7)
    assert review_due(dt.date(2026, 11, 23), 1) == dt.date(2026, 12, 23)
