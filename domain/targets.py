"""A commune plan's targets (chỉ tiêu) and the report round that collects them.

A target has a unit (%, ‰, a count, a rate per 100.000 children, or yes/no), a rule that
says when it is met (≥, ≤, =, <, >, or "down": lower than last period), a target value per
year (Xuân Trường's plan gives 2026 and 2030), the agency responsible and whether an
agency reports it or the bot computes it from its own cases.

The round: each agency sends its part before the commune's internal collection date (10/11
in Xuân Trường). It opens N working days before that date; the bot chases the agencies not
done 3 and 1 working days before and on the day, and the day after tells the administrators
who is late. Plain Python: no Telegram, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import InvalidInput
from domain.workdays import add_working_days, on_or_before_working_day


class Unit(StrEnum):
    PERCENT = "%"
    PER_MILLE = "‰"
    COUNT = "count"
    PER_100K = "/100.000"
    YES_NO = "yes/no"


class Rule(StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="
    EQUAL = "="
    BELOW = "<"
    ABOVE = ">"
    DOWN = "down"  # lower than the last period


class Source(StrEnum):
    AGENCY = "agency"  # the responsible agency reports it in the round
    BOT = "bot"  # computed from the bot's own data (cases)


# The figures the bot can compute itself for a period (see services/rounds.py).
BOT_FIGURES = ("cases_received", "cases_urgent", "cases_closed",
               "cases_violence", "cases_sexual", "cases_neglect", "cases_labour",
               "cases_trafficking", "cases_marriage", "cases_dropout", "cases_injury",
               "cases_online", "cases_other")

# The largest value each unit allows (inclusive); all are ≥ 0.
_MAX = {Unit.PERCENT: 100.0, Unit.PER_MILLE: 1000.0, Unit.PER_100K: 100000.0,
        Unit.COUNT: 1_000_000.0, Unit.YES_NO: 1.0}
MAX_DECIMALS = 2
_NUMBER = re.compile(r"^[0-9]{1,7}(?:[.,][0-9]{1,2})?$")
# 1.250 = one thousand two hundred and fifty (never 1,25: a decimal has at most two digits),
# in any unit: "1.250" per 100.000 children, "1.000‰", "1.250,5".
_THOUSANDS = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]{1,2})?$")
_YES = {"co", "có", "yes", "y", "dat", "đạt", "1", "x"}
_NO = {"khong", "không", "ko", "k", "no", "n", "chua", "chưa", "chua dat", "chưa đạt", "0"}


def parse_value(unit: Unit, text: str) -> float:
    """The value typed for a target of this unit, or InvalidInput("target_value_invalid").

    Accepts a Vietnamese decimal comma ("98,5") or a point, an optional unit sign after the
    number ("95%", "4,8‰"), dots between thousands in any unit ("1.250", "1.000‰"; a value
    out of the unit's range, like "1.000" for a percentage, is refused), and for yes/no
    "có"/"không" (with or without diacritics)."""
    raw = " ".join(text.split()).strip().lower()
    if unit is Unit.YES_NO:
        if raw in _YES:
            return 1.0
        if raw in _NO:
            return 0.0
        raise InvalidInput("target_value_invalid")
    for sign in ("%", "‰", "/100.000", "/100000", "trẻ", "tre", "vụ", "vu"):
        if raw.endswith(sign):
            raw = raw[: -len(sign)].strip()
    if _THOUSANDS.match(raw):
        raw = raw.replace(".", "")
    if not _NUMBER.match(raw):
        raise InvalidInput("target_value_invalid")
    value = float(raw.replace(",", "."))
    check_value(unit, value)
    return value


def check_value(unit: Unit, value: float) -> None:
    """InvalidInput unless `value` fits the unit (0…100 for %, whole numbers for counts…)."""
    if value < 0 or value > _MAX[unit]:
        raise InvalidInput("target_value_invalid")
    if unit in (Unit.COUNT, Unit.YES_NO) and value != int(value):
        raise InvalidInput("target_value_invalid")
    if round(value, MAX_DECIMALS) != value:
        raise InvalidInput("target_value_invalid")


def format_value(unit: Unit, value: float | None) -> str:
    """98,5% · 4,8‰ · 1.250 · 550/100.000 · Có/Không ("" for no value). Vietnamese style."""
    if value is None:
        return ""
    if unit is Unit.YES_NO:
        return "Có" if value else "Không"
    if value == int(value):
        number = f"{int(value):,}".replace(",", ".")
    else:
        number = f"{value:.2f}".rstrip("0").replace(".", ",")
    if unit is Unit.COUNT:
        return number
    if unit is Unit.PER_100K:
        return f"{number}/100.000"
    return f"{number}{unit.value}"


def part_fingerprint(answers: dict[str, float], highlights: str | None,
                     difficulties: str | None) -> str:
    """Eight hex digits that change whenever an agency's part changes: the review screen's
    Send button carries them, so a part edited since (by another member of the agency, or
    an officer) is shown again instead of sent unseen."""
    content = json.dumps([sorted((answers or {}).items()), highlights, difficulties],
                         ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()[:8]


def part_started(answers: dict[str, float] | None, highlights: str | None,
                 difficulties: str | None) -> bool:
    """Something was saved in the part: until then the board says "not started" (opening
    the form alone starts nothing)."""
    return bool(answers) or highlights is not None or difficulties is not None


def target_fingerprint(values: dict | None, agency_id: int | None,
                       off_years: list[int] | None) -> str:
    """Eight hex digits that change whenever a target's editable state changes (its values,
    its agency, the years it is off): the editor's confirmation buttons carry them, so a
    confirmation made on a target changed since is not applied blindly."""
    content = json.dumps([sorted((str(k), float(v)) for k, v in (values or {}).items()),
                          agency_id, sorted(off_years or [])])
    return hashlib.sha256(content.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Target:
    code: str
    number: str  # as the plan numbers it: "1", "14", "3a"
    name: str  # the plan's wording
    unit: Unit
    rule: Rule
    values: dict[int, float] = field(default_factory=dict)  # year → target value
    agency: str | None = None  # the responsible agency's code
    source: Source = Source.AGENCY
    figure: str | None = None  # for Source.BOT: one of BOT_FIGURES
    title: str | None = None  # for a part of a target with several rates: the whole target

    def value_for(self, year: int) -> float | None:
        """The target value in force in `year`: the value set for the latest year not after
        it (a 2026 value holds until the 2030 one), or the first one set if all are later
        (a value set for 2030 only is what a 2026 report aims at)."""
        if not self.values:
            return None
        earlier = [y for y in self.values if y <= year]
        return self.values[max(earlier)] if earlier else self.values[min(self.values)]


def is_met(rule: Rule, value: float | None, target: float | None,
           last: float | None = None) -> bool | None:
    """Whether `value` meets the target; None when it cannot be told (no value, no target
    value, or for "down" no last period)."""
    if value is None:
        return None
    if rule is Rule.DOWN:
        return None if last is None else value < last
    if target is None:
        return None
    if rule is Rule.AT_LEAST:
        return value >= target
    if rule is Rule.AT_MOST:
        return value <= target
    if rule is Rule.BELOW:
        return value < target
    if rule is Rule.ABOVE:
        return value > target
    return value == target


def rule_text(rule: Rule, unit: Unit, target: float | None) -> str:
    """"≥ 90%", "< 5‰", "= Có", "giảm so với kỳ trước": how the target reads in a table."""
    if rule is Rule.DOWN:
        return "giảm so với kỳ trước"
    sign = {Rule.AT_LEAST: "≥", Rule.AT_MOST: "≤", Rule.EQUAL: "=", Rule.BELOW: "<",
            Rule.ABOVE: ">"}[rule]
    return f"{sign} {format_value(unit, target)}" if target is not None else ""


# --- the round's dates ---------------------------------------------------------------------

CHASE_BEFORE = (3, 1, 0)  # working days before the collection date the bot chases


class Stage(StrEnum):
    """What the round's scheduled job sends, in order."""

    OPEN = "open"  # the request
    D3 = "d3"  # chasers
    D1 = "d1"
    D0 = "d0"
    LATE = "late"  # the administrators are told who is late


