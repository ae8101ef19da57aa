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

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import InvalidInput
from domain.lunar import in_gregorian_year, to_lunar, to_solar
from domain.workdays import add_working_days, on_or_before_working_day


class EventKind(StrEnum):
    REPORT_DEADLINE = "report_deadline"
    CAMPAIGN = "campaign"
    OBSERVANCE = "observance"


_DAY_MONTH = r"(\d{1,2})\s*/\s*(\d{1,2})"
_YEAR = r"\s*/\s*(\d{4})"
_FIXED = re.compile(rf"^{_DAY_MONTH}$")
_ONCE = re.compile(rf"^{_DAY_MONTH}{_YEAR}$")
_RANGE = re.compile(rf"^{_DAY_MONTH}\s*[-–]\s*{_DAY_MONTH}$")
_LUNAR = re.compile(rf"^{_DAY_MONTH}\s*(?:am lich|al|lunar)$")
_LUNAR_END = re.compile(r"^(?:ngay )?cuoi thang (\d{1,2}) (?:am lich|al|lunar)$")
_BEFORE = re.compile(
    rf"^(\d{{1,2}})\s*(?:ngay lam viec truoc|working days? before)\s*{_DAY_MONTH}$")
_BY = re.compile(rf"^(?:truoc|before)(?: ngay)?\s*{_DAY_MONTH}(?:{_YEAR})?$")
_EVERY = r"(?:hang|moi)"
_MONTHLY = re.compile(
    rf"^(?:ngay )?(\d{{1,2}}|cuoi) (?:{_EVERY} thang|thang)$|^monthly (\d{{1,2}}|last)$")
_QUARTER_POSITION = {"dau": 1, "giua": 2, "cuoi": 3, "first": 1, "middle": 2, "last": 3}
_QUARTERLY = re.compile(
    rf"^(?:ngay )?(\d{{1,2}}|cuoi) thang (dau|giua|cuoi) (?:{_EVERY} quy|quy)$"
    rf"|^(?:{_EVERY} quy|quarterly) (\d{{1,2}}|cuoi|last)\s*/\s*([123])$")
LAST_DAY = 31  # "ngày cuối": the last day of each month, whatever its length

RULE_KINDS = ("fixed", "range", "lunar", "lunar_end", "before", "by", "once", "monthly",
              "quarterly")


def plain_words(text: str) -> str:
    """Lower case without diacritics and with single spaces ('Tắt' → 'tat')."""
    return _plain(text)


def _plain(text: str) -> str:
    """Lower case without diacritics, so 'âm lịch', 'Âm Lịch' and 'am lich' all match."""
    text = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    return re.sub(r"\s+", " ", "".join(ch for ch in text if unicodedata.category(ch) != "Mn"))


