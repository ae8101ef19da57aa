"""domain/lunar.py: Vietnamese lunar dates (UTC+7), checked three ways.

1. Against tests/unit/vn_lunar_reference.py, an independent implementation of Hồ Ngọc
   Đức's algorithm: every day of the supported range, both directions, exact agreement.
2. Against known Vietnamese dates (Tết, Tết Trung thu), including the years where the
   Vietnamese calendar differs from the Chinese one (the reference at UTC+8 shows it).
3. Against the `holidays` package's Vietnamese Lunar New Year, a third source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import holidays
import pytest

from domain import lunar
from domain.lunar import LunarDay, in_gregorian_year, to_lunar, to_solar
from tests.unit import vn_lunar_reference as ref

FIRST_DAY = dt.date(1900, 1, 31)  # 1/1 of lunar year 1900, the first supported lunar year
LAST_DAY = dt.date(2100, 12, 31)


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        yield dt.date.fromordinal(ordinal)


def ref_lunar(date: dt.date, time_zone: float = ref.VIETNAM) -> LunarDay:
    found = ref.solar_to_lunar(date, time_zone)
    return LunarDay(found.day, found.month, found.year, found.leap)


def ref_leap_month(lunar_year: int, time_zone: float = ref.VIETNAM) -> int | None:
    """The leap month of `lunar_year` according to the reference, if any."""
    for month in range(1, 13):
        _, _, year = ref.convert_lunar_to_solar(1, month, lunar_year, 1, time_zone)
        if year:
            return month
    return None


def first_mismatches(mismatches: list[str], limit: int = 20) -> str:
    return f"{len(mismatches)} mismatches, first ones:\n" + "\n".join(mismatches[:limit])


# --- 1. the library against the independent reference, at UTC+7 ---------------------------


def test_supported_years() -> None:
    assert range(1900, 2101) == lunar.SUPPORTED_YEARS


def test_every_day_solar_to_lunar_matches_reference() -> None:
    """~73,400 Gregorian days, 1900-01-31 … 2100-12-31: same lunar day, month, year, leap."""
    mismatches = []
    count = 0
    for date in days(FIRST_DAY, LAST_DAY):
        count += 1
        got, want = to_lunar(date), ref_lunar(date)
        assert 1 <= want.day <= 30 and 1 <= want.month <= 12, (date, want)  # reference sanity
        if got != want:
            mismatches.append(f"{date}: lunar_vn {got}, reference {want}")
    assert count == (LAST_DAY - FIRST_DAY).days + 1 > 73_000
    assert not mismatches, first_mismatches(mismatches)


def test_every_lunar_day_to_solar_matches_reference() -> None:
    """Every lunar date of lunar years 1900–2100 that starts by 2100-12-31 — day 30s and leap
    months included — goes back to the same Gregorian day in both implementations."""
    mismatches = []
    for date in days(FIRST_DAY, LAST_DAY):
        found = ref_lunar(date)
        day, month, year, leap = found.day, found.month, found.year, found.leap
        want_ref = ref.lunar_to_solar(day, month, year, leap)
        got = to_solar(day, month, year, leap=leap)
        if got != date or want_ref != date:
            mismatches.append(
                f"{day}/{month}{'L' if leap else ''}/{year}: lunar_vn {got}, "
                f"reference {want_ref}, expected {date}"
            )
    assert not mismatches, first_mismatches(mismatches)


def test_first_and_fifteenth_of_every_lunar_month_match_reference() -> None:
    """Lunar → solar for 1/m and 15/m of every month of lunar years 1901–2099, leap
    months included, and the same leap month in both implementations."""
    mismatches = []
    leap_years = 0
    for year in range(1901, 2100):
        leap_month = ref_leap_month(year)
        leap_years += leap_month is not None
        months = [(m, False) for m in range(1, 13)]
        if leap_month is not None:
            months.insert(leap_month, (leap_month, True))
        previous = None
        for month, leap in months:
            for day in (1, 15):
                want = ref.lunar_to_solar(day, month, year, leap)
                got = to_solar(day, month, year, leap=leap)
                if got != want:
                    mismatches.append(f"{day}/{month}{'L' if leap else ''}/{year}: "
                                      f"lunar_vn {got}, reference {want}")
            start = ref.lunar_to_solar(1, month, year, leap)
            assert previous is None or 29 <= (start - previous).days <= 30, (year, month)
            previous = start
            if leap:  # the library agrees on which month is the leap one
                assert to_lunar(start) == LunarDay(1, month, year, True)
    # Seven leap months every 19 years (Metonic cycle): 199 years → about 73.
    assert 70 <= leap_years <= 76
    assert not mismatches, first_mismatches(mismatches)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2054, 5, 7), LunarDay(30, 3, 2054, False)),
        (dt.date(2054, 5, 8), LunarDay(1, 4, 2054, False)),
        (dt.date(2062, 4, 9), LunarDay(30, 2, 2062, False)),
        (dt.date(2062, 4, 10), LunarDay(1, 3, 2062, False)),
    ],
)
def test_days_where_the_true_new_moon_is_late(date: dt.date, expected: LunarDay) -> None:
    """The published solar→lunar code guesses the month from the mean new moon and gives
    "day 0" on these days (see the reference); both implementations must give day 30."""
    assert to_lunar(date) == expected
    assert ref_lunar(date) == expected


# --- 2. known Vietnamese dates, and where China differs --------------------------------------


@pytest.mark.parametrize(
    ("lunar_year", "tet"),
    [
        (1985, dt.date(1985, 1, 21)),
        (2007, dt.date(2007, 2, 17)),
        (2024, dt.date(2024, 2, 10)),
        (2025, dt.date(2025, 1, 29)),
        (2026, dt.date(2026, 2, 17)),
        (2030, dt.date(2030, 2, 2)),
    ],
)
def test_tet(lunar_year: int, tet: dt.date) -> None:
    assert to_solar(1, 1, lunar_year) == tet
    assert ref.lunar_to_solar(1, 1, lunar_year) == tet
    assert to_lunar(tet) == LunarDay(1, 1, lunar_year, False)


@pytest.mark.parametrize(
    ("lunar_year", "trung_thu"),
    [
        (2024, dt.date(2024, 9, 17)),
        (2025, dt.date(2025, 10, 6)),
        (2026, dt.date(2026, 9, 25)),
    ],
)
def test_tet_trung_thu(lunar_year: int, trung_thu: dt.date) -> None:
    assert to_solar(15, 8, lunar_year) == trung_thu
    assert ref.lunar_to_solar(15, 8, lunar_year) == trung_thu
    assert to_lunar(trung_thu) == LunarDay(15, 8, lunar_year, False)


@pytest.mark.parametrize(
    ("lunar_year", "vietnam", "china"),
    [
        (1985, dt.date(1985, 1, 21), dt.date(1985, 2, 20)),
        (2007, dt.date(2007, 2, 17), dt.date(2007, 2, 18)),
        (2030, dt.date(2030, 2, 2), dt.date(2030, 2, 3)),
    ],
)
def test_tet_differs_from_the_chinese_calendar(
    lunar_year: int, vietnam: dt.date, china: dt.date
) -> None:
    assert ref.lunar_to_solar(1, 1, lunar_year, time_zone=ref.CHINA) == china
    assert ref.lunar_to_solar(1, 1, lunar_year, time_zone=ref.VIETNAM) == vietnam
    assert to_solar(1, 1, lunar_year) == vietnam != china


def test_the_time_zone_matters_only_in_some_years() -> None:
    """At UTC+8 the same algorithm gives another Tết in a few years only. In 1985 it is a
    whole month: the leap month is 10 of lunar 1984 in China, 2 of lunar 1985 in Vietnam."""
    assert (ref_leap_month(1984, ref.CHINA), ref_leap_month(1985, ref.CHINA)) == (10, None)
    assert (ref_leap_month(1984), ref_leap_month(1985)) == (None, 2)
    differing = [
        year
        for year in range(1901, 2100)
        if ref.lunar_to_solar(1, 1, year, time_zone=ref.CHINA)
        != ref.lunar_to_solar(1, 1, year, time_zone=ref.VIETNAM)
    ]
    assert {1985, 2007, 2030} <= set(differing)
    assert len(differing) < 20


# --- 3. a third source: the holidays package -------------------------------------------------


def test_tet_matches_the_holidays_package() -> None:
    years = range(2001, 2036)
    vn = holidays.country_holidays("VN", years=years, language="en_US")
    tet = {date.year: date for date, name in vn.items() if name == "Lunar New Year"}
    assert sorted(tet) == list(years), sorted(vn.items())[:20]
    assert {year: to_solar(1, 1, year) for year in years} == tet


# --- in_gregorian_year -----------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2024, 2036))
def test_trung_thu_in_the_same_gregorian_year(year: int) -> None:
    assert in_gregorian_year(15, 8, year) == to_solar(15, 8, year)
    assert in_gregorian_year(15, 8, year).year == year


def test_ong_cong_ong_tao_of_2026_belongs_to_lunar_2025() -> None:
    assert in_gregorian_year(23, 12, 2026) == dt.date(2026, 2, 10)
    assert to_lunar(dt.date(2026, 2, 10)) == LunarDay(23, 12, 2025, False)


@pytest.mark.parametrize(
    ("day", "month", "lunar_year_offset"), [(15, 8, 0), (1, 1, 0), (23, 12, -1)]
)
def test_in_gregorian_year_every_year(day: int, month: int, lunar_year_offset: int) -> None:
    for year in range(2001, 2100):
        found = in_gregorian_year(day, month, year)
        assert found.year == year, (day, month, year, found)
        assert found == ref.lunar_to_solar(day, month, year + lunar_year_offset), (year, found)


# --- round trips and leap months -------------------------------------------------------------


def test_round_trip_every_day_2024_2035() -> None:
    leap_days = 0
    for date in days(dt.date(2024, 1, 1), dt.date(2035, 12, 31)):
        found = to_lunar(date)
        leap_days += found.leap
        assert to_solar(found.day, found.month, found.year, leap=found.leap) == date, found
    assert leap_days > 0  # leap months 2025: 6, 2028: 5, 2031: 3, 2033: 11 were crossed
    assert {year: ref_leap_month(year) for year in (2025, 2028, 2031, 2033)} == {
        2025: 6, 2028: 5, 2031: 3, 2033: 11
    }


def test_leap_month_6_of_2025() -> None:
    assert ref_leap_month(2025) == 6
    assert to_solar(1, 6, 2025) == dt.date(2025, 6, 25)
    assert to_solar(1, 6, 2025, leap=True) == dt.date(2025, 7, 25)
    assert to_lunar(dt.date(2025, 8, 1)) == LunarDay(8, 6, 2025, True)
    assert to_lunar(dt.date(2025, 8, 22)) == LunarDay(29, 6, 2025, True)
    assert to_lunar(dt.date(2025, 8, 23)) == LunarDay(1, 7, 2025, False)
    assert to_lunar(dt.date(2025, 7, 24)) == LunarDay(30, 6, 2025, False)
