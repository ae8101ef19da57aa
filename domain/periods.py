"""Reporting periods: which days a set of figures covers.

The commune reports up twice a year (the seed plans: "Báo cáo 6 tháng trước ngày 20/5;
Báo cáo năm trước ngày 15/11"). The plans give only the deadlines; the figures are closed a
few days before each deadline, on the 14th, and each period starts on the 15th after the
previous closing (the "15th to 14th" closing convention of Decree 09/2019/NĐ-CP on
government reports, moved to the child-protection calendar):

- the 6-month report of year Y (due 20/5/Y) covers 15/11/(Y-1) – 14/5/Y;
- the annual report of year Y (due 15/11/Y) covers 15/11/(Y-1) – 14/11/Y, so the annual
  report includes the 6-month one and two consecutive annual reports never overlap.

Besides those, figures can be asked for the calendar year, the previous month, or any
range of dates. Nothing here knows about Telegram or the database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidInput


class PeriodKind(StrEnum):
    SIX_MONTH = "6m"  # the 6-month report (báo cáo 6 tháng)
    ANNUAL = "year"  # the annual report (báo cáo năm)
    CALENDAR_YEAR = "cy"  # 1/1 – 31/12
    MONTH = "month"  # one calendar month
    CUSTOM = "custom"  # any range of dates


REPORT_KINDS = (PeriodKind.SIX_MONTH, PeriodKind.ANNUAL)
# Deadlines when a commune has not set its own (day, month).
DEFAULT_DEADLINES = {PeriodKind.SIX_MONTH: (20, 5), PeriodKind.ANNUAL: (15, 11)}
CLOSING_DAY = 14  # figures are closed on the 14th of the deadline's month
MAX_CUSTOM_DAYS = 5 * 366


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: dt.date
    end: dt.date  # inclusive
    year: int | None = None  # the report's year (6-month and annual reports)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("period_invalid")

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) the period touches, in order."""
        found, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def bounds(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: from local midnight of the first day to local midnight
        after the last."""
        lo = dt.datetime.combine(self.start, dt.time(), tzinfo=tz)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)

    def key(self) -> tuple[str, str, str]:
        """(kind, start, end) as short strings, for a button's data."""
        return str(self.kind), self.start.strftime("%Y%m%d"), self.end.strftime("%Y%m%d")

    @classmethod
    def from_key(cls, kind: str, start: str, end: str) -> Period:
        try:
            first = dt.datetime.strptime(start, "%Y%m%d").date()
            last = dt.datetime.strptime(end, "%Y%m%d").date()
            period_kind = PeriodKind(kind)
        except ValueError:
            raise InvalidInput("period_invalid") from None
        if period_kind in REPORT_KINDS:
            return report_period(period_kind, last.year)
        return cls(period_kind, first, last)


def report_period(kind: PeriodKind, year: int) -> Period:
    """The days the 6-month or annual report of `year` covers."""
    start = dt.date(year - 1, 11, 15)
    if kind is PeriodKind.SIX_MONTH:
        return Period(kind, start, dt.date(year, 5, CLOSING_DAY), year)
    if kind is PeriodKind.ANNUAL:
        return Period(kind, start, dt.date(year, 11, CLOSING_DAY), year)
    raise ValueError(kind)


def default_deadline(kind: PeriodKind, year: int) -> dt.date:
    day, month = DEFAULT_DEADLINES[kind]
    return dt.date(year, month, day)


DeadlineOf = Callable[[PeriodKind, int], dt.date]


def next_report(today: dt.date, deadline_of: DeadlineOf = default_deadline) -> Period:
    """The report whose deadline is next (today's deadline counts as next)."""
    candidates = [(deadline_of(kind, year), kind, year)
                  for year in (today.year, today.year + 1) for kind in REPORT_KINDS]
    _deadline, kind, year = min(c for c in candidates if c[0] >= today)
    return report_period(kind, year)


def report_for_deadline(kind: PeriodKind, deadline: dt.date) -> Period:
    """The period of the report due on `deadline` (a reminder's date)."""
    return report_period(kind, deadline.year)


def calendar_year(year: int) -> Period:
    return Period(PeriodKind.CALENDAR_YEAR, dt.date(year, 1, 1), dt.date(year, 12, 31), year)


def month(year: int, month_number: int) -> Period:
    last = calendar.monthrange(year, month_number)[1]
    return Period(PeriodKind.MONTH, dt.date(year, month_number, 1),
                  dt.date(year, month_number, last))


def last_month(today: dt.date) -> Period:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return month(first.year, first.month)


def custom(start: dt.date, end: dt.date) -> Period:
    if end < start or (end - start).days > MAX_CUSTOM_DAYS:
        raise InvalidInput("period_invalid")
    return Period(PeriodKind.CUSTOM, start, end)


# --- what an officer types after /stats ------------------------------------------------------

_DATE = r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
_RANGE = re.compile(rf"^{_DATE}\s*(?:-|–|—|đến|den|to|\s)\s*{_DATE}$", re.IGNORECASE)
_WORDS = {
    PeriodKind.SIX_MONTH: {"6m", "6thang", "baocao6thang", "sixmonth", "6month", "6months"},
    PeriodKind.ANNUAL: {"year", "nam", "baocaonam", "annual", "canam"},
    PeriodKind.CALENDAR_YEAR: {"thisyear", "namnay", "calendaryear", "namduonglich"},
    PeriodKind.MONTH: {"lastmonth", "thangtruoc"},
}


def _plain(text: str) -> str:
    """Lower case, no diacritics, no spaces or dashes: 'Báo cáo 6 tháng' → 'baocao6thang'."""
    text = text.lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s_-]+", "", text)


def _date(day: str, month_number: str, year: str) -> dt.date:
    try:
        return dt.date(int(year), int(month_number), int(day))
    except ValueError:
        raise InvalidInput("period_invalid") from None


def parse_period(text: str, today: dt.date, deadline_of: DeadlineOf = default_deadline) -> Period:
    """The period an officer asked for: nothing (the report due next), '6 tháng [năm]',
    'năm [năm]', 'năm nay', 'tháng trước', or '1/1/2026-31/3/2026'. InvalidInput otherwise.

    A report named without a year is the latest one whose period has begun (on 1/7 the
    6-month report just handed in; from 15/11 on, the next year's).
    """
    text = text.strip()
    if not text:
        return next_report(today, deadline_of)
    if match := _RANGE.match(text):
        g = match.groups()
        return custom(_date(*g[:3]), _date(*g[3:]))
    plain = _plain(text)
    year_match = re.search(r"(\d{4})$", plain)
    year = int(year_match.group(1)) if year_match else None
    word = plain[: year_match.start()] if year_match else plain
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("period_invalid")
    for kind, words in _WORDS.items():
        if word not in words:
            continue
        if kind in REPORT_KINDS:
            if year is None:
                year = today.year + 1 if today >= report_period(kind, today.year + 1).start \
                    else today.year
            return report_period(kind, year)
        if kind is PeriodKind.CALENDAR_YEAR:
            return calendar_year(year or today.year)
        if year is None:
            return last_month(today)
    raise InvalidInput("period_invalid")
