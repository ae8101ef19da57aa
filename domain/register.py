"""The register of children in special circumstances (danh sách trẻ em có hoàn cảnh đặc
biệt): what a record holds, its life (active → left, with a reason), the support a child
receives, dates of birth as villages write them, turning 16, and duplicate matching.

Plain rules, no Telegram, no SQL. The Law on Children 2016 (Điều 1) makes a child anyone
under 16, so a record leaves the register on the 16th birthday.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.cases import SpecialGroup
from domain.errors import InvalidInput
from domain.names import fold
from domain.text import visible_strip
from domain.workdays import is_working_day

CHILD_AGE_LIMIT = 16  # Điều 1, Luật Trẻ em 2016
MAX_NAME = 100
MAX_TEXT = 500


class ChildStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class LeaveReason(StrEnum):
    TURNED_16 = "turned_16"
    MOVED_AWAY = "moved_away"  # with the destination commune
    CIRCUMSTANCES_ENDED = "ended"
    DECEASED = "deceased"
    DUPLICATE = "duplicate"


# Reasons a person chooses (turning 16 is recorded by the bot on the birthday).
CHOSEN_REASONS = (LeaveReason.MOVED_AWAY, LeaveReason.CIRCUMSTANCES_ENDED,
                  LeaveReason.DECEASED, LeaveReason.DUPLICATE)
# Reasons that need a typed note: where the child moved to.
NOTE_REQUIRED = frozenset({LeaveReason.MOVED_AWAY})


class SupportKind(StrEnum):
    SOCIAL_ASSISTANCE = "allowance"  # trợ cấp xã hội hằng tháng
    HEALTH_INSURANCE = "bhyt"  # thẻ BHYT
    BIRTH_REGISTRATION = "birth"  # đăng ký khai sinh, giấy tờ cư trú
    SCHOOL_FEES = "school"  # miễn, giảm học phí
    OTHER = "other"  # hỗ trợ khác (ghi rõ)


class SupportStatus(StrEnum):
    MISSING = "missing"  # chưa có
    APPLIED = "applied"  # đang làm hồ sơ
    HAS = "has"  # đã có
    NOT_ELIGIBLE = "not_eligible"  # không thuộc diện


# The order a tap on a support button goes through (a phone: one button per kind).
_CYCLE = (SupportStatus.MISSING, SupportStatus.APPLIED, SupportStatus.HAS,
          SupportStatus.NOT_ELIGIBLE)


def next_support_status(current: SupportStatus | str | None) -> SupportStatus:
    """The status after one more tap (no status yet: "missing" is the first)."""
    if current is None:
        return _CYCLE[0]
    index = _CYCLE.index(SupportStatus(current))
    return _CYCLE[(index + 1) % len(_CYCLE)]


# --- dates of birth ---------------------------------------------------------------------


@dataclass(frozen=True)
class Birth:
    """A date of birth, or only the year when the family does not know the day."""

    year: int
    date: dt.date | None = None

    @property
    def exact(self) -> bool:
        return self.date is not None


_FULL = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})")
_WORDS = re.compile(r"(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:năm\s+|[/.,\-]\s*)?(\d{4}|\d{2})")
_YEAR = re.compile(r"(?:năm\s*)?(\d{4})", re.IGNORECASE)
_LEAD = re.compile(r"^(?:(?:ngày|sinh|sn|ns)\s*:?\s*)+")


def _full_year(digits: str, today: dt.date) -> int:
    """A year typed with two digits ("3.4.15") is this century's unless that is still to
    come (then the last one's, which the age check refuses)."""
    if len(digits) == 4:
        return int(digits)
    year = 2000 + int(digits)
    return year if year <= today.year else year - 100


def parse_birth(text: str, *, today: dt.date) -> Birth:
    """A date of birth as villages write it: 3/4/2015, 03-04-2015, 3.4.2015, 3.4.15 (day
    first), "ngày 3 tháng 4 năm 2015", "sinh 3/4/2015", or only the year, 2015.
    InvalidInput: "birth_unreadable", "birth_impossible" (31/2), "birth_future",
    "birth_too_old" (16 or older: not a child under the law)."""
    cleaned = _LEAD.sub("", visible_strip(text).strip().lower().rstrip(".,;!")).strip()
    full = _FULL.fullmatch(cleaned) or _WORDS.fullmatch(cleaned)
    if full:
        day, month = int(full.group(1)), int(full.group(2))
        year = _full_year(full.group(3), today)
        try:
            date = dt.date(year, month, day)
        except ValueError as exc:
            raise InvalidInput("birth_impossible") from exc
        birth = Birth(year, date)
    elif (only_year := _YEAR.fullmatch(cleaned)) is not None:
        birth = Birth(int(only_year.group(1)))
    else:
        raise InvalidInput("birth_unreadable")
    if (birth.date or dt.date(birth.year, 1, 1)) > today:
        raise InvalidInput("birth_future")
    if sixteenth_birthday(birth) <= today:
        raise InvalidInput("birth_too_old")
    return birth


def sixteenth_birthday(birth: Birth) -> dt.date:
    """The day the child turns 16 and leaves the register. Born on 29 February: 1 March of
    a common year. Only the year known: 31 December of the year they turn 16, so no child
    leaves before being 16 for certain."""
    year = birth.year + CHILD_AGE_LIMIT
    if birth.date is None:
        return dt.date(year, 12, 31)
    try:
        return birth.date.replace(year=year)
    except ValueError:  # 29 February
        return dt.date(year, 3, 1)


def age_on(birth: Birth, day: dt.date) -> int:
    """Completed years on `day` (only the year known: the age reached during that year)."""
    if birth.date is None:
        return day.year - birth.year
    had_birthday = (day.month, day.day) >= (birth.date.month, birth.date.day)
    return day.year - birth.year - (0 if had_birthday else 1)


def has_turned_16(birth: Birth, day: dt.date) -> bool:
    return sixteenth_birthday(birth) <= day


# --- names and duplicates ---------------------------------------------------------------


def clean_name(text: str | None) -> str:
    """A typed full name: trimmed, single spaces; InvalidInput "child_name_blank",
    "name_too_long", "child_name_digits" (a date or a phone number typed here)."""
    name = re.sub(r"\s+", " ", visible_strip(text))
    if not name:
        raise InvalidInput("child_name_blank")
    if len(name) > MAX_NAME:
        raise InvalidInput("name_too_long")
    if any(ch.isdigit() for ch in name):
        raise InvalidInput("child_name_digits")
    if not any(ch.isalpha() for ch in name):  # "😀😀", "..." : no name at all
        raise InvalidInput("child_name_blank")
    return name


_SEX_WORDS = {"nam": Sex.MALE, "trai": Sex.MALE, "be trai": Sex.MALE, "con trai": Sex.MALE,
              "nu": Sex.FEMALE, "gai": Sex.FEMALE, "be gai": Sex.FEMALE,
              "con gai": Sex.FEMALE}


def parse_sex(text: str | None) -> Sex | None:
    """"nam", "Nữ.", "bé gái" typed at the boy-or-girl question; None for anything else."""
    return _SEX_WORDS.get(normalise_name(text or ""))


def clean_text(text: str | None, *, limit: int = MAX_TEXT) -> str:
    """A short typed text (a caregiver, a risk, a destination); InvalidInput when blank or
    too long (never cut silently)."""
    cleaned = visible_strip(text)
    if not cleaned:
        raise InvalidInput("blank_text")
    if len(cleaned) > limit:
        raise InvalidInput("register_text_too_long")
    return cleaned


def normalise_name(name: str) -> str:
    """The name as compared for duplicates: no tones or marks, đ as d, lower case, letters
    and single spaces only ("Nguyễn  Văn Đức" → "nguyen van duc")."""
    folded = fold(name)
    letters = re.sub(r"[^a-z ]+", " ", folded)
    return re.sub(r"\s+", " ", letters).strip()


def register_match_material(full_name: str, birth_year: int, commune_id: int) -> str:
    """What duplicates are compared on: the commune, the birth year and the normalised name."""
    return f"{commune_id}|{birth_year}|{normalise_name(full_name)}"


def register_match_key(full_name: str, birth_year: int, commune_id: int, *,
                       digest: Callable[[str], str] | None = None) -> str:
    """The one key duplicates are looked up by: the same normalised name, birth year and
    commune give the same key. The bot passes the data key's blind index (a keyed HMAC,
    storage.crypto), so the stored key neither spells the name nor can be found by hashing
    guessed names; without one (domain tests), a plain SHA-256."""
    text = register_match_material(full_name, birth_year, commune_id)
    if digest is not None:
        return digest(text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the record's life ------------------------------------------------------------------


@dataclass(frozen=True)
class Leaving:
    """What leaving the register records (the caller stores it; nothing is committed)."""

    reason: LeaveReason
    on: dt.date
    note: str = ""


def leave(status: ChildStatus | str, reason: LeaveReason, *, on: dt.date,
          note: str | None = None) -> Leaving | None:
    """Leaving the register, or None if the record has already left (idempotent: a second
    press or a second job run does nothing). A move needs the destination commune."""
    if ChildStatus(status) is ChildStatus.LEFT:
        return None
    cleaned = visible_strip(note)
    if reason in NOTE_REQUIRED and not cleaned:
        raise InvalidInput("destination_required")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput("register_text_too_long")
    return Leaving(reason, on, cleaned)


def clean_groups(groups: list[str]) -> list[str]:
    """Special-circumstance groups in the law's order, unknown codes dropped."""
    chosen = set(groups)
    return [str(g) for g in SpecialGroup if str(g) in chosen]


def is_listed(groups: list[str], at_risk: bool) -> bool:
    """A child belongs on the register when in at least one group of Điều 10, or at risk of
    falling into one (with the risk named)."""
    return bool(groups) or at_risk


# --- periodic review ("rà soát định kỳ") -----------------------------------------------

DEFAULT_REVIEW_MONTHS = 3  # the Minh Tân plan's quarterly checks


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (31 January + 1 month: the last day of February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def review_due(last_review: dt.date, months: int = DEFAULT_REVIEW_MONTHS) -> dt.date:
    """When the next review is due: `months` after the last one, moved to the next working
    day (nobody is asked on a weekend or a public holiday)."""
    day = add_months(last_review, months)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day
