"""The register's files for the commune's officers: importing the existing Excel list (a dry
run, then "Nhập N trẻ"), the template to fill in, and the XLSX export of the register. The
file itself is never stored: the dry run keeps only its Telegram file id and a hash in the
pending input, and the import reads it again and re-checks everything when pressed."""

from __future__ import annotations

import asyncio
import hashlib
import io

from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.i18n import _, vi_number
from domain.errors import InvalidInput
from domain.register_access import RegisterAction, ensure
from domain.register_import import MAX_FILE_BYTES, MAX_ROWS
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


async def _dry_run(request: Request, commune_id: int, message) -> list[Reply]:  # noqa: ANN001
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
    result = await importer.plan(request.actor, commune_id, data, name,
                                 session=request.session, today=_today(request))
    if not result.new and not result.updates:
        await cases_service.drop_input(request.user_id, session=request.session)
        return [Reply(_summary(result) + "\n\n" + _("Nothing new to import."))]
    pending = await cases_service.expect_input(
        request.user_id, IMPORTING, session=request.session, now=request.now,
        data={"commune": commune_id, "file": document.file_id, "name": name,
              "sha": hashlib.sha256(data).hexdigest()})
    del pending
    label = (_("✅ Import {n} children").format(n=vi_number(len(result.new)))
             if not result.updates else
             _("✅ Add {n}, update {m}").format(n=vi_number(len(result.new)),
                                               m=vi_number(len(result.updates))))
    return [Reply(_summary(result), keyboard([
        [(label, cb.build(TRE, "impok"))],
        [(_("✖️ Cancel"), cb.build(TRE, "x"))]]))]


async def _took_file(request: Request, pending, message) -> list[Reply]:  # noqa: ANN001
    """The document sent after "Import from a file"."""
    if pending.data.get("file"):
        return [Reply(_("Please press “Import” or “Cancel” under the dry run first."))]
    try:
        return await _dry_run(request, int(pending.data["commune"]), message)
    except InvalidInput as problem:
        if problem.code in ("import_too_big", "import_too_many_rows"):
            await cases_service.drop_input(request.user_id, session=request.session)
        raise


@handles
async def captioned_file(request: Request) -> list[Reply]:
    """A document captioned "/tre nhap": the dry run straight away."""
    commune_id = await _check_officer(request)
    return await _dry_run(request, commune_id, request.update.effective_message)


@handles
async def confirm_import(request: Request) -> Reply:
    """"Import N children": the file read again, the plan made again, one transaction."""
    commune_id = await _check_officer(request)
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None or pending.kind != IMPORTING or not pending.data.get("file"):
        return Reply(_("This import is no longer open. Use /tre to start again."))
    wanted = dict(pending.data)
    request.session.expunge(pending)
    if not await importer.claim(pending.id, session=request.session):
        return Reply(_("This import is no longer open. Use /tre to start again."))
    data = await _download(request, wanted["file"])
    if hashlib.sha256(data).hexdigest() != wanted.get("sha"):
        raise InvalidInput("import_format")
    result = await importer.run(request.actor, commune_id, data, wanted["name"],
                                session=request.session, now=request.now,
                                today=_today(request), review_months=_months(request))
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
        CallbackQueryHandler(confirm_import, pattern=p + "impok$"),
        CallbackQueryHandler(ask_template, pattern=p + "tpl$"),
        CallbackQueryHandler(ask_export, pattern=p + "exp$"),
    ]

