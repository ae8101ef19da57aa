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


# Every field a column can hold, in the order the guided mapping asks for them: the required
# ones first, then the optional ones (the row is still refused without a sex, a village or a
# circumstance, but the officer may say the file has no such column).
FIELDS = ("name", "birth", "sex", "village", "groups", "caregiver", "bhyt", "birth_reg",
          "allowance")
MAX_COLUMNS = 30  # columns offered in the guided mapping (a list has a dozen)
HEADER_CHOICES = 8  # rows offered as the header when none is recognised


def guess_columns(row: list[object]) -> dict[str, int]:
    """The fields recognised in a header row by their words (maybe none, maybe not the
    required ones). The first column that matches a field wins."""
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
    return found


def map_header(row: list[object]) -> dict[str, int] | None:
    """Column index of each field in a header row, or None if this is not the header
    (no name and birth columns)."""
    found = guess_columns(row)
    return found if all(name in found for name in REQUIRED) else None


def find_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """(index of the header row, column map) among the first rows."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = map_header(row)
        if mapping is not None:
            return index, mapping
    return None


def column_letter(index: int) -> str:
    """The column as Excel names it: 0 → "A", 25 → "Z", 26 → "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object, limit: int = 40) -> str:
    """A cell as shown in a button or a list: one line, shortened, a date as 03/04/2015."""
    if _blank(value):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def row_preview(row: list[object], limit: int = 44) -> str:
    """A row as a header-row button shows it: its non-empty cells, "A | B | C…"."""
    text = " | ".join(t for t in (cell_text(v, limit) for v in row) if t)
    return text if len(text) <= limit else text[:limit - 1].rstrip(" |") + "…"


def header_choices(rows: list[list[object]]) -> list[int]:
    """The rows offered as the header when none is recognised: the first non-empty ones."""
    found = [i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
             if not all(_blank(v) for v in row)]
    return found[:HEADER_CHOICES]


@dataclass(frozen=True)
class Layout:
    """How a file is read: the header row (its index in the table; None: no header row, the
    data starts on the first row) and the column of each field."""

    header: int | None
    columns: dict[str, int]

    @property
    def first_data_row(self) -> int:
        return 0 if self.header is None else self.header + 1

    def as_data(self) -> dict:
        return {"header": self.header, "columns": dict(self.columns)}

    @classmethod
    def from_data(cls, data: dict) -> Layout:
        header = data.get("header")
        columns = data.get("columns") or {}
        if header is not None and (not isinstance(header, int) or header < 0):
            raise InvalidInput("import_map_incomplete")
        if not all(f in FIELDS and isinstance(i, int) and i >= 0 for f, i in columns.items()):
            raise InvalidInput("import_map_incomplete")
        return cls(header, dict(columns))


@dataclass(frozen=True)
class ColumnView:
    """One column of the file as the officer sees it: letter, heading, an example."""

    index: int
    letter: str
    heading: str
    example: str


def table_width(rows: list[list[object]], header: int | None) -> int:
    """The columns that hold something in the header row or the first data rows."""
    start = 0 if header is None else header
    width = 0
    for row in rows[start:start + 6]:
        for index, value in enumerate(row):
            if not _blank(value):
                width = max(width, index + 1)
    return min(width, MAX_COLUMNS)


def first_data_row(rows: list[list[object]], header: int | None) -> list[object]:
    start = 0 if header is None else header + 1
    return next((r for r in rows[start:] if not all(_blank(v) for v in r)), [])


def column_views(rows: list[list[object]], header: int | None) -> list[ColumnView]:
    """Each column: its heading (none without a header row) and the value of the first data
    row (the officer recognises the column by it)."""
    heading_row = rows[header] if header is not None and header < len(rows) else []
    example_row = first_data_row(rows, header)

    def at(row: list[object], index: int) -> object:
        return row[index] if index < len(row) else None

    return [ColumnView(i, column_letter(i), cell_text(at(heading_row, i), 30),
                       cell_text(at(example_row, i), 24))
            for i in range(table_width(rows, header))]


def check_layout(layout: Layout, width: int) -> None:
    """The required fields have a column, every column is in the file, and no column holds
    two fields. InvalidInput "import_map_incomplete" / "import_map_twice"."""
    if not all(f in layout.columns for f in REQUIRED):
        raise InvalidInput("import_map_incomplete")
    if any(i >= width for i in layout.columns.values()):
        raise InvalidInput("import_map_incomplete")
    if len(set(layout.columns.values())) != len(layout.columns):
        raise InvalidInput("import_map_twice")


def guess_layout(rows: list[list[object]]) -> Layout | None:
    """The header and the columns recognised without asking, or None (no header row with a
    name and a birth column among the first rows)."""
    found = find_header(rows)
    return None if found is None else Layout(found[0], found[1])


def layout_for_header(rows: list[list[object]], header: int | None) -> Layout:
    """The columns recognised in the row the officer said is the header (none without one)."""
    if header is None or header >= len(rows):
        return Layout(None, {})
    return Layout(header, guess_columns(rows[header]))


def choices_for(field_name: str, layout: Layout, width: int) -> list[int]:
    """The columns offered for a field in the guided mapping: those not already holding an
    earlier field of the list (a column holds one field)."""
    taken = {i for f, i in layout.columns.items()
             if FIELDS.index(f) < FIELDS.index(field_name)}
    return [i for i in range(width) if i not in taken]


def assign(layout: Layout, field_name: str, column: int | None, width: int) -> Layout:
    """The layout with `field_name` read from `column` (None: the file has no such column);
    a later field that was on this column loses it. InvalidInput when a required field is
    left without a column or the column is not offered."""
    columns = dict(layout.columns)
    if column is None:
        if field_name in REQUIRED:
            raise InvalidInput("import_map_incomplete")
        columns.pop(field_name, None)
    else:
        if column not in choices_for(field_name, layout, width):
            raise InvalidInput("import_map_twice")
        columns = {f: i for f, i in columns.items() if i != column or f == field_name}
        columns[field_name] = column
    return Layout(layout.header, columns)


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
