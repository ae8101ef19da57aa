"""The report appendix as files: an XLSX workbook (a sheet of totals per indicator, a sheet
of cases without personal data), the totals as CSV, and a chart as a PNG.

Everything here is formatting: the texts arrive already translated, the numbers already
counted. Writing is synchronous and CPU-bound; callers run it in a worker thread.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

Number = int | float | None


@dataclass
class Row:
    number: str  # "1.2"
    label: str
    unit: str
    values: list[Number]  # one per column (commune)
    total: Number = None
    bold: bool = False


@dataclass
class Section:
    number: str  # "I"
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Appendix:
    """The totals sheet: heading lines, the column (commune) names, the sections."""

    heading: list[str]
    header: list[str]  # STT, indicator, unit (then the columns, then the total)
    columns: list[str]
    total_label: str | None  # None when there is a single column
    sections: list[Section]
    sheet_name: str

    def table(self) -> list[list]:
        """The header and every row as plain values, as both files show them."""
        head = [*self.header, *self.columns] + ([self.total_label] if self.total_label else [])
        rows = [head]
        for section in self.sections:
            rows.append([section.number, section.title.upper(), ""] + [""] * (len(head) - 3))
            for row in section.rows:
                values = list(row.values) + ([row.total] if self.total_label else [])
                rows.append([row.number, row.label, row.unit, *values])
        return rows


@dataclass
class Sheet:
    """One more sheet of figures: heading lines, a header, rows (values, bold)."""

    name: str
    heading: list[str]
    header: list[str]
    rows: list[tuple[list, bool]]


class WorkbookWriter:
    """Writes the workbook in write-only mode, so 100,000 case rows stay cheap."""

    def __init__(self, appendix: Appendix, case_sheet: str | None = None,
                 case_header: Sequence[str] | None = None,
                 sheets: Sequence[Sheet] = ()) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill

        self._cell = WriteOnlyCell
        self._bold = Font(bold=True)
        self._title = Font(bold=True, size=13)
        self._fill = PatternFill("solid", fgColor="DDEBF7")
        self._wrap = Alignment(wrap_text=True, vertical="top")
        self.book = Workbook(write_only=True)
        self.totals = self.book.create_sheet(appendix.sheet_name[:31])
        self.cases = None
        self._write_totals(appendix)
        for extra in sheets:
            self._write_sheet(extra)
        if case_sheet and case_header is not None:
            self.cases = self.book.create_sheet(case_sheet[:31])
            for index, width in enumerate([7, 10, 17] + [16] * (len(case_header) - 3)):
                self.cases.column_dimensions[_column(index)].width = width
            self.cases.append([self._styled(h, self._bold, fill=True) for h in case_header])
        self.case_count = 0

    def _styled(self, value, font=None, fill: bool = False, fmt: str | None = None):  # noqa: ANN001, ANN202
        cell = self._cell(self.totals if self.cases is None else self.cases, value=value)
        if font is not None:
            cell.font = font
        if fill:
            cell.fill = self._fill
            cell.alignment = self._wrap
        if fmt:
            cell.number_format = fmt
        return cell

    def _write_totals(self, appendix: Appendix) -> None:
        sheet = self.totals
        widths = [7, 58, 14] + [16] * (len(appendix.columns) + (1 if appendix.total_label else 0))
        for index, width in enumerate(widths):
            sheet.column_dimensions[_column(index)].width = width
        for i, line in enumerate(appendix.heading):
            sheet.append([self._styled(line, self._title if i == 0 else self._bold)])
        sheet.append([])
        table = appendix.table()
        sheet.append([self._styled(v, self._bold, fill=True) for v in table[0]])
        section_numbers = {s.number for s in appendix.sections}  # their rows are headings
        bold_rows = {(r.number, r.label) for s in appendix.sections for r in s.rows if r.bold}
        for values in table[1:]:
            is_section = values[0] in section_numbers and values[2] == ""
            font = self._bold if is_section or (values[0], values[1]) in bold_rows else None
            sheet.append([self._styled(v, font, fmt="0.0" if isinstance(v, float) else None)
                          for v in values])

    def _write_sheet(self, extra: Sheet) -> None:
        sheet = self.book.create_sheet(extra.name[:31])
        for index, width in enumerate([62, 14, 14]):
            sheet.column_dimensions[_column(index)].width = width
        for i, line in enumerate(extra.heading):
            sheet.append([self._styled(line, self._title if i == 0 else self._bold)])
        sheet.append([])
        sheet.append([self._styled(v, self._bold, fill=True) for v in extra.header])
        for values, bold in extra.rows:
            sheet.append([self._styled(v, self._bold if bold else None,
                                       fmt="0.0" if isinstance(v, float) else None)
                          for v in values])

    def add_cases(self, rows: Sequence[Sequence]) -> None:
        for row in rows:
            self.cases.append(list(row))
        self.case_count += len(rows)

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def totals_csv(appendix: Appendix) -> bytes:
    """The totals table as CSV (UTF-8 with a BOM, so spreadsheet programs read the
    diacritics), one row per indicator, the heading lines first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in appendix.heading:
        writer.writerow([line])
    for values in appendix.table():
        writer.writerow(["" if v is None else (round(v, 1) if isinstance(v, float) else v)
                         for v in values])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- the chart ----------------------------------------------------------------------------------


@dataclass
class Panel:
    title: str
    items: list[tuple[str, int]]
    kind: str = "bars"  # bars | line


@dataclass
class Chart:
    title: str
    subtitle: str
    panels: list[Panel]
    empty_text: str


BAR_LIMIT = 12
_MATPLOTLIB = threading.Lock()  # matplotlib is not thread-safe: one chart at a time


def render_chart(chart: Chart) -> bytes:
    """A PNG readable on a phone (portrait, large type), Vietnamese labels (DejaVu Sans)."""
    with _MATPLOTLIB:
        return _render(chart)


def _render(chart: Chart) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    heights = [max(2.2, 0.42 * min(len(p.items), BAR_LIMIT) + 1.2) if p.kind == "bars" else 3.2
               for p in chart.panels]
    figure = Figure(figsize=(7.2, sum(heights) + 1.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"{chart.title}\n{chart.subtitle}", fontsize=13, fontweight="bold")
    axes = figure.subplots(len(chart.panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, panel in zip(axes, chart.panels, strict=True):
        ax.set_title(panel.title, fontsize=12, loc="left", fontweight="bold")
        ax.spines[["top", "right"]].set_visible(False)
        if not any(v for _l, v in panel.items):
            ax.text(0.5, 0.5, chart.empty_text, ha="center", va="center", fontsize=11,
                    transform=ax.transAxes, color="#666666")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if panel.kind == "line":
            labels = [label for label, _v in panel.items]
            values = [v for _l, v in panel.items]
            ax.plot(range(len(values)), values, marker="o", linewidth=2.2, color="#1f6fb2")
            for x, y in enumerate(values):
                ax.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=10)
            ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 7 else 0,
                          fontsize=10)
            ax.set_ylim(0, max(values) * 1.25 + 1)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(axis="y", labelsize=10)
            continue
        items = sorted(panel.items, key=lambda kv: (-kv[1], kv[0]))[:BAR_LIMIT][::-1]
        labels = [label for label, _v in items]
        values = [v for _l, v in items]
        bars = ax.barh(range(len(values)), values, color="#e07b39")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yticks(range(len(labels)), labels, fontsize=10.5)
        ax.bar_label(bars, padding=3, fontsize=10)
        ax.set_xlim(0, max(values) * 1.18 + 1)
        ax.tick_params(axis="x", labelsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
