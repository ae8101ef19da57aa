"""An independent reference implementation of the Vietnamese lunar calendar, for tests only.

Source algorithm: Hồ Ngọc Đức, "Âm lịch Việt Nam" / "Computing the Vietnamese lunar
calendar" (https://www.informatik.uni-leipzig.de/~duc/amlich/), the reference version
whose functions are jdFromDate, jdToDate, NewMoon, SunLongitude, getNewMoonDay,
getSunLongitude, getLunarMonth11, getLeapMonthOffset, convertSolar2Lunar and
convertLunar2Solar. The astronomical parts follow Jean Meeus, "Astronomical Algorithms":

* NewMoon(k) is the full floating-point series for the k-th mean new moon after
  1900-01-01 13:52 UT, corrected by the periodic terms and ΔT (not the simplified
  `2415021.076998695 + 29.530588853 * k` approximation);
* SunLongitude(jd) is the apparent-longitude series (mean longitude plus equation of the
  centre), returned in radians normalised to [0, 2π).

The calendar rules: a lunar month starts on the local day of a new moon; month 11
contains the winter solstice; a year with 13 months between two months 11 has, as leap
month, the first month that contains no major solar term (no change of 30° sector of
the sun's longitude). `time_zone` is the UTC offset in hours where the days are counted:
7.0 for Vietnam (UTC+7), 8.0 for China (UTC+8) — which is why Vietnamese and Chinese
dates sometimes differ (e.g. Tết 1985, 2007, 2030).

This module was written independently from the `lunar-vn` package that the application
uses, so that the tests compare two implementations. Function names are kept close to
the published ones (in snake_case) to make the correspondence obvious. It departs from
the published code in two guarded places only, each marked "Departure": the month lookup
of convert_solar_to_lunar (which could give "day 0") and the rejection of a leap flag in a
year without a leap month in convert_lunar_to_solar. Pure helpers are memoised because
the tests convert tens of thousands of days; memoising does not change any result.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from typing import NamedTuple

__all__ = [
    "CHINA",
    "VIETNAM",
    "Lunar",
    "convert_lunar_to_solar",
    "convert_solar_to_lunar",
    "get_leap_month_offset",
    "get_lunar_month11",
    "get_new_moon_day",
    "get_sun_longitude",
    "jd_from_date",
    "jd_to_date",
    "lunar_to_solar",
    "new_moon",
    "solar_to_lunar",
    "sun_longitude",
]

VIETNAM = 7.0
CHINA = 8.0

_PI = math.pi
_DR = _PI / 180.0  # degrees → radians
# Julian day of the first new moon of the series (1900-01-01 13:52 UT) and the mean
# synodic month, used only to guess the index k of a new moon near a given day.
_EPOCH_NEW_MOON = 2415021.076998695
_SYNODIC_MONTH = 29.530588853


class Lunar(NamedTuple):
    day: int
    month: int
    year: int
    leap: bool


def _int(x: float) -> int:
    """INT() of the published code: JavaScript Math.floor."""
    return math.floor(x)


# --- Julian day numbers ---------------------------------------------------------------------


def jd_from_date(dd: int, mm: int, yy: int) -> int:
    """Julian day number of a date (Gregorian from 1582-10-15, Julian before)."""
    a = (14 - mm) // 12
    y = yy + 4800 - a
    m = mm + 12 * a - 3
    jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    if jd < 2299161:
        jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    return jd


def jd_to_date(jd: int) -> tuple[int, int, int]:
    """(day, month, year) of a Julian day number."""
    if jd > 2299160:  # after 1582-10-04: Gregorian calendar
        a = jd + 32044
        b = (4 * a + 3) // 146097
        c = a - (b * 146097) // 4
    else:
        b = 0
        c = jd + 32082
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = b * 100 + d - 4800 + m // 10
    return day, month, year


# --- astronomy ------------------------------------------------------------------------------


@cache
def new_moon(k: int) -> float:
    """Julian day (UT, fractional) of the k-th new moon after 1900-01-01 13:52 UT."""
    t = k / 1236.85  # Julian centuries from 1900-01-01 12:00
    t2 = t * t
    t3 = t2 * t
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * _DR)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3  # sun's mean anomaly
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3  # moon's
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3  # argument of lat.
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * _DR) + 0.0021 * math.sin(2 * _DR * m)
    c1 = c1 - 0.4068 * math.sin(mpr * _DR) + 0.0161 * math.sin(_DR * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(_DR * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(_DR * 2 * f) - 0.0051 * math.sin(_DR * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(_DR * (m - mpr)) + 0.0004 * math.sin(_DR * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(_DR * (2 * f - m)) - 0.0006 * math.sin(_DR * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(_DR * (2 * f - mpr)) + 0.0005 * math.sin(_DR * (2 * mpr + m))
    if t < -11:
        deltat = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        deltat = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - deltat


def sun_longitude(jdn: float) -> float:
    """Apparent longitude of the sun at Julian day `jdn` (UT), radians in [0, 2π)."""
    t = (jdn - 2451545.0) / 36525  # Julian centuries from J2000.0
    t2 = t * t
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2  # mean anomaly
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2  # mean longitude
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(_DR * m)
    dl = dl + (0.019993 - 0.000101 * t) * math.sin(_DR * 2 * m) + 0.000290 * math.sin(_DR * 3 * m)
    lon = (l0 + dl) * _DR
    return lon - _PI * 2 * _int(lon / (_PI * 2))


# --- calendar -------------------------------------------------------------------------------


@cache
def get_new_moon_day(k: int, time_zone: float) -> int:
    """Julian day number of the local day (at `time_zone`) containing the k-th new moon."""
    return _int(new_moon(k) + 0.5 + time_zone / 24)


@cache
def get_sun_longitude(day_number: int, time_zone: float) -> int:
    """Sector 0..11 (30° each) of the sun's longitude at the start of local day `day_number`."""
    return _int(sun_longitude(day_number - 0.5 - time_zone / 24) / _PI * 6)


