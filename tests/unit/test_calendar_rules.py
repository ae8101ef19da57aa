"""The calendar's rules: every default event's dates 2024–2035 (lunar ones checked with
an independent implementation), working-day shifts around Tết and 30/4–1/5, overrides."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from domain.calendar import DateRule, EventKind, EventSpec, Recipient, matches, reminder_days
from domain.errors import InvalidInput
from domain.setup_file import default_events, events_for, load_setup_file
from domain.workdays import is_working_day
from tests.unit import vn_lunar_reference as reference

YEARS = range(2024, 2036)
EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "minh-tan.toml"

# Written out by hand: (first day, last day) as day/month, or "lunar d/m".
EXPECTED = {
    # "trước ngày 20/5" / "trước ngày 15/11": the last day to hand in is the day before.
    "bao-cao-6-thang": ((19, 5), (19, 5)),
    "bao-cao-nam": ((14, 11), (14, 11)),
    "thang-hanh-dong": ((1, 6), (30, 6)),
    "quoc-te-thieu-nhi": ((1, 6), (1, 6)),
    "vi-chat-thang-6": ((1, 6), (2, 6)),
    "gia-dinh-viet-nam": ((28, 6), (28, 6)),
    "sua-me": ((1, 8), (7, 8)),
    "den-truong": ((5, 9), (5, 9)),
    "tre-sinh-non": ((17, 11), (17, 11)),
    "nha-giao": ((20, 11), (20, 11)),
    "binh-dang-gioi": ((15, 11), (15, 12)),
    "vi-chat-thang-12": ((1, 12), (2, 12)),
    "trung-thu": "lunar 15/8",
    "tet-nguyen-dan": "lunar 1/1",
}


def _lunar(day: int, month: int, year: int) -> dt.date:
    """Independent: the reference implementation at UTC+7."""
    return reference.lunar_to_solar(day, month, year)


@pytest.mark.parametrize("year", YEARS)
def test_every_default_event_in_every_year(year):
    events = {e.code: e for e in default_events()}
    assert set(events) == set(EXPECTED)
    for code, expected in EXPECTED.items():
        start, end = DateRule.parse(events[code].date).occurrence(year)
        if isinstance(expected, str):
            day, month = (int(x) for x in expected.split()[1].split("/"))
            assert start == end == _lunar(day, month, year), code
        else:
            (d1, m1), (d2, m2) = expected
            assert (start, end) == (dt.date(year, m1, d1), dt.date(year, m2, d2)), code


def test_lunar_events_known_dates():
    trung_thu = DateRule.parse("15/8 âm lịch")
    tet = DateRule.parse("1/1 AL")
    assert trung_thu.occurrence(2026)[0] == dt.date(2026, 9, 25)
    assert tet.occurrence(2030)[0] == dt.date(2030, 2, 2)  # the Chinese calendar says 3/2
    assert tet.occurrence(2007)[0] == dt.date(2007, 2, 17)  # the Chinese calendar says 18/2


@pytest.mark.parametrize(("rule", "lead", "year", "expected"), [
    # Lands on 1/5 (holiday) → 30/4 (holiday) → 29/4.
    ("5/5", 4, 2026, dt.date(2026, 4, 29)),
    # Tết 2026: 16–20/2 are holidays, 14–15/2 a weekend → Friday 13/2.
    ("20/2", 0, 2026, dt.date(2026, 2, 13)),
    # Saturday 20/5/2028 → Friday 19/5.
    ("20/5", 0, 2028, dt.date(2028, 5, 19)),
    # 2/9/2029 is a Sunday and a holiday, 1/9 Saturday, 31/8 Friday.
    ("2/9", 0, 2029, dt.date(2029, 8, 31)),
    # An ordinary Wednesday stays.
    ("20/5", 0, 2026, dt.date(2026, 5, 20)),
    # "5 working days before 20/5/2026" (Wed): 19, 18, 15, 14, 13 → 13/5.
    ("5 ngày làm việc trước 20/5", 0, 2026, dt.date(2026, 5, 13)),
])
def test_reminders_move_back_to_a_working_day(rule, lead, year, expected):
    spec = EventSpec("x", "x", EventKind.OBSERVANCE, DateRule.parse(rule), lead_days=(lead,))
    ((got_lead, day),) = reminder_days(spec, year)
    assert got_lead == lead and day == expected and is_working_day(day)


def test_every_default_reminder_falls_on_a_working_day():
    for event in default_events():
        spec = event.spec()
        for year in YEARS:
            for lead, day in reminder_days(spec, year):
                assert is_working_day(day), (event.code, year, lead, day)
                start, _end = spec.rule.occurrence(year)
                assert day <= start - dt.timedelta(days=lead)


def test_commune_file_overrides_defaults_by_code():
    setup = load_setup_file(EXAMPLE)
    events = {e.code: e for e in events_for(setup)}
    assert events["vi-chat-thang-6"].date == "30/6"  # Minh Tân's own plan
    assert events["bao-cao-nam"].date == "trước 15/11"  # the default
    assert len(events) == len(default_events())


@pytest.mark.parametrize("text", ["", "32/1", "1/13", "ngày mai", "15/8 dương lịch", "1/6-",
                                  "0 ngày làm việc trước 20/5", "30/12 âm lịch x"])
def test_bad_date_rules(text):
    with pytest.raises(InvalidInput, match="date_rule_invalid"):
        DateRule.parse(text)


@pytest.mark.parametrize(("text", "kind"), [("20/5", "fixed"), (" 1/6 – 30/6 ", "range"),
                                            ("15/8 Âm Lịch", "lunar"), ("15/8 am lich", "lunar"),
                                            ("3 working days before 15/11", "before")])
def test_date_rule_forms(text, kind):
    assert DateRule.parse(text).kind == kind


def test_audience_matching():
    health_group = Recipient(agency_kind="health")
    officer = Recipient(role="officer")
    assert matches(("all",), health_group)
    assert matches(("health",), health_group) and not matches(("school",), health_group)
    assert matches(("culture_social", "officer"), officer)
    assert not matches(("admin",), Recipient())
