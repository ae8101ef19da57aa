"""Working days in Vietnam: weekends and public holidays (Tết, 30/4, 1/5, 2/9...) are off,
and a Saturday the government swapped into a working day counts as one. All from the
maintained `holidays` package, which includes Tết and substitute days."""

from __future__ import annotations

import datetime as dt
import functools

import holidays


@functools.cache
def _calendar() -> holidays.HolidayBase:
    # expand=True fills in each year the first time a date of it is asked.
    return holidays.country_holidays("VN", expand=True)


def is_working_day(day: dt.date) -> bool:
    return _calendar().is_working_day(day)



def on_or_before_working_day(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after (n > 0) or before (n < 0) `day`."""
    return _calendar().get_nth_working_day(day, n)

