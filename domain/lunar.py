"""Vietnamese lunar dates (âm lịch), computed for UTC+7.

The Vietnamese calendar is the Chinese algorithm evaluated at Hà Nội's meridian, so
some years differ from the Chinese calendar (Tết 1985, 2007, 2030...). `lunar-vn`
implements Hồ Ngọc Đức's algorithm with the time zone as a parameter; the tests check
it against an independent implementation and against the `holidays` package's Tết dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import lunar_vn

VIETNAM_UTC_OFFSET = 7.0
SUPPORTED_YEARS = range(lunar_vn.SUPPORTED_YEAR_RANGE[0], lunar_vn.SUPPORTED_YEAR_RANGE[1] + 1)


@dataclass(frozen=True)
class LunarDay:
    day: int
    month: int
    year: int
    leap: bool = False


def to_solar(day: int, month: int, lunar_year: int, *, leap: bool = False) -> dt.date:
    """The Gregorian date of a lunar day of `lunar_year` (e.g. 15/8 → Tết Trung thu).

    ValueError for a leap month the year does not have (the library would silently give
    the ordinary month)."""
    solar = lunar_vn.lunar_to_solar(lunar_vn.LunarDate(day, month, lunar_year, leap),
                                    time_zone=VIETNAM_UTC_OFFSET)
    if leap and not to_lunar(solar).leap:
        raise ValueError(f"lunar year {lunar_year} has no leap month {month}")
    return solar


def to_lunar(date: dt.date) -> LunarDay:
    found = lunar_vn.solar_to_lunar(date, time_zone=VIETNAM_UTC_OFFSET)
    return LunarDay(found.day, found.month, found.year, bool(found.leap))


def in_gregorian_year(day: int, month: int, year: int) -> dt.date:
    """The occurrence of lunar day/month that falls in Gregorian `year`.

    Lunar months 11 and 12 of lunar year Y-1 can fall in January/February of Y; for the
    events we keep (Tết, Trung thu...) the lunar year that starts in Y is the one wanted,
    except for months 11–12, which belong to the lunar year before.
    """
    candidate = to_solar(day, month, year)
    if candidate.year == year:
        return candidate
    return to_solar(day, month, year - 1)
