"""Lays a filled decree form out as a .docx (python-docx) for the officer to print and sign.

The layout follows the decree's: "Mẫu số 01" at the top right; the receiving agency with the
document number on the left and the national motto with the place and date on the right; the
title; the labelled lines, each followed by what the case knows or by the dotted blank the
decree prints; the signature; the notes. A4, Times New Roman, as administrative documents are.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from domain.decree_forms import Filled, Heading, Row

FONT = "Times New Roman"
BLANK = "…………………"  # the decree's dotted blank where the case has no value
SIZE = Pt(13)
NOTE_SIZE = Pt(11)


def _font(style, size) -> None:  # noqa: ANN001
    style.font.name = FONT
    style.font.size = size
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _para(container, text: str = "", *, bold: bool = False, italic: bool = False,  # noqa: ANN001
          align=WD_ALIGN_PARAGRAPH.LEFT, size=None) -> Paragraph:  # noqa: ANN001
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(2)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic
        if size is not None:
            run.font.size = size
    return paragraph


def _cell_para(cell, text: str, **kwargs) -> Paragraph:  # noqa: ANN001, ANN003
    """A centred line in a header cell (the cell's first, empty paragraph is reused)."""
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) == 1 and not first.runs:
        run = first.add_run(text)
        run.bold, run.italic = kwargs.get("bold", False), kwargs.get("italic", False)
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        first.paragraph_format.space_after = Pt(0)
        return first
    paragraph = _para(cell, text, align=WD_ALIGN_PARAGRAPH.CENTER, **kwargs)
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def _add_value(paragraph, value: str) -> None:  # noqa: ANN001
    lines = value.split("\n")
    for number, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.italic = True
        if number < len(lines) - 1:
            run.add_break()


def _row(document, row: Row, values: dict[str, str]) -> None:  # noqa: ANN001
    paragraph = _para(document)
    for index, part in enumerate(row.parts):
        if index:
            paragraph.add_run(" ")
        paragraph.add_run(part.label)
        value = values.get(part.key or "")
        if value:
            paragraph.add_run(" ")
            _add_value(paragraph, value)
        else:
            paragraph.add_run(BLANK)


def _header(document, filled: Filled) -> None:  # noqa: ANN001
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    for line in filled.agency:
        _cell_para(left, line, bold=True)
    _cell_para(left, "-------")
    _cell_para(left, filled.number_line)
    _cell_para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True)
    _cell_para(right, "Độc lập - Tự do - Hạnh phúc", bold=True)
    _cell_para(right, "---------------")
    _cell_para(right, filled.date_line, italic=True)


def _signature(document, filled: Filled) -> None:  # noqa: ANN001
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(7.5), Cm(8.5)
    who, sign = filled.spec.signer
    _cell_para(right, who, bold=True)
    _cell_para(right, sign, italic=True)


def render(filled: Filled) -> bytes:
    """The filled form as the bytes of a .docx file."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    _font(document.styles["Normal"], SIZE)
    properties = document.core_properties
    properties.title = filled.properties.get("title", filled.spec.full_name)
    properties.subject = filled.properties.get("subject", "")
    properties.comments = filled.properties.get("comments", "")
    properties.author = "treem-bot"

    spec = filled.spec
    _para(document, spec.number, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _header(document, filled)
    _para(document)
    for line in spec.title:
        _para(document, line, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(document)
    for block in spec.body:
        if isinstance(block, Heading):
            _para(document, block.text, bold=True)
        else:
            _row(document, block, filled.values)
    _para(document)
    _signature(document, filled)
    _para(document)
    _para(document, "Ghi chú:", bold=True, italic=True, size=NOTE_SIZE)
    for note in spec.notes:
        _para(document, note, italic=True, size=NOTE_SIZE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