@cache
def get_lunar_month11(yy: int, time_zone: float) -> int:
    """Julian day of the first day of lunar month 11 (the one with the winter solstice)
    that begins in or before Gregorian year `yy`."""
    off = jd_from_date(31, 12, yy) - 2415021
    k = _int(off / _SYNODIC_MONTH)
    nm = get_new_moon_day(k, time_zone)
    if get_sun_longitude(nm, time_zone) >= 9:  # the sun is already past 270°: too late
        nm = get_new_moon_day(k - 1, time_zone)
    return nm


@cache
def get_leap_month_offset(a11: int, time_zone: float) -> int:
    """Index (counting month 11 starting on `a11` as 0) of the first month without a
    major solar term: the month before it is the leap month."""
    k = _int((a11 - _EPOCH_NEW_MOON) / _SYNODIC_MONTH + 0.5)
    i = 1  # start with the month following month 11
    arc = get_sun_longitude(get_new_moon_day(k + i, time_zone), time_zone)
    while True:
        last = arc
        i += 1
        arc = get_sun_longitude(get_new_moon_day(k + i, time_zone), time_zone)
        if not (arc != last and i < 14):
            break
    return i - 1


def convert_solar_to_lunar(
    dd: int, mm: int, yy: int, time_zone: float
) -> tuple[int, int, int, int]:
    """(lunar day, lunar month, lunar year, leap 0/1) of a Gregorian date."""
    day_number = jd_from_date(dd, mm, yy)
    k = _int((day_number - _EPOCH_NEW_MOON) / _SYNODIC_MONTH)
    month_start = get_new_moon_day(k + 1, time_zone)
    # Departure: the published code falls back to new moon k only once. k comes from the *mean*
    # lunation, and when the true new moon k is late (it can be ~14 h off the mean) and the
    # time zone pushes it to the next local day, new moon k is still after `day_number`:
    # the published code then returns lunar day 0 (at UTC+7: 2054-05-07 and 2062-04-09,
    # which are day 30 of the month begun at new moon k - 1). Step back until the month
    # starts on or before the day.
    while month_start > day_number:
        month_start = get_new_moon_day(k, time_zone)
        k -= 1
    a11 = get_lunar_month11(yy, time_zone)
    b11 = a11
    if a11 >= month_start:
        lunar_year = yy
        a11 = get_lunar_month11(yy - 1, time_zone)
    else:
        lunar_year = yy + 1
        b11 = get_lunar_month11(yy + 1, time_zone)
    lunar_day = day_number - month_start + 1
    diff = _int((month_start - a11) / 29)
    lunar_leap = 0
    lunar_month = diff + 11
    if b11 - a11 > 365:  # 13 lunar months between the two months 11: a leap year
        leap_month_diff = get_leap_month_offset(a11, time_zone)
        if diff >= leap_month_diff:
            lunar_month = diff + 10
            if diff == leap_month_diff:
                lunar_leap = 1
    if lunar_month > 12:
        lunar_month -= 12
    if lunar_month >= 11 and diff < 4:
        lunar_year -= 1
    return lunar_day, lunar_month, lunar_year, lunar_leap


def convert_lunar_to_solar(
    lunar_day: int, lunar_month: int, lunar_year: int, lunar_leap: int, time_zone: float
) -> tuple[int, int, int]:
    """(day, month, year) of a lunar date; (0, 0, 0) for a leap month that does not exist.

    The published code returns (0, 0, 0) for a leap flag on the wrong month of a leap
    year, but ignores the flag in a year without a leap month; this version rejects both.
    """
    if lunar_month < 11:
        a11 = get_lunar_month11(lunar_year - 1, time_zone)
        b11 = get_lunar_month11(lunar_year, time_zone)
    else:
        a11 = get_lunar_month11(lunar_year, time_zone)
        b11 = get_lunar_month11(lunar_year + 1, time_zone)
    k = _int(0.5 + (a11 - _EPOCH_NEW_MOON) / _SYNODIC_MONTH)
    off = lunar_month - 11
    if off < 0:
        off += 12
    if b11 - a11 > 365:
        leap_off = get_leap_month_offset(a11, time_zone)
        leap_month = leap_off - 2
        if leap_month < 0:
            leap_month += 12
        if lunar_leap != 0 and lunar_month != leap_month:
            return 0, 0, 0
        if lunar_leap != 0 or off >= leap_off:
            off += 1
    elif lunar_leap != 0:  # Departure: no leap month this year (published code ignores it)
        return 0, 0, 0
    month_start = get_new_moon_day(k + off, time_zone)
    return jd_to_date(month_start + lunar_day - 1)


# --- datetime conveniences ------------------------------------------------------------------


def solar_to_lunar(date: dt.date, time_zone: float = VIETNAM) -> Lunar:
    d, m, y, leap = convert_solar_to_lunar(date.day, date.month, date.year, time_zone)
    return Lunar(d, m, y, bool(leap))


def lunar_to_solar(
    day: int, month: int, lunar_year: int, leap: bool = False, time_zone: float = VIETNAM
) -> dt.date:
    d, m, y = convert_lunar_to_solar(day, month, lunar_year, int(leap), time_zone)
    if y == 0:
        raise ValueError(f"no leap month {month} in lunar year {lunar_year}")
    return dt.date(y, m, d)
