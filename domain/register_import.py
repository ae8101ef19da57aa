"""Reading a commune's existing list of children in special circumstances (the Excel file
kept on the office computer): which column is which from a Vietnamese header row written
any which way, and each row checked into a new record or a reason it cannot be one.

Plain rules, no Telegram, no SQL, no file formats (the service turns XLSX/CSV into rows).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from domain.cases import SpecialGroup
from domain.errors import InvalidInput
from domain.names import fold
from domain.register import (
    MAX_TEXT,
    Birth,
    Sex,
    SupportKind,
    SupportStatus,
    clean_name,
    parse_birth,
    sixteenth_birthday,
)

MAX_FILE_BYTES = 2 * 1024 * 1024  # 2 MB: a commune's list is a few hundred rows
MAX_ROWS = 2000  # data rows in one file
HEADER_SEARCH_ROWS = 10  # a title and blank lines may come before the header row

# Folded header words → field. The caregiver first ("Họ và tên người chăm sóc"
# is not the child's name).
HEADERS: tuple[tuple[str, str], ...] = (
    ("nguoi cham soc", "caregiver"), ("nguoi nuoi duong", "caregiver"),
    ("nguoi giam ho", "caregiver"), ("cha me", "caregiver"),
    ("ho va ten", "name"), ("ho ten", "name"), ("ten tre", "name"), ("ho ten tre", "name"),
    ("ngay thang nam sinh", "birth"), ("ngay sinh", "birth"), ("nam sinh", "birth"),
    ("gioi tinh", "sex"),
    ("nhom hoan canh", "groups"), ("hoan canh", "groups"), ("nhom", "groups"),
    ("doi tuong", "groups"),
    ("bhyt", "bhyt"), ("bao hiem y te", "bhyt"),
    ("khai sinh", "birth_reg"), ("tro cap", "allowance"),
    ("thon", "village"), ("ban", "village"), ("xom", "village"), ("ap", "village"),
    ("to dan pho", "village"), ("dia chi", "village"),
)
REQUIRED = ("name", "birth")

# Folded words in the "group" cell → the groups of Điều 10.
GROUP_WORDS: tuple[tuple[str, SpecialGroup], ...] = (
    ("mo coi", SpecialGroup.ORPHAN), ("bo roi", SpecialGroup.ABANDONED),
    ("khong noi nuong tua", SpecialGroup.NO_CARER), ("khuyet tat", SpecialGroup.DISABILITY),
    ("hiv", SpecialGroup.HIV), ("vi pham phap luat", SpecialGroup.LAW_VIOLATION),
    ("ma tuy", SpecialGroup.DRUGS), ("bo hoc", SpecialGroup.DROPOUT_WORK),
    ("bao luc", SpecialGroup.VIOLENCE_HARM), ("boc lot", SpecialGroup.EXPLOITATION),
    ("xam hai", SpecialGroup.SEXUAL_ABUSE), ("mua ban", SpecialGroup.TRAFFICKING),
    ("benh hiem ngheo", SpecialGroup.SERIOUS_ILLNESS), ("di cu", SpecialGroup.MIGRANT),
    ("lanh nan", SpecialGroup.MIGRANT), ("ti nan", SpecialGroup.MIGRANT),
)
AT_RISK_WORDS = ("nguy co",)

# A support column's cell → status ("có", "x", "đã có" → has it; "đang làm" → applied …).
SUPPORT_COLUMNS = {"bhyt": SupportKind.HEALTH_INSURANCE,
                   "birth_reg": SupportKind.BIRTH_REGISTRATION,
                   "allowance": SupportKind.SOCIAL_ASSISTANCE}


def _folded(value: object) -> str:
    return fold(str(value)) if value is not None else ""


def map_header(row: list[object]) -> dict[str, int] | None:
    """Column index of each field in a header row, or None if this is not the header
    (no name and birth columns). The first column that matches a field wins."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        text = re.sub(r"[^a-z ]+", " ", _folded(cell))
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            continue
        words = f" {text} "
        for phrase, name in HEADERS:
            if f" {phrase} " in words:
                if name not in found:
                    found[name] = index
                break
    return found if all(name in found for name in REQUIRED) else None