@dataclass(frozen=True)
class RoundDates:
    due: dt.date  # the collection date, moved back to a working day
    opens: dt.date
    chasers: tuple[tuple[Stage, dt.date], ...]
    late: dt.date  # the first working day after the due date

    def stages_due(self, today: dt.date) -> list[Stage]:
        """Every stage whose day has come by `today` (the job sends each once)."""
        stages = [Stage.OPEN] if today >= self.opens else []
        stages += [stage for stage, day in self.chasers if today >= day]
        if today >= self.late:
            stages.append(Stage.LATE)
        return stages

    def current_chaser(self, today: dt.date) -> Stage | None:
        """The latest chaser due by `today`, before the round is late (older chasers that a
        stopped bot missed are not sent in a burst: only the current one)."""
        if today >= self.late:
            return None
        due = [stage for stage, day in self.chasers if today >= day]
        return due[-1] if due else None


def round_dates(collect_on: dt.date, open_working_days: int) -> RoundDates:
    """The round for an internal collection date: opens `open_working_days` working days
    before it; chasers 3 and 1 working days before and on the day; late the working day
    after. A collection date on a holiday or weekend counts as the working day before."""
    if not 1 <= open_working_days <= 60:
        raise InvalidInput("open_days_invalid")
    due = on_or_before_working_day(collect_on)
    chasers = tuple((stage, add_working_days(due, -n) if n else due)
                    for stage, n in zip((Stage.D3, Stage.D1, Stage.D0), CHASE_BEFORE,
                                        strict=True))
    opens = add_working_days(due, -open_working_days)
    return RoundDates(due=due, opens=opens, chasers=chasers, late=add_working_days(due, 1))


@dataclass(frozen=True)
class RoundSpec:
    """A report the commune collects for: the 6-month, the annual, or a one-off."""

    code: str
    name: str
    collect_by: str  # a calendar date rule: "10/11", "5 ngày làm việc trước 20/5"
    open_working_days: int = 10
    period: str | None = None  # "6m" | "year": the figures' period (domain.periods)
    year: int | None = None  # a one-off report: only this year


def collect_date(spec: RoundSpec, year: int) -> dt.date:
    """The internal collection date of `spec` in `year` (a rule such as "10/11" or
    "5 ngày làm việc trước 15/11")."""
    from domain.calendar import DateRule  # the calendar's date rules, shared

    return DateRule.parse(spec.collect_by).occurrence(year)[0]