def _check_day_month(day: int, month: int, *, lunar: bool = False) -> tuple[int, int]:
    limit = 30 if lunar else (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    if not (1 <= month <= 12 and 1 <= day <= limit):
        raise InvalidInput("date_rule_invalid")
    return day, month


def _day_of_month(token: str) -> int:
    day = LAST_DAY if token in ("cuoi", "last") else int(token)
    if not 1 <= day <= 31:
        raise InvalidInput("date_rule_invalid")
    return day


@dataclass(frozen=True)
class DateRule:
    """A parsed date rule; `text` is what the officer wrote.

    `before_includes_day` is the commune's reading of "trước ngày 20/5": False (the default,
    as the words read) makes 19/5 the last day to hand in; True makes it 20/5."""

    text: str
    kind: str  # one of RULE_KINDS
    day: int
    month: int
    end_day: int | None = None
    end_month: int | None = None
    working_days: int | None = None
    year: int | None = None  # a one-off date ("31/12/2030", "trước 15/11/2030")
    before_includes_day: bool = False

    @classmethod
    def parse(cls, text: str, *, before_includes_day: bool = False) -> DateRule:
        plain = _plain(text)
        text = text.strip()
        if m := _FIXED.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]))
            return cls(text, "fixed", day, month)
        if m := _ONCE.match(plain):
            day, month, year = _one_off(int(m[1]), int(m[2]), int(m[3]))
            return cls(text, "once", day, month, year=year)
        if m := _RANGE.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]))
            end_day, end_month = _check_day_month(int(m[3]), int(m[4]))
            return cls(text, "range", day, month, end_day, end_month)
        if m := _LUNAR.match(plain):
            day, month = _check_day_month(int(m[1]), int(m[2]), lunar=True)
            if day == 30:  # not every lunar month has a 30th: say so (LunarDayMissing)
                raise LunarDayMissing(month)
            return cls(text, "lunar", day, month)
        if m := _LUNAR_END.match(plain):
            _day, month = _check_day_month(1, int(m[1]), lunar=True)
            return cls(text, "lunar_end", 30, month)
        if m := _BEFORE.match(plain):
            n = int(m[1])
            day, month = _check_day_month(int(m[2]), int(m[3]))
            if not 1 <= n <= 60:
                raise InvalidInput("date_rule_invalid")
            return cls(text, "before", day, month, working_days=n)
        if m := _BY.match(plain):
            if m[3]:
                day, month, year = _one_off(int(m[1]), int(m[2]), int(m[3]))
            else:
                (day, month), year = _check_day_month(int(m[1]), int(m[2])), None
            return cls(text, "by", day, month, year=year,
                       before_includes_day=before_includes_day)
        if m := _MONTHLY.match(plain):
            return cls(text, "monthly", _day_of_month(m[1] or m[2]), 1)
        if m := _QUARTERLY.match(plain):
            if m[1]:
                return cls(text, "quarterly", _day_of_month(m[1]), _QUARTER_POSITION[m[2]])
            return cls(text, "quarterly", _day_of_month(m[3]), int(m[4]))
        raise InvalidInput("date_rule_invalid")

    @property
    def repeats_in_year(self) -> bool:
        return self.kind in ("monthly", "quarterly")

    def occurrences(self, year: int) -> list[tuple[int, dt.date, dt.date]]:
        """(sequence number, first day, last day) of every occurrence in Gregorian `year`:
        one (number 0) for a yearly rule, twelve for a monthly one (numbered by month), four
        for a quarterly one (numbered by quarter), none for a one-off date of another year."""
        if self.kind == "monthly":
            return [(m, d, d) for m in range(1, 13) if (d := _clamped(year, m, self.day))]
        if self.kind == "quarterly":
            return [(q, d, d) for q in range(1, 5)
                    if (d := _clamped(year, 3 * (q - 1) + self.month, self.day))]
        if self.year is not None and self.year != year:
            return []
        return [(0, *self.occurrence(year))]

    def occurrence(self, year: int) -> tuple[dt.date, dt.date]:
        """(first day, last day) of the (first) occurrence in Gregorian `year`. For a
        "trước ngày" rule this is the last day to hand in (see `deadline_day`)."""
        if self.kind in ("monthly", "quarterly"):
            _seq, first, last = self.occurrences(year)[0]
            return first, last
        if self.kind == "lunar":
            day = in_gregorian_year(self.day, self.month, year)
            return day, day
        if self.kind == "lunar_end":
            day = last_day_of_lunar_month(self.month, year)
            return day, day
        start = _safe_date(self.year or year, self.month, self.day)
        if self.kind == "by" and not self.before_includes_day:
            start -= dt.timedelta(days=1)
            return start, start
        if self.kind == "before":
            start = add_working_days(start, -self.working_days)
            return start, start
        if self.kind == "range":
            end = _safe_date(year, self.end_month, self.end_day)
            if end < start:  # 15/11-15/12 stays in one year; 20/12-5/1 runs into the next
                end = _safe_date(year + 1, self.end_month, self.end_day)
            return start, end
        return start, start

    def occurrences_between(self, start: dt.date, end: dt.date,
                            ) -> list[tuple[int, int, dt.date, dt.date]]:
        """(year, sequence number, first day, last day) of every occurrence on in [start, end]."""
        found = []
        for year in range(start.year - 1, end.year + 1):
            for seq, first, last in self.occurrences(year):
                if last >= start and first <= end:
                    found.append((year, seq, first, last))
        return found

    def next_after(self, today: dt.date) -> tuple[dt.date, dt.date] | None:
        """The first occurrence not over by `today` (a deadline day still counts); None for
        a one-off date already past."""
        years = [self.year] if self.year else range(today.year - 1, today.year + 2)
        for year in years:
            for _seq, first, last in self.occurrences(year):
                if last >= today:
                    return first, last
        return None


