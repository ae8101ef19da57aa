"""Importing a commune's existing list (XLSX or CSV) into the register: a dry run that says
what would be added, which records it would update (and what would change), what is already
there as is and which rows cannot be read and why; then the import itself, in the caller's
one transaction, adding what is new and updating what changed, with history rows (rows are
matched to records by the register's match key: the same file again changes nothing). Only the
commune's officers and administrators. No Telegram here; nothing of the file is kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import InvalidInput
from domain.register import clean_groups, is_listed, register_match_key
from domain.register_access import RegisterAction, ensure
from domain.register_import import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportRow,
    Layout,
    check_layout,
    guess_layout,
    read_row,
    table_width,
    village_key,
)
from domain.roles import Actor
from services import register as register_service
from services.register import IdentityEdit
from storage import audit
from storage import register as store
from storage.crypto import blind_index
from storage.models import RegisterChild


def read_table(data: bytes, file_name: str) -> list[list[object]]:
    """The first sheet of an XLSX, or a CSV (UTF-8, comma or semicolon), as rows of cells.
    InvalidInput "import_too_big", "import_format", "import_too_many_rows"."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("import_too_big")
    name = file_name.lower()
    rows: list[list[object]] = []
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # a broken or disguised file
            raise InvalidInput("import_format") from exc
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 11:
                    raise InvalidInput("import_too_many_rows")
        finally:
            book.close()
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("import_format") from exc
        dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") \
            else ","
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=dialect)]
    else:
        raise InvalidInput("import_format")
    return rows


@dataclass(frozen=True)
class Update:
    """A row matching a record already on the register, and what it would change there."""

    row: ImportRow
    village_id: int
    child_id: int
    fields: list[str]  # IDENTITY_FIELDS, "groups", "risk", support kinds


@dataclass
class Plan:
    """What the import would do."""

    new: list[tuple[ImportRow, int]] = field(default_factory=list)  # (row, village id)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # rows already on the register as is
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row number, code)
    rows: int = 0


def row_edit(child: RegisterChild, row: ImportRow, village_id: int) -> IdentityEdit:
    """What a row says about who the child is. Never the name (the match is on it); a
    year alone does not replace a known date; an empty caregiver cell clears nothing."""
    birth = row.birth if row.birth.date is not None or child.birth_date is None else None
    return IdentityEdit(birth=birth, sex=row.sex, village_id=village_id,
                        caregiver=row.caregiver or None)


def row_changes(child: RegisterChild, supports: dict[str, str], row: ImportRow,
                village_id: int) -> list[str]:
    """The fields the row would change on the record (the same rules as
    services.register.import_update applies)."""
    changes = register_service._identity_changes(child, row_edit(child, row, village_id))
    fields = [f for f in register_service.IDENTITY_FIELDS if f in changes]
    groups = clean_groups(row.groups)
    if is_listed(groups, row.at_risk) and (groups != list(child.groups)
                                           or row.at_risk != child.at_risk):
        fields.append("groups")
    if row.at_risk and row.risk_note and row.risk_note != child.risk_note:
        fields.append("risk")
    fields += sorted(k for k, status in row.supports if supports.get(k) != status)
    return fields


async def plan(actor: Actor, commune_id: int, data: bytes, file_name: str, *,
               session: AsyncSession, today: dt.date, layout: Layout | None = None,
               table: list[list[object]] | None = None) -> Plan:
    """The dry run: nothing is written. `layout`: the header row and columns the officer
    confirmed (None: recognised from the headings, "import_no_header" if they are not);
    `table`: the file already read (by read_table) by the caller."""
    ensure(actor, RegisterAction.EXPORT,
           await register_service.place(commune_id, None, session=session))
    if table is None:
        table = read_table(data, file_name)
    if layout is None:
        layout = guess_layout(table)
        if layout is None:
            raise InvalidInput("import_no_header")
    check_layout(layout, max(table_width(table, layout.header),
                             max(layout.columns.values(), default=-1) + 1))
    mapping = layout.columns
    start = layout.first_data_row
    body = table[start:]
    if len(body) > MAX_ROWS:
        raise InvalidInput("import_too_many_rows")
    villages = {village_key(v.name): v.id
                for v in await register_service.villages(commune_id, session=session)}
    result = Plan()
    seen: dict[str, int] = {}
    supports = await store.supports_of_commune(commune_id, session=session)
    for offset, raw in enumerate(body):
        number = start + offset + 1  # as Excel numbers rows (1-based)
        try:
            row = read_row(number, raw, mapping, today=today)
        except InvalidInput as problem:
            result.problems.append((number, problem.code))
            result.rows += 1
            continue
        if row is None:
            continue
        result.rows += 1
        village_id = villages.get(village_key(row.village))
        if village_id is None:
            result.problems.append((number, "import_village_unknown"))
            continue
        key = register_match_key(row.full_name, row.birth.year, commune_id,
                                 digest=blind_index)
        if key in seen:
            result.problems.append((number, "import_twice"))
            continue
        seen[key] = number
        found = await store.find_by_match_key(key, session=session)
        if len(found) > 1:
            result.problems.append((number, "import_ambiguous"))
            continue
        if not found:
            result.new.append((row, village_id))
            continue
        child = found[0]
        fields = row_changes(child, supports.get(child.id, {}), row, village_id)
        if fields:
            result.updates.append(Update(row, village_id, child.id, fields))
        else:
            result.unchanged.append(number)
    return result


async def run(actor: Actor, commune_id: int, data: bytes, file_name: str, *,
              session: AsyncSession, now: dt.datetime, today: dt.date,
              review_months: int, layout: Layout | None = None) -> Plan:
    """The import: the plan made again now (the register may have changed since the dry
    run) and its new children added, each with its history and audit row, plus one audit
    row for the import. The caller's transaction: all or nothing."""
    result = await plan(actor, commune_id, data, file_name, session=session, today=today,
                        layout=layout)
    for row, village_id in result.new:
        await register_service.add(actor, register_service.NewChild(
            commune_id=commune_id, village_id=village_id, full_name=row.full_name,
            sex=row.sex, birth=row.birth, groups=tuple(row.groups), at_risk=row.at_risk,
            risk_note=row.risk_note, caregiver=row.caregiver,
            supports=tuple(row.supports)), session=session, now=now, today=today,
            review_months=review_months)
    for update in result.updates:
        child = await store.get_child(update.child_id, session=session)
        assert child is not None  # found by the plan, in this transaction
        await register_service.import_update(
            actor, update.child_id, row_edit(child, update.row, update.village_id),
            groups=update.row.groups, at_risk=update.row.at_risk,
            risk_note=update.row.risk_note, supports=update.row.supports, session=session,
            now=now, today=today)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="register_imported", object_type="register",
                       object_id=commune_id, unit_id=commune_id, added=len(result.new),
                       updated=len(result.updates), unchanged=len(result.unchanged),
                       problems=len(result.problems))
    return result


async def claim(pending_id: int, *, session: AsyncSession) -> bool:
    """The dry run's pending input taken by one press of "Import" (a double press, or two
    instances, import once)."""
    return await store.take_pending(pending_id, session=session)
