"""The compiled report of a locked round: the targets table as XLSX (openpyxl) and a draft of
the report text as DOCX (python-docx), for the officer to edit and sign.

The words (headings, labels) come translated from the caller, as in services/stats_export.py:
this module only lays them out."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

from domain.targets import Source, Unit, format_value, rule_text
from services.rounds import Compiled, CompiledRow, ProvinceTable, group_number

# Keys of the words the caller passes in.
WORDS = ("sheet_targets", "sheet_figures", "sheet_parts", "number", "target", "unit", "goal",
         "this_period", "last_period", "agency", "assessment", "met", "not_met", "unknown",
         "figure", "status", "late", "sent", "draft", "none", "title", "period",
         "results_heading", "targets_heading", "agencies_heading", "highlights", "difficulties",
         "not_given", "not_sent", "figures_heading", "late_heading", "footer", "yes", "no")


def file_stem(compiled: Compiled) -> str:
    code = re.sub(r"[^a-z0-9-]+", "-", compiled.round.code.lower()).strip("-") or "bao-cao"
    return f"{code}-{compiled.round.year}"


def _grouped(rows: list[CompiledRow]) -> list[tuple[CompiledRow | None, CompiledRow]]:
    """The rows with, before the first part of a target with several rates, that target
    (as (part, row) pairs: `part` is the row that opens a group, else None)."""
    out, group = [], None
    for row in rows:
        opens = row.group is not None and row.group != group
        group = row.group
        out.append((row if opens else None, row))
    return out


def _unit_label(unit: Unit) -> str:
    return {Unit.COUNT: "", Unit.YES_NO: ""}.get(unit, unit.value)


def _assessment(met: bool | None, words: Mapping[str, str]) -> str:
    return words["unknown"] if met is None else words["met"] if met else words["not_met"]


def xlsx_bytes(compiled: Compiled, words: Mapping[str, str],
               figure_names: Mapping[str, str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = words["sheet_targets"][:31]
    bold = Font(bold=True)
    sheet.append([words["number"], words["target"], words["unit"], words["goal"],
                  words["this_period"], words["last_period"], words["agency"],
                  words["assessment"]])
    for cell in sheet[1]:
        cell.font = bold
    for opens, row in _grouped(compiled.rows):
        if opens is not None:  # the whole target, then one row per rate
            sheet.append([group_number(opens), opens.title])
            sheet.cell(row=sheet.max_row, column=2).font = bold
        sheet.append([row.number, row.name, _unit_label(row.unit),
                      rule_text(row.rule, row.unit, row.goal),
                      row.value, row.last,
                      words["sheet_figures"] if row.source is Source.BOT else row.agency,
                      _assessment(row.met, words)])
        if row.unit is Unit.YES_NO:  # shown as Có/Không, not 1/0
            for column in (5, 6):
                cell = sheet.cell(row=sheet.max_row, column=column)
                if cell.value is not None:
                    cell.value = words["yes"] if cell.value else words["no"]
    for column, width in zip("ABCDEFGH", (6, 70, 10, 22, 12, 12, 30, 14), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")

    figures = book.create_sheet(words["sheet_figures"][:31])
    figures.append([words["figure"], words["this_period"], words["last_period"]])
    for cell in figures[1]:
        cell.font = bold
    for code, value, last in compiled.figures:
        figures.append([figure_names.get(code, code), value, last])
    figures.column_dimensions["A"].width = 60

    parts = book.create_sheet(words["sheet_parts"][:31])
    parts.append([words["agency"], words["status"], words["late"]])
    for cell in parts[1]:
        cell.font = bold
    for part in compiled.parts:
        parts.append([part.agency, words[part.status], words["yes"] if part.late else ""])
    parts.column_dimensions["A"].width = 40

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_bytes(compiled: Compiled, words: Mapping[str, str],
               figure_names: Mapping[str, str]) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(words["title"], level=0)
    document.add_paragraph(words["period"])

    document.add_heading(words["targets_heading"], level=1)
    table = document.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells,
                          (words["number"], words["target"], words["goal"],
                           words["this_period"], words["last_period"], words["assessment"]),
                          strict=True):
        cell.text = text
    for opens, row in _grouped(compiled.rows):
        if opens is not None:
            head = table.add_row().cells
            head[0].text = group_number(opens)
            merged = head[1].merge(head[5])
            merged.text = opens.title or ""
        cells = table.add_row().cells
        values = (row.number, row.name, rule_text(row.rule, row.unit, row.goal),
                  format_value(row.unit, row.value) or words["not_given"],
                  format_value(row.unit, row.last), _assessment(row.met, words))
        for cell, text in zip(cells, values, strict=True):
            cell.text = text

    document.add_heading(words["figures_heading"], level=1)
    for code, value, last in compiled.figures:
        if value or last:
            document.add_paragraph(f"{figure_names.get(code, code)}: {value} ({last})",
                                   style="List Bullet")

    document.add_heading(words["agencies_heading"], level=1)
    for part in compiled.parts:
        document.add_heading(part.agency, level=2)
        if part.status == "none":
            document.add_paragraph(words["not_sent"])
            continue
        document.add_paragraph(words["highlights"]).runs[0].bold = True
        document.add_paragraph(part.highlights or words["not_given"])
        document.add_paragraph(words["difficulties"]).runs[0].bold = True
        document.add_paragraph(part.difficulties or words["not_given"])

    late = [part.agency for part in compiled.parts if part.late]
    if late:
        document.add_heading(words["late_heading"], level=1)
        for name in late:
            document.add_paragraph(name, style="List Bullet")
    document.add_paragraph(words["footer"])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def province_xlsx_bytes(table: ProvinceTable, words: Mapping[str, str]) -> bytes:
    """The province's communes side by side: one row per target (part), two columns per
    commune (this period's value, met or not), a row of who has sent; sheet 2: each
    commune's round and the agencies not sent yet. Aggregates only."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = words["sheet_targets"][:31]
    bold = Font(bold=True)
    head = [words["number"], words["target"], words["unit"], words["goal"]]
    for column in table.columns:
        head += [f"{column.commune}: {words['this_period']}",
                 f"{column.commune}: {words['assessment']}"]
    sheet.append(head)
    sent = ["", words["sent_by"], "", ""]
    for column in table.columns:
        sent += [f"{column.sent}/{column.total}" if column.round is not None
                 else words["no_round"], ""]
    sheet.append(sent)
    for cells in (sheet[1], sheet[2]):
        for cell in cells:
            cell.font = bold
    for opens, row in _grouped(table.rows):
        if opens is not None:
            sheet.append([group_number(opens), opens.title])
        line = [row.number, row.name, _unit_label(row.unit),
                rule_text(row.rule, row.unit, row.goal)]
        for column in table.columns:
            own = column.rows.get(row.code)
            if own is None:
                line += [None, None]
                continue
            value = own.value
            if own.unit is Unit.YES_NO and value is not None:
                value = words["yes"] if value else words["no"]
            line += [value, _assessment(own.met, words)]
        sheet.append(line)
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 60
    for cells in sheet.iter_rows(min_row=3, min_col=2, max_col=2):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")

    communes = book.create_sheet(words["sheet_communes"][:31])
    communes.append([words["commune"], words["round"], words["status"], words["sent_by"],
                     words["not_sent_by"]])
    for cell in communes[1]:
        cell.font = bold
    for column in table.columns:
        if column.round is None:
            communes.append([column.commune, words["no_round"]])
            continue
        state = words["open"] if column.round.status == "open" else words["locked"]
        communes.append([column.commune, f"{column.round.name} {column.round.year}", state,
                         f"{column.sent}/{column.total}", ", ".join(column.late)])
    communes.column_dimensions["A"].width = 30
    communes.column_dimensions["B"].width = 30
    communes.column_dimensions["E"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
