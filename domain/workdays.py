"""Working days in Vietnam: weekends and public holidays (Tết, 30/4, 1/5, 2/9...) are off,
and a Saturday the government swapped into a working day counts as one. From the maintained
`holidays` package, which includes Tết and substitute days, plus the installation's own
corrections (TREEM_EXTRA_HOLIDAYS, TREEM_EXTRA_WORKING_DAYS): the package's Tết ranges for
future years are estimates until the government announces them, and it counts 24/11 (Ngày Văn
hóa Việt Nam) as a day off from 2026."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import holidays

_extra_off: frozenset[dt.date] = frozenset()
_extra_working: frozenset[dt.date] = frozenset()


@functools.cache
def _calendar() -> holidays.HolidayBase:
    # expand=True fills in each year the first time a date of it is asked.
    return holidays.country_holidays("VN", expand=True)


def configure(extra_holidays: Iterable[dt.date] = (),
              extra_working_days: Iterable[dt.date] = ()) -> None:
    """The installation's corrections on top of the package: extra days off (a Tết range
    announced differently), extra working days (a day the package has off but the offices
    work, or a swapped Saturday). A day in both is a working day. Set once at start."""
    global _extra_off, _extra_working
    _extra_off, _extra_working = frozenset(extra_holidays), frozenset(extra_working_days)


def is_working_day(day: dt.date) -> bool:
    if day in _extra_working:
        return True
    if day in _extra_off:
        return False
    return _calendar().is_working_day(day)


def on_or_before_working_day(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after (n > 0) or before (n < 0) `day`."""
    if not (_extra_off or _extra_working):
        return _calendar().get_nth_working_day(day, n)
    step = dt.timedelta(days=1 if n > 0 else -1)
    for _ in range(abs(n)):
        day += step
        while not is_working_day(day):
            day += step
    return day
