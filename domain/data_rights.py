"""People's rights over their data, and the access report an inspector asks for.

Plain rules, no Telegram: when a request must be answered by, which audit actions count as
"viewed or exported", and the period an administrator types after /truycap.
"""

from __future__ import annotations

import datetime as dt
import re

from domain.errors import InvalidInput
from domain.periods import Period, custom
from domain.workdays import add_working_days

# The kinds of request a person makes through the chat.
VIEW = "view"
WITHDRAW = "withdraw"

# The consent recorded with a report, from the notice shown before the name and phone.
CONSENT_GIVEN = "given"
CONSENT_DECLINED = "declined"

DEFAULT_ACCESS_DAYS = 30
MAX_ACCESS_DAYS = 366


def answer_due(received_at: dt.datetime, working_days: int, tz: dt.tzinfo) -> dt.datetime:
    """The end (local 17:00) of the `working_days`-th working day after the request came."""
    day = add_working_days(received_at.astimezone(tz).date(), working_days)
    return dt.datetime.combine(day, dt.time(17, 0), tzinfo=tz).astimezone(dt.UTC)


def is_access(action: str) -> bool:
    """Whether an audit action is someone reading or taking out data (not changing it):
    `case_viewed`, `case_form_exported`, `stats_exported`, `audit_viewed`, … and the
    register's `*_viewed` / `*_exported` as they come."""
    return action.endswith(("_viewed", "_exported"))


_DATE = r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
_RANGE = re.compile(rf"^{_DATE}\s*(?:-|–|—|đến|den|to|\s)\s*{_DATE}$", re.IGNORECASE)
_DAYS = re.compile(r"^(\d{1,3})\s*(?:ngày|ngay|days?|d)?$", re.IGNORECASE)


def _date(day: str, month: str, year: str) -> dt.date:
    try:
        found = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidInput("period_invalid") from None
    if not 2000 <= found.year <= 2100:
        raise InvalidInput("period_invalid")
    return found


def last_days(today: dt.date, days: int) -> Period:
    """The `days` days up to and including today."""
    if not 1 <= days <= MAX_ACCESS_DAYS:
        raise InvalidInput("period_invalid")
    return custom(today - dt.timedelta(days=days - 1), today)


def parse_access_period(text: str, today: dt.date) -> Period:
    """Nothing: the last 30 days; "7" or "90 ngày": that many days; "1/11/2026 30/11/2026":
    those days, both included, at most a year. InvalidInput otherwise."""
    text = (text or "").strip()
    if not text:
        return last_days(today, DEFAULT_ACCESS_DAYS)
    if match := _DAYS.match(text):
        return last_days(today, int(match.group(1)))
    if match := _RANGE.match(text):
        g = match.groups()
        start, end = _date(*g[:3]), _date(*g[3:])
        if end < start or (end - start).days >= MAX_ACCESS_DAYS:
            raise InvalidInput("period_invalid")
        return custom(start, end)
    raise InvalidInput("period_invalid")