def find_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """(index of the header row, column map) among the first rows."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = map_header(row)
        if mapping is not None:
            return index, mapping
    return None


def village_key(name: str) -> str:
    """A village name as compared: folded, without "thôn", "bản", "xóm", "ấp", "tổ"."""
    text = _folded(name)
    text = re.sub(r"^(thon|ban|xom|ap|to dan pho|to)\s+", "", text)
    return text.strip()


def parse_sex(value: object) -> Sex:
    text = _folded(value)
    if text in ("nam", "trai", "m", "male"):
        return Sex.MALE
    if text in ("nu", "gai", "f", "female"):
        return Sex.FEMALE
    raise InvalidInput("import_sex")


def parse_groups(value: object) -> tuple[list[str], bool, str | None]:
    """(groups, at risk, the risk as written) from a cell that names them in words."""
    text = _folded(value)
    groups = [str(g) for g in SpecialGroup
              if any(word in text and group is g for word, group in GROUP_WORDS)]
    at_risk = any(word in text for word in AT_RISK_WORDS)
    if not groups and not at_risk:
        raise InvalidInput("import_group")
    risk = str(value).strip()[:MAX_TEXT] if at_risk else None
    return groups, at_risk, risk


def parse_support(value: object) -> SupportStatus | None:
    text = _folded(value)
    if not text:
        return None
    if text.startswith(("dang", "cho")):
        return SupportStatus.APPLIED
    if text.startswith(("khong thuoc", "khong dien")):
        return SupportStatus.NOT_ELIGIBLE
    if text.startswith(("chua", "khong")) or text in ("0", "-"):
        return SupportStatus.MISSING
    return SupportStatus.HAS  # "có", "x", "đã có", a card number


def parse_birth_cell(value: object, *, today: dt.date) -> Birth:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput("import_birth_missing")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        birth = Birth(value.year, value)
        if value > today:
            raise InvalidInput("birth_future")
        if sixteenth_birthday(birth) <= today:
            raise InvalidInput("birth_too_old")
        return birth
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return parse_birth(str(value), today=today)


@dataclass
class ImportRow:
    """One data row read into what a record needs (the village as written, matched by the
    service against the commune's villages)."""

    number: int  # the row's number in the file (as Excel shows it)
    full_name: str
    birth: Birth
    sex: Sex
    village: str
    groups: list[str]
    at_risk: bool
    risk_note: str | None
    caregiver: str | None
    supports: list[tuple[str, str]] = field(default_factory=list)


def read_row(number: int, row: list[object], mapping: dict[str, int], *,
             today: dt.date) -> ImportRow | None:
    """The row as a record, None for an empty row; InvalidInput with the first problem."""
    def cell(name: str) -> object:
        index = mapping.get(name)
        if index is None or index >= len(row):
            return None
        value = row[index]
        return value.strip() if isinstance(value, str) else value

    if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
        return None
    name = clean_name(str(cell("name") or ""))
    birth = parse_birth_cell(cell("birth"), today=today)
    sex = parse_sex(cell("sex"))
    village = str(cell("village") or "").strip()
    if not village:
        raise InvalidInput("import_village_missing")
    groups, at_risk, risk = parse_groups(cell("groups"))
    caregiver = str(cell("caregiver") or "").strip() or None
    if caregiver is not None and len(caregiver) > 200:
        raise InvalidInput("register_text_too_long")
    supports = []
    for column, kind in SUPPORT_COLUMNS.items():
        status = parse_support(cell(column))
        if status is not None:
            supports.append((str(kind), str(status)))
    return ImportRow(number, name, birth, sex, village, groups, at_risk, risk, caregiver,
                     supports)
