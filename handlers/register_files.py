"""The register's files for the commune's officers: importing the existing Excel list (a dry
run, then "Nhập N trẻ"), the template to fill in, and the XLSX export of the register. The
file itself is never stored: the dry run keeps only its Telegram file id and a hash in the
pending input, and the import reads it again and re-checks everything when pressed."""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
from dataclasses import replace

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.i18n import _, vi_number
from domain.errors import InvalidInput
from domain.register_access import RegisterAction, ensure
from domain.register_import import (
    FIELDS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED,
    Layout,
    assign,
    check_layout,
    choices_for,
    column_views,
    guess_layout,
    header_choices,
    layout_for_header,
    row_preview,
    table_width,
)
from handlers import callback_data as cb
from handlers import cases as case_handlers
from handlers.common import INVALID_INPUT_MESSAGES, Reply, Request, handles, keyboard
from handlers.register import (
    TRE,
    _home,
    _months,
    _today,
    field_name,
    sex_name,
    support_status_name,
)
from handlers.texts import special_group_name
from services import cases as cases_service
from services import register as service
from services import register_import as importer
from services.identity import resolve_actor

IMPORTING = "tre_import"  # kind of pending input: waiting for the file, then the confirmation
MAX_PROBLEMS_SHOWN = 30

INVALID_INPUT_MESSAGES.update({
    "import_too_big": lambda: _("The file is too big (at most {mb} MB). Please send the list "
                                "alone, without pictures, or split it.").format(
        mb=MAX_FILE_BYTES // (1024 * 1024)),
    "import_format": lambda: _("Please send the list as an Excel file (.xlsx) or a CSV file "
                               "(.csv, UTF-8). Old .xls files: open them in Excel and save "
                               "as .xlsx."),
    "import_too_many_rows": lambda: _("The file has more than {n} rows. Please split it and "
                                      "send the parts one after the other.").format(
        n=vi_number(MAX_ROWS)),
    "import_no_header": lambda: _("No header row was found: the file needs columns “Họ và "
                                  "tên” and “Ngày sinh” (or “Năm sinh”). Press “Template” "
                                  "for an example."),
    "import_file_expected": lambda: _("Please send the list as a file (an .xlsx or .csv "
                                      "document), or press Cancel."),
    "import_empty": lambda: _("The file has no rows to read."),
    "import_map_incomplete": lambda: _("The full name and the date of birth each need a "
                                       "column. Please choose them again."),
    "import_map_twice": lambda: _("That column already holds another field. Please choose "
                                  "another one."),
})


def problem_name(code: str) -> str:
    return {
        "child_name_blank": _("no name"),
        "child_name_digits": _("the name has digits"),
        "name_too_long": _("the name is too long"),
        "import_birth_missing": _("no date or year of birth"),
        "birth_unreadable": _("the date of birth cannot be read"),
        "birth_impossible": _("the date of birth does not exist"),
        "birth_future": _("the date of birth is in the future"),
        "birth_too_old": _("16 or older: not on the register"),
        "import_sex": _("the sex is not “Nam” or “Nữ”"),
        "import_village_missing": _("no village"),
        "import_village_unknown": _("the village is not one of the commune's"),
        "import_group": _("no circumstance recognised (e.g. “mồ côi”, “khuyết tật”, "
                          "“có nguy cơ”)"),
        "import_twice": _("the same child is on an earlier row of the file"),
        "import_ambiguous": _("several records on the register match: update them from "
                              "/tre"),
        "register_text_too_long": _("a text is too long"),
    }.get(code, _("cannot be read"))


def _officer_commune(request: Request) -> int:
    commune_id, village_id = _home(request)
    if village_id is not None:
        raise InvalidInput("register_staff_only")
    return commune_id


async def _check_officer(request: Request) -> int:
    commune_id = _officer_commune(request)
    ensure(request.actor, RegisterAction.EXPORT,
           await service.place(commune_id, None, session=request.session))
    return commune_id


@handles
async def ask_file(request: Request) -> Reply:
    """"📥 Import from a file": waits for the document."""
    commune_id = await _check_officer(request)
    await cases_service.expect_input(request.user_id, IMPORTING, session=request.session,
                                     now=request.now, data={"commune": commune_id})
    return Reply(_("Send the commune's list as an Excel (.xlsx) or CSV file, at most {mb} MB "
                   "and {n} rows. The first row (or one of the first ten) is the header: "
                   "“Họ và tên”, “Ngày sinh” or “Năm sinh”, “Giới tính”, “Thôn”, “Nhóm hoàn "
                   "cảnh”, “Người chăm sóc”, and if you have them “BHYT”, “Khai sinh”, “Trợ "
                   "cấp”. Nothing is saved before you confirm.").format(
        mb=MAX_FILE_BYTES // (1024 * 1024), n=vi_number(MAX_ROWS)),
        keyboard([[(_("📄 Template"), cb.build(TRE, "tpl"))],
                  [(_("✖️ Cancel"), cb.build(TRE, "x"))]]))


async def _download(request: Request, file_id: str) -> bytes:
    file = await request.context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


def row_ranges(numbers: list[int], limit: int = 25) -> str:
    """Row numbers as Excel shows them, runs joined: "2–5, 9, 12–13"."""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in runs[:limit]]
    return ", ".join(parts) + (", …" if len(runs) > limit else "")


def _summary(result: importer.Plan) -> str:
    lines = [_("<b>Dry run: nothing is saved yet.</b>"),
             _("Rows read: {n}").format(n=vi_number(result.rows)),
             _("➕ New children to add: {n}").format(n=vi_number(len(result.new)))]
    if result.new:
        lines.append(_("   rows {rows}").format(
            rows=row_ranges([row.number for row, _v in result.new])))
    lines.append(_("✏️ Children on the register to update: {n}").format(
        n=vi_number(len(result.updates))))
    for update in result.updates[:MAX_PROBLEMS_SHOWN]:
        lines.append(_("• row {row}: {what}").format(row=update.row.number, what=", ".join(
            field_name(f) for f in update.fields)))
    if len(result.updates) > MAX_PROBLEMS_SHOWN:
        lines.append(_("… and {n} more rows to update.").format(
            n=vi_number(len(result.updates) - MAX_PROBLEMS_SHOWN)))
    lines.append(_("🔁 Already on the register, unchanged: {n}").format(
        n=vi_number(len(result.unchanged))))
    if result.unchanged:
        lines.append(_("   rows {rows}").format(rows=row_ranges(result.unchanged)))
    lines.append(_("⚠️ Rows refused (skipped): {n}").format(n=vi_number(len(result.problems))))
    for number, code in result.problems[:MAX_PROBLEMS_SHOWN]:
        lines.append(_("• row {row}: {why}").format(row=number, why=problem_name(code)))
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        lines.append(_("… and {n} more rows with problems.").format(
            n=vi_number(len(result.problems) - MAX_PROBLEMS_SHOWN)))
    return "\n".join(lines)


def import_field_name(code: str) -> str:
    """A field of the list as the mapping step names it."""
    return {
        "name": _("the child's full name"), "birth": _("date (or year) of birth"),
        "sex": _("sex"), "village": _("village"), "groups": _("circumstances"),
        "caregiver": _("caregiver"), "bhyt": _("health insurance card (BHYT)"),
        "birth_reg": _("birth registration"), "allowance": _("monthly social assistance"),
    }[code]


def _columns_text(table: list[list[object]], layout: Layout) -> str:
    """The columns found, each with its heading, an example and what it is read as."""
    fields = {index: f for f, index in layout.columns.items()}
    if layout.header is None:
        lines = [_("📋 <b>Columns of the file</b> (no header row: the data starts on row 1):")]
    else:
        lines = [_("📋 <b>Columns of the file</b> (header on row {row}):").format(
            row=layout.header + 1)]
    for column in column_views(table, layout.header):
        what = (_("<b>{field}</b>").format(field=import_field_name(fields[column.index]))
                if column.index in fields else _("skipped"))
        lines.append(_("• {column}: {what}").format(column=html.escape(_column_label(column)),
                                                    what=what))
    return "\n".join(lines)


def _column_label(column) -> str:  # noqa: ANN001
    """"Cột C: Họ tên trẻ (vd: Nguyễn Văn An)"."""
    label = _("Column {letter}").format(letter=column.letter)
    if column.heading:
        label += ": " + column.heading
    if column.example:
        label += " " + _("(e.g. {example})").format(example=column.example)
    return label


def _step_data(state: dict, action: str, *args: int | str) -> str:
    return cb.build(TRE, action, state["tok"], state["n"], *args)


def _header_question(state: dict, table: list[list[object]]) -> Reply:
    """Asks which row holds the headings (the first rows, by their first cells)."""
    rows = []
    for index in header_choices(table):
        rows.append([(_("Row {n}: {cells}").format(n=index + 1, cells=row_preview(table[index])),
                      _step_data(state, "mh", index))])
    rows.append([(_("No header row (the data starts on row 1)"), _step_data(state, "mh", -1))])
    rows.append([(_("✖️ Cancel"), cb.build(TRE, "x"))])
    return Reply(_("🔎 The header row of “{name}” was not recognised (the row with “Họ và "
                   "tên”, “Ngày sinh”…). Which row holds the column headings?").format(
        name=html.escape(state["name"])), keyboard(rows))


def _field_question(state: dict, table: list[list[object]]) -> Reply:
    """Asks which column holds the current field (buttons: the file's columns)."""
    layout = Layout.from_data(state["layout"])
    field = state["field"]
    width = table_width(table, layout.header)
    views = {c.index: c for c in column_views(table, layout.header)}
    rows = []
    for index in choices_for(field, layout, width):
        mark = "✅ " if layout.columns.get(field) == index else ""
        label = mark + _column_label(views[index])
        label = label if len(label) <= 60 else label[:59] + "…"
        rows.append([(label, _step_data(state, "mc", index))])
    if field not in REQUIRED:
        mark = "✅ " if field not in layout.columns else ""
        rows.append([(mark + _("No such column"), _step_data(state, "mc", -1))])
    if FIELDS.index(field) > 0:
        rows.append([(_("↩️ Back"), _step_data(state, "mb")),
                     (_("✖️ Cancel"), cb.build(TRE, "x"))])
    else:
        rows.append([(_("✖️ Cancel"), cb.build(TRE, "x"))])
    step = FIELDS.index(field) + 1
    text = _("🧭 <b>Reading the columns of “{name}”</b> ({step}/{total})\nWhich column holds "
             "<b>{field}</b>?").format(name=html.escape(state["name"]), step=step,
                                       total=len(FIELDS), field=import_field_name(field))
    if field in REQUIRED:
        text += "\n" + _("This one is needed: every child has it.")
    else:
        text += "\n" + _("If the file has none, press “No such column”.")
    if layout.columns.get(field) is not None:
        text += "\n" + _("✅ marks the column read now.")
    return Reply(text, keyboard(rows))


def _question(state: dict, table: list[list[object]]) -> Reply:
    if state.get("stage") == "header":
        return _header_question(state, table)
    return _field_question(state, table)


async def _table(request: Request, state: dict) -> tuple[bytes, list[list[object]]]:
    """The file of this import, downloaded again and checked against its hash."""
    data = await _download(request, state["file"])
    if hashlib.sha256(data).hexdigest() != state.get("sha"):
        raise InvalidInput("import_format")
    return data, importer.read_table(data, state["name"])


TELEGRAM_LIMIT = 4096


def _fit(text: str) -> str:
    """A dry run cut at a line to fit one Telegram message."""
    if len(text) <= TELEGRAM_LIMIT - 20:
        return text
    return text[:TELEGRAM_LIMIT - 20].rsplit("\n", 1)[0] + "\n…"


async def _preview(request: Request, state: dict, data: bytes,
                   table: list[list[object]]) -> Reply:
    """The columns as they will be read, then the dry run with them; waits for "Import"."""
    layout = Layout.from_data(state["layout"])
    result = await importer.plan(request.actor, int(state["commune"]), data, state["name"],
                                 session=request.session, today=_today(request),
                                 layout=layout, table=table)
    text = _columns_text(table, layout) + "\n\n" + _summary(result)
    if not result.new and not result.updates and not result.problems:
        await cases_service.drop_input(request.user_id, session=request.session)
        return Reply(_fit(text + "\n\n" + _("Nothing new to import.")))
    state = {**state, "stage": "confirm", "n": int(state["n"]) + 1}
    await cases_service.expect_input(request.user_id, IMPORTING, session=request.session,
                                     now=request.now, data=state)
    rows = []
    if result.new or result.updates:
        label = (_("✅ Import {n} children").format(n=vi_number(len(result.new)))
                 if not result.updates else
                 _("✅ Add {n}, update {m}").format(n=vi_number(len(result.new)),
                                                   m=vi_number(len(result.updates))))
        rows.append([(label, _step_data(state, "impok"))])
        tail = ""
    else:
        tail = "\n\n" + _("Nothing new to import. If a column was read wrongly, press “Fix "
                          "the columns”.")
    rows.append([(_("🧭 Fix the columns"), _step_data(state, "mfix"))])
    rows.append([(_("✖️ Cancel"), cb.build(TRE, "x"))])
    return Reply(_fit(text + tail), keyboard(rows))


async def _dry_run(request: Request, commune_id: int, message) -> list[Reply]:  # noqa: ANN001
    """A file received: read by its headings and shown with the dry run, or the header row
    and the columns asked first."""
    document = message.document
    if document is None:
        raise InvalidInput("import_file_expected")
    if document.file_size and document.file_size > MAX_FILE_BYTES:
        await cases_service.drop_input(request.user_id, session=request.session)
        raise InvalidInput("import_too_big")
    name = document.file_name or ""
    if not name.lower().endswith((".xlsx", ".csv")):
        raise InvalidInput("import_format")
    data = await _download(request, document.file_id)
    table = importer.read_table(data, name)
    sha = hashlib.sha256(data).hexdigest()
    state = {"commune": commune_id, "file": document.file_id, "name": name, "sha": sha,
             "tok": sha[:8], "n": 0}
    layout = guess_layout(table)
    if layout is None:
        if not header_choices(table):
            raise InvalidInput("import_empty")
        state["stage"] = "header"
        await cases_service.expect_input(request.user_id, IMPORTING, session=request.session,
                                         now=request.now, data=state)
        return [_header_question(state, table)]
    state["layout"] = layout.as_data()
    return [await _preview(request, state, data, table)]


async def _took_file(request: Request, pending, message) -> list[Reply]:  # noqa: ANN001
    """The document sent after "Import from a file" (or anything sent mid-import)."""
    state = pending.data
    if state.get("file"):
        if state.get("stage") in ("header", "map"):
            _data, table = await _table(request, state)
            return [Reply(_("You are still choosing how to read “{name}”: please answer with "
                            "the buttons below. To import another file, press Cancel first, "
                            "then send it.").format(name=html.escape(state["name"]))),
                    _question(state, table)]
        return [Reply(_("Please press “Import” or “Cancel” under the dry run first."))]
    try:
        return await _dry_run(request, int(state["commune"]), message)
    except InvalidInput as problem:
        if problem.code in ("import_too_big", "import_too_many_rows"):
            await cases_service.drop_input(request.user_id, session=request.session)
        raise


@handles
async def captioned_file(request: Request) -> list[Reply]:
    """A document captioned "/tre nhap": the dry run straight away (an import in progress is
    dropped with a word, as a command drops it)."""
    commune_id = await _check_officer(request)
    replies = []
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is not None and pending.kind == IMPORTING and pending.data.get("file"):
        await cases_service.drop_input(request.user_id, session=request.session)
        replies.append(Reply("↩️ " + _("Dropped the import of the list. Nothing was saved.")))
    return replies + await _dry_run(request, commune_id, request.update.effective_message)


async def _pressed(request: Request, stages: tuple[str, ...]) -> dict | list[Reply]:
    """The import this press belongs to, or what to answer when it is not the current step
    (no import open: say so; an earlier step: the current question again)."""
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None or pending.kind != IMPORTING or not pending.data.get("file"):
        return [Reply(_("This import is no longer open. Use /tre to start again."))]
    state = dict(pending.data)
    if state.get("stage") not in ("header", "map", "confirm"):  # a dry run of an older version
        return [Reply(_("This import is no longer open. Use /tre to start again."))]
    args = request.callback.args
    if (len(args) < 2 or args[0] != state.get("tok") or args[1] != str(state.get("n"))
            or state.get("stage") not in stages):
        if state.get("stage") == "confirm":
            return [Reply(_("⚠️ This button belongs to an earlier step; nothing was changed. "
                            "Please use the buttons under the latest dry run."))]
        _data, table = await _table(request, state)
        return [Reply(_("⚠️ This button belongs to an earlier step; nothing was changed. "
                        "Here is the current question:")), _question(state, table)]
    return state


async def _save_step(request: Request, state: dict) -> None:
    await cases_service.expect_input(request.user_id, IMPORTING, session=request.session,
                                     now=request.now, data=state)


@handles
async def chose_header(request: Request) -> list[Reply]:
    """Stores the header row pressed (or none) and asks for the columns, or shows the dry
    run when the name and birth columns are recognised in it."""
    await _check_officer(request)
    state = await _pressed(request, ("header",))
    if isinstance(state, list):
        return state
    row = request.callback.int_arg(2)
    data, table = await _table(request, state)
    if row != -1 and row not in header_choices(table):
        raise cb.StaleButton("import header row")
    layout = layout_for_header(table, None if row == -1 else row)
    state.update(layout=layout.as_data(), n=int(state["n"]) + 1)
    if all(f in layout.columns for f in REQUIRED):
        return [replace(await _preview(request, state, data, table), edit=True)]
    state.update(stage="map", field=FIELDS[0])
    await _save_step(request, state)
    return [replace(_field_question(state, table), edit=True)]


@handles
async def fix_columns(request: Request) -> list[Reply]:
    """"Fix the columns" under the dry run: asks field by field, the current reading marked."""
    await _check_officer(request)
    state = await _pressed(request, ("confirm",))
    if isinstance(state, list):
        return state
    _data, table = await _table(request, state)
    state.update(stage="map", field=FIELDS[0], n=int(state["n"]) + 1)
    await _save_step(request, state)
    return [replace(_field_question(state, table), edit=True)]


@handles
async def chose_column(request: Request) -> list[Reply]:
    """Stores the column pressed for the current field and asks for the next one; after the
    last, the dry run with this reading."""
    await _check_officer(request)
    state = await _pressed(request, ("map",))
    if isinstance(state, list):
        return state
    column = request.callback.int_arg(2)
    data, table = await _table(request, state)
    layout = Layout.from_data(state["layout"])
    width = table_width(table, layout.header)
    if column != -1 and not 0 <= column < width:
        raise cb.StaleButton("import column")
    layout = assign(layout, state["field"], None if column == -1 else column, width)
    state.update(layout=layout.as_data(), n=int(state["n"]) + 1)
    following = FIELDS.index(state["field"]) + 1
    if following < len(FIELDS):
        state["field"] = FIELDS[following]
        await _save_step(request, state)
        return [replace(_field_question(state, table), edit=True)]
    check_layout(layout, width)
    state.pop("field", None)
    return [replace(await _preview(request, state, data, table), edit=True)]


@handles
async def previous_field(request: Request) -> list[Reply]:
    """"Back" in the guided step: asks the previous field again (its column marked)."""
    await _check_officer(request)
    state = await _pressed(request, ("map",))
    if isinstance(state, list):
        return state
    index = FIELDS.index(state["field"])
    if index == 0:
        raise cb.StaleButton("import back")
    _data, table = await _table(request, state)
    state.update(field=FIELDS[index - 1], n=int(state["n"]) + 1)
    await _save_step(request, state)
    return [replace(_field_question(state, table), edit=True)]


@handles
async def confirm_import(request: Request) -> Reply | list[Reply]:
    """"Import N children": the file read again, the plan made again with the same reading
    of the columns, one transaction."""
    commune_id = await _check_officer(request)
    state = await _pressed(request, ("confirm",))
    if isinstance(state, list):
        return state
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    assert pending is not None  # _pressed found it in this transaction
    request.session.expunge(pending)
    if not await importer.claim(pending.id, session=request.session):
        return Reply(_("This import is no longer open. Use /tre to start again."))
    data = await _download(request, state["file"])
    if hashlib.sha256(data).hexdigest() != state.get("sha"):
        raise InvalidInput("import_format")
    result = await importer.run(request.actor, commune_id, data, state["name"],
                                session=request.session, now=request.now,
                                today=_today(request), review_months=_months(request),
                                layout=Layout.from_data(state["layout"]))
    return Reply(_("✅ Imported: {n} children added to the register, {u} updated ({d} "
                   "already there unchanged, {p} rows refused). Open /tre to see them.").format(
        n=vi_number(len(result.new)), u=vi_number(len(result.updates)),
        d=vi_number(len(result.unchanged)), p=vi_number(len(result.problems))), edit=True)


# --- the template -----------------------------------------------------------------------

TEMPLATE_HEADER = ("STT", "Họ và tên", "Ngày sinh", "Giới tính", "Thôn", "Nhóm hoàn cảnh",
                   "Người chăm sóc", "BHYT", "Khai sinh", "Trợ cấp")


@handles
async def ask_template(request: Request) -> Reply | None:
    await _check_officer(request)
    await request.owe("tre_template", chat_id=request.user_id)
    return None


def template_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sach"
    sheet.append(list(TEMPLATE_HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([1, "Nguyễn Văn A", "03/04/2015", "Nam", "Thôn Đông", "Mồ côi cả cha và mẹ",
                  "Bà nội", "Có", "Có", "Đang làm hồ sơ"])
    sheet.append([2, "Trần Thị B", "2016", "Nữ", "Thôn Đông", "Có nguy cơ: bỏ học", "Mẹ",
                  "Chưa", "Có", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def send_owed_template(bot, runtime, delivery) -> int:  # noqa: ANN001
    data = await asyncio.to_thread(template_workbook)
    message = await bot.send_document(
        delivery.chat_id, io.BytesIO(data), filename="mau-danh-sach-tre-em.xlsx",
        caption=_("📄 Template of the list: fill in one child per row (delete the two "
                  "examples), then send the file back after “Import from a file”."))
    return message.message_id


# --- the export -------------------------------------------------------------------------


@handles
async def ask_export(request: Request) -> Reply:
    commune_id = await _check_officer(request)
    await request.owe("register_export", {"commune": commune_id}, chat_id=request.user_id)
    return Reply(_("⏳ The register's workbook is being prepared and will be sent here."))


EXPORT_HEADER_KINDS = ("allowance", "bhyt", "birth", "school", "other")


def export_workbook(rows: list[service.ExportRow], title: str) -> bytes:
    """One sheet, one row per active child, with the status of each kind of support."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from handlers.register import support_name

    book = Workbook()
    sheet = book.active
    sheet.title = _("Children")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    header = [_("No."), _("Full name"), _("Date of birth"), _("Sex"), _("Village"),
              _("Circumstances"), _("Caregiver"),
              *[support_name(k) for k in EXPORT_HEADER_KINDS], _("Next review")]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=1):
        child = row.child
        born = child.birth_date.strftime("%d/%m/%Y") if child.birth_date else str(
            child.birth_year)
        circumstances = [special_group_name(g) for g in child.groups]
        if child.at_risk:
            circumstances.append(_("at risk"))
        sheet.append([
            number, child.full_name, born, sex_name(child.sex), row.village or "",
            "; ".join(circumstances), child.caregiver or "",
            *[support_status_name(row.supports.get(k)) if row.supports.get(k) else ""
              for k in EXPORT_HEADER_KINDS],
            child.review_due_on.strftime("%d/%m/%Y") if child.review_due_on else "",
        ])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def send_owed_export(bot, runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "register_export" rows: made for the rights the person has now, audited
    then, sent to their private chat."""
    chat_id = delivery.chat_id
    commune_id = int(delivery.payload["commune"])
    async with runtime.db.session() as session:
        actor = await resolve_actor(chat_id, session=session,
                                    superadmin_ids=runtime.settings.admin_ids)
        commune, rows = await service.export_rows(actor, commune_id, session=session,
                                                  now=runtime.clock.now())
    today = runtime.local_now().date()
    title = _("Children in special circumstances, {commune}, {date}").format(
        commune=commune, date=today.strftime("%d/%m/%Y"))
    data = await asyncio.to_thread(export_workbook, rows, title)
    message = await bot.send_document(
        chat_id, io.BytesIO(data), filename=f"danh-sach-tre-em-{today:%Y%m%d}.xlsx",
        caption=_("🗂 The register: {n} children. Personal data: keep it safe, do not "
                  "forward it.").format(n=vi_number(len(rows))))
    return message.message_id


case_handlers.register_input(IMPORTING, _took_file, keep_armed=True)

_CAPTION = r"(?i)^\s*/tre(@\w+)?\s+nh(a|ậ)p\b"


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(TRE)
    return [
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL
                       & filters.CaptionRegex(_CAPTION), captioned_file),
        CallbackQueryHandler(ask_file, pattern=p + "imp$"),
        CallbackQueryHandler(confirm_import, pattern=p + r"impok(:[0-9a-f]+:\d+)?$"),
        CallbackQueryHandler(chose_header, pattern=p + r"mh:[0-9a-f]+:\d+:-?\d+$"),
        CallbackQueryHandler(chose_column, pattern=p + r"mc:[0-9a-f]+:\d+:-?\d+$"),
        CallbackQueryHandler(fix_columns, pattern=p + r"mfix:[0-9a-f]+:\d+$"),
        CallbackQueryHandler(previous_field, pattern=p + r"mb:[0-9a-f]+:\d+$"),
        CallbackQueryHandler(ask_template, pattern=p + "tpl$"),
        CallbackQueryHandler(ask_export, pattern=p + "exp$"),
    ]

