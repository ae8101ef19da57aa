"""Reporting periods and the rules behind the figures."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.errors import InvalidInput
from domain.periods import (
    Period,
    PeriodKind,
    last_month,
    next_report,
    parse_period,
    report_for_deadline,
    report_period,
)
from domain.stats import median, share, working_days_between, working_days_to
from domain.workdays import add_working_days, is_working_day

D = dt.date
HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_two_reports_cover_15_11_to_14_5_and_15_11_to_14_11():
    six = report_period(PeriodKind.SIX_MONTH, 2027)
    assert (six.start, six.end, six.year) == (D(2026, 11, 15), D(2027, 5, 14), 2027)
    annual = report_period(PeriodKind.ANNUAL, 2027)
    assert (annual.start, annual.end) == (D(2026, 11, 15), D(2027, 11, 14))
    # Consecutive annual reports leave no day out and count no day twice.
    assert report_period(PeriodKind.ANNUAL, 2028).start == annual.end + dt.timedelta(days=1)
    assert annual.days == 365 and report_period(PeriodKind.ANNUAL, 2028).days == 366


@pytest.mark.parametrize(("today", "kind", "year"), [
    (D(2026, 11, 23), PeriodKind.SIX_MONTH, 2027),
    (D(2027, 1, 10), PeriodKind.SIX_MONTH, 2027),
    (D(2027, 5, 20), PeriodKind.SIX_MONTH, 2027),  # the deadline day itself
    (D(2027, 5, 21), PeriodKind.ANNUAL, 2027),
    (D(2027, 11, 15), PeriodKind.ANNUAL, 2027),
    (D(2027, 11, 16), PeriodKind.SIX_MONTH, 2028),
])
def test_the_default_is_the_report_due_next(today, kind, year):
    assert next_report(today) == report_period(kind, year)


def test_a_commune_deadline_moved_changes_which_report_is_next():
    def moved(kind, year):
        return D(year, 11, 20) if kind is PeriodKind.ANNUAL else D(year, 5, 20)

    assert next_report(D(2027, 11, 18), moved) == report_period(PeriodKind.ANNUAL, 2027)


def test_a_reminder_date_gives_its_report():
    assert report_for_deadline(PeriodKind.SIX_MONTH, D(2027, 5, 20)).start == D(2026, 11, 15)
    assert report_for_deadline(PeriodKind.ANNUAL, D(2027, 11, 15)).end == D(2027, 11, 14)


@pytest.mark.parametrize(("text", "expected"), [
    ("", (D(2026, 11, 15), D(2027, 5, 14))),
    ("6m", (D(2026, 11, 15), D(2027, 5, 14))),
    ("6 tháng", (D(2026, 11, 15), D(2027, 5, 14))),
    ("báo cáo 6 tháng 2026", (D(2025, 11, 15), D(2026, 5, 14))),
    ("năm 2026", (D(2025, 11, 15), D(2026, 11, 14))),
    ("Năm", (D(2026, 11, 15), D(2027, 11, 14))),
    ("năm nay", (D(2026, 1, 1), D(2026, 12, 31))),
    ("thisyear", (D(2026, 1, 1), D(2026, 12, 31))),
    ("tháng trước", (D(2026, 10, 1), D(2026, 10, 31))),
    ("lastmonth", (D(2026, 10, 1), D(2026, 10, 31))),
    ("1/1/2026-31/3/2026", (D(2026, 1, 1), D(2026, 3, 31))),
    ("01/01/2026 đến 31/03/2026", (D(2026, 1, 1), D(2026, 3, 31))),
    ("1.7.2026 30.9.2026", (D(2026, 7, 1), D(2026, 9, 30))),
])
def test_what_an_officer_types(text, expected):
    period = parse_period(text, D(2026, 11, 23))
    assert (period.start, period.end) == expected


def test_in_summer_the_6_month_report_without_a_year_is_the_one_just_handed_in():
    assert parse_period("6 tháng", D(2026, 7, 1)) == report_period(PeriodKind.SIX_MONTH, 2026)


@pytest.mark.parametrize("text", ["hôm qua", "31/2/2026-1/3/2026", "1/3/2026-1/1/2026",
                                  "1/1/2000-1/1/2020", "năm 1800", "tháng trước 2026"])
def test_unreadable_periods_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_period(text, D(2026, 11, 23))


def test_last_month_across_a_year_and_month_list():
    assert last_month(D(2027, 1, 5)) == Period(PeriodKind.MONTH, D(2026, 12, 1), D(2026, 12, 31))
    assert report_period(PeriodKind.SIX_MONTH, 2027).months() == [
        (2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 3), (2027, 4), (2027, 5)]


def test_bounds_are_local_midnights_in_utc_and_keys_round_trip():
    period = report_period(PeriodKind.SIX_MONTH, 2027)
    lo, hi = period.bounds(HANOI)
    assert lo == dt.datetime(2026, 11, 14, 17, 0, tzinfo=dt.UTC)
    assert hi == dt.datetime(2027, 5, 14, 17, 0, tzinfo=dt.UTC)
    assert Period.from_key(*period.key()) == period
    custom = parse_period("1/1/2026-31/3/2026", D(2026, 11, 23))
    assert Period.from_key(*custom.key()) == custom
    with pytest.raises(InvalidInput):
        Period.from_key("custom", "20260231", "20260301")


def test_working_days_to_the_plan_skip_weekends_and_holidays():
    monday = D(2026, 11, 23)
    assert working_days_between(monday, monday) == 0
    assert working_days_between(monday, D(2026, 11, 25)) == 1  # 24/11: Vietnam Culture Day
    assert working_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1  # Friday → Monday
    # Tết 2027 (6/2 is Lunar New Year): a whole week off.
    assert working_days_between(D(2027, 2, 3), D(2027, 2, 15)) == sum(
        is_working_day(D(2027, 2, 3) + dt.timedelta(days=i)) for i in range(1, 13))
    # The same count as the deadline rule: the 5th working day after is 5.
    for start in (D(2026, 4, 27), D(2027, 2, 4), D(2025, 12, 31), D(1999, 12, 30)):
        assert working_days_between(start, add_working_days(start, 5)) == 5
    late_evening = dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)  # 23:30 Wednesday, Hà Nội
    assert working_days_to(late_evening, dt.datetime(2026, 11, 25, 17, 30, tzinfo=dt.UTC),
                           HANOI) == 1


def test_median_and_share():
    assert median([]) is None
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 2, 3]) == 2.5
    assert median({1: 2, 5: 1}) == 1.0
    assert share(1, 4) == 0.25 and share(0, 0) is None