class LunarDayMissing(InvalidInput):
    """"30/N âm lịch": lunar month N has 29 days in some years, and a 30th that does not
    exist would silently become the 1st of the next month (30/12 → Tết)."""

    def __init__(self, month: int) -> None:
        super().__init__("lunar_day_missing")
        self.month = month


def last_day_of_lunar_month(month: int, year: int) -> dt.date:
    """The last day (29th or 30th) of lunar month `month` (the ordinary month, not a leap
    one) that ends in Gregorian `year`: "cuối tháng 12 âm lịch" is the eve of Tết."""
    for lunar_year in (year, year - 1, year + 1):
        thirtieth = to_solar(1, month, lunar_year) + dt.timedelta(days=29)
        last = thirtieth if to_lunar(thirtieth).day == 30 else thirtieth - dt.timedelta(days=1)
        if last.year == year:
            return last
    raise ValueError(f"lunar month {month} does not end in {year}")  # pragma: no cover


def _one_off(day: int, month: int, year: int) -> tuple[int, int, int]:
    day, month = _check_day_month(day, month)
    if not 2000 <= year <= 2100:
        raise InvalidInput("date_rule_invalid")
    try:
        dt.date(year, month, day)
    except ValueError:  # 29/2 of a common year
        raise InvalidInput("date_rule_invalid") from None
    return day, month, year


def _clamped(year: int, month: int, day: int) -> dt.date:
    """Day `day` of a month, or its last day when the month is shorter (31 → 30/4, 28/2)."""
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, last))


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
    active: bool = True  # a commune can switch an event off (set-up file or /event CODE tắt)


def reminder_days(spec: EventSpec, year: int) -> list[tuple[int, dt.date]]:
    """(lead, day to send) for the (first) occurrence in `year`, each moved back to a
    working day."""
    start, _end = spec.rule.occurrence(year)
    return _leads(spec, start)


def _leads(spec: EventSpec, start: dt.date) -> list[tuple[int, dt.date]]:
    return [(lead, on_or_before_working_day(start - dt.timedelta(days=lead)))
            for lead in sorted(set(spec.lead_days), reverse=True)]


@dataclass(frozen=True)
class PlannedReminder:
    seq: int  # which occurrence of the year (0 for a yearly event, the month, the quarter)
    starts_on: dt.date
    ends_on: dt.date
    lead_days: int
    day: dt.date  # the working day it is sent on


def planned_reminders(spec: EventSpec, year: int) -> list[PlannedReminder]:
    """Every reminder of every occurrence of `spec` in `year` (none when switched off)."""
    if not spec.active:
        return []
    return [PlannedReminder(seq, start, end, lead, day)
            for seq, start, end in spec.rule.occurrences(year)
            for lead, day in _leads(spec, start)]


@dataclass(frozen=True)
class HandIn:
    """What a "trước ngày D/M" deadline means for the person handing in."""

    named_day: dt.date  # the day the plan names (20/5)
    last_day: dt.date  # the last day to hand in (19/5, or 20/5 if the commune counts it)
    last_working_day: dt.date  # `last_day`, or the working day before it if it is a day off


def hand_in(rule: DateRule, last_day: dt.date) -> HandIn | None:
    """For a "trước ngày" rule, the days a reminder names; None for other rules."""
    if rule.kind != "by":
        return None
    named = last_day if rule.before_includes_day else last_day + dt.timedelta(days=1)
    return HandIn(named, last_day, on_or_before_working_day(last_day))


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


REPORT_TO = "{report_to}"


def fill_message(message: str, report_to: str) -> str:
    """The event's message with the commune's own recipient in place of {report_to} (plain
    replacement: a message may hold other braces)."""
    return message.replace(REPORT_TO, report_to)
