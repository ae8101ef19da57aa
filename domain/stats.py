"""Rules behind the report figures: what counts as "assessed in time", how working days to
the support plan are counted, medians and shares. The counting itself is done by the
database (storage/stats.py); this module only decides what the numbers mean."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Mapping

from domain.workdays import is_working_day

# How reports reach the commune: citizens through the bot, officers open the others.
CHANNELS = ("telegram", "phone", "school", "direct", "agency", "other")
# The figure "assessed within 12 hours" for urgent reports. Local practice: the decree's 12
# hours are for emergency intervention (Decree 56/2017, Điều 26.3); assessing an urgent report
# within the same 12 hours is this installation's default (TREEM_ASSESS_HOURS_URGENT).
URGENT_ASSESSMENT = dt.timedelta(hours=12)
# The support plan is due within 5 working days of receipt (Decree 56/2017, Điều 28.1;
# domain/cases.py), urgent cases excepted.
PLAN_WORKING_DAYS = 5
NO_RISK = "none"  # cases whose risk has not been assessed yet
NO_VILLAGE = 0  # reports placed by address or location only


@functools.cache
def _year_cumulative(year: int) -> tuple[int, ...]:
    """Working days of `year` from 1/1 up to each day: item i is for day-of-year i+1."""
    day, total, table = dt.date(year, 1, 1), 0, []
    while day.year == year:
        total += is_working_day(day)
        table.append(total)
        day += dt.timedelta(days=1)
    return tuple(table)


@functools.cache
def _before_year(year: int) -> int:
    """Working days from 1/1/2000 to the end of year-1 (negative before 2000)."""
    if year == 2000:
        return 0
    if year > 2000:
        return _before_year(year - 1) + _year_cumulative(year - 1)[-1]
    return _before_year(year + 1) - _year_cumulative(year)[-1]


def _index(day: dt.date) -> int:
    return _before_year(day.year) + _year_cumulative(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(received: dt.date, done: dt.date) -> int:
    """Working days after the day of receipt up to and including the day it was done: the
    same day is 0, the next working day 1. A plan due "within 5 working days" was in time
    when this is at most 5."""
    if done <= received:
        return 0
    return _index(done) - _index(received)


def working_days_to(received_at: dt.datetime, done_at: dt.datetime, tz: dt.tzinfo) -> int:
    return working_days_between(received_at.astimezone(tz).date(), done_at.astimezone(tz).date())


def median(values: Mapping[int, int] | Iterable[int]) -> float | None:
    """The median of the values (a Counter of value → how many, or the values), None if none."""
    counts = Counter(values) if not isinstance(values, Mapping) else values
    n = sum(counts.values())
    if n == 0:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # the k-th smallest value, 0-based
        seen = 0
        for value, count in ordered:
            seen += count
            if k < seen:
                return value
        raise IndexError(k)

    if n % 2:
        return float(nth(n // 2))
    return (nth(n // 2 - 1) + nth(n // 2)) / 2


def share(part: int, whole: int) -> float | None:
    """part/whole as a fraction, None when there is nothing to divide."""
    return part / whole if whole else None


def assessed_in_time(received_at: dt.datetime, assessed_at: dt.datetime | None) -> bool:
    return assessed_at is not None and assessed_at - received_at <= URGENT_ASSESSMENT
