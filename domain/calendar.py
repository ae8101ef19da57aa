"""The year's events and report deadlines: date rules, occurrences, reminder days.

A date rule is written the way officers write dates:
  "20/5"                         a fixed day
  "1/6-30/6"                     a range (Tháng hành động vì trẻ em)
  "15/8 âm lịch" or "15/8 AL"    a lunar day (Tết Trung thu), computed for UTC+7
  "5 ngày làm việc trước 20/5"   n working days before a fixed day
                                 (also "5 working days before 20/5")
A reminder that would fall on a weekend or public holiday moves to the working day before.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import InvalidInput
from domain.lunar import in_gregorian_year
from domain.workdays import add_working_days, on_or_before_working_day


class EventKind(StrEnum):
    REPORT_DEADLINE = "report_deadline"
    CAMPAIGN = "campaign"
    OBSERVANCE = "observance"


_DAY_MONTH = r"(\d{1,2})\s*/\s*(\d{1,2})"
_FIXED = re.compile(rf"^{_DAY_MONTH}$")
_RANGE = re.compile(rf"^{_DAY_MONTH}\s*[-–]\s*{_DAY_MONTH}$")
_LUNAR = re.compile(rf"^{_DAY_MONTH}\s*(?:am lich|al|lunar)$")
_BEFORE = re.compile(
    rf"^(\d{{1,2}})\s*(?:ngay lam viec truoc|working days? before)\s*{_DAY_MONTH}$")


def _plain(text: str) -> str:
    """Lower case without diacritics, so 'âm lịch', 'Âm Lịch' and 'am lich' all match."""
    text = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    return re.sub(r"\s+", " ", "".join(ch for ch in text if unicodedata.category(ch) != "Mn"))


def _check_day_month(day: int, month: int, *, lunar: bool = False) -> tuple[int, int]:
    limit = 30 if lunar else (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    if not (1 <= month <= 12 and 1 <= day <= limit):
        raise InvalidInput("date_rule_invalid")
    return day, month


@dataclass(frozen=True)
class DateRule:
    """A parsed date rule; `text` is what the officer wrote."""

    text: str
    kind: str  # fixed | range | lunar | before
    day: int
    month: int
    end_day: int | None = None
    end_month: int | None = None
    working_days: int | None = None

    @classmethod
    def parse(cls, text: str) -> DateRule:
        plain = _plain(text)
        if m := _FIXED.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]))
            return cls(text.strip(), "fixed", day, month)
        if m := _RANGE.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]))
            end_day, end_month = _check_day_month(int(m[3]), int(m[4]))
            return cls(text.strip(), "range", day, month, end_day, end_month)
        if m := _LUNAR.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]), lunar=True)
            return cls(text.strip(), "lunar", day, month)
        if m := _BEFORE.match(plain):
            n = int(m[1])
            day, month = _check_day_month(int(m[2]), int(m[3]))
            if not 1 <= n <= 60:
                raise InvalidInput("date_rule_invalid")
            return cls(text.strip(), "before", day, month, working_days=n)
        raise InvalidInput("date_rule_invalid")

    def occurrence(self, year: int) -> tuple[dt.date, dt.date]:
        """(first day, last day) of the event in Gregorian `year`."""
        if self.kind == "lunar":
            day = in_gregorian_year(self.day, self.month, year)
            return day, day
        start = _safe_date(year, self.month, self.day)
        if self.kind == "before":
            start = add_working_days(start, -self.working_days)
            return start, start
        if self.kind == "range":
            end = _safe_date(year, self.end_month, self.end_day)
            if end < start:  # 15/11-15/12 stays in one year; 20/12-5/1 runs into the next
                end = _safe_date(year + 1, self.end_month, self.end_day)
            return start, end
        return start, start


def _safe_date(year: int, month: int, day: int) -> dt.date:
    """29/2 in a common year is the 28th."""
    if month == 2 and day == 29:
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return dt.date(year, month, day)


@dataclass(frozen=True)
class EventSpec:
    code: str
    name: str
    kind: EventKind
    rule: DateRule
    lead_days: tuple[int, ...] = (7, 1, 0)
    audience: tuple[str, ...] = ("all",)
    message: str = ""
    report_period: str | None = None  # "6m" | "year": the report this deadline is for


def reminder_days(spec: EventSpec, year: int) -> list[tuple[int, dt.date]]:
    """(lead, day to send) for the occurrence in `year`, each moved back to a working day."""
    start, _end = spec.rule.occurrence(year)
    days = []
    for lead in sorted(set(spec.lead_days), reverse=True):
        days.append((lead, on_or_before_working_day(start - dt.timedelta(days=lead))))
    return days


def send_moment(day: dt.date, hour: int, minute: int, tz: dt.tzinfo) -> dt.datetime:
    """The sending time of a reminder day, in UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).astimezone(dt.UTC)


AUDIENCE_ALL = "all"


@dataclass(frozen=True)
class Recipient:
    """What the calendar needs to know about a subscribed chat to match an audience."""

    agency_kind: str | None = None
    role: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)


def matches(audience: tuple[str, ...], recipient: Recipient) -> bool:
    """Does an event for `audience` (agency kinds, roles, or "all") reach this recipient?"""
    if AUDIENCE_ALL in audience:
        return True
    wanted = set(audience)
    return bool(wanted & ({recipient.agency_kind, recipient.role} | recipient.tags) - {None})
