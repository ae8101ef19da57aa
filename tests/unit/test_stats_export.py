"""The files and the chart of the report appendix, and how the figures fit in messages."""

from __future__ import annotations

import csv
import io

import openpyxl

from handlers.stats import plain
from handlers.texts import MESSAGE_BUDGET, chunks
from services.stats_export import (
    Appendix,
    Chart,
    Panel,
    Row,
    Section,
    WorkbookWriter,
    render_chart,
    totals_csv,
)


def _appendix() -> Appendix:
    rows = [Row("1", "Tổng số tin báo tiếp nhận", "tin báo", [3, 4], 7, True),
            Row("2", "Tỷ lệ tin báo khẩn cấp được đánh giá trong 12 giờ", "%", [50.0, None], 33.3)]
    return Appendix(heading=["PHỤ LỤC", "Đơn vị: Tỉnh Ninh Bình"],
                    header=["STT", "Chỉ tiêu", "Đơn vị tính"], columns=["Xã A", "Xã B"],
                    total_label="Tổng cộng", sections=[Section("I", "Tin báo tiếp nhận", rows)],
                    sheet_name="Tổng hợp")


def test_workbook_and_csv_hold_the_same_table():
    writer = WorkbookWriter(_appendix(), "Danh sách vụ việc", ["STT", "Số hồ sơ", "Thôn"])
    writer.add_cases([[1, 17, "Thôn Đông"], [2, 18, None]])
    book = openpyxl.load_workbook(io.BytesIO(writer.finish()))
    assert book.sheetnames == ["Tổng hợp", "Danh sách vụ việc"]
    totals = list(book["Tổng hợp"].iter_rows(values_only=True))
    assert totals[0][0] == "PHỤ LỤC" and totals[3] == ("STT", "Chỉ tiêu", "Đơn vị tính", "Xã A",
                                                        "Xã B", "Tổng cộng")
    assert totals[4][:2] == ("I", "TIN BÁO TIẾP NHẬN")
    assert totals[5] == ("1", "Tổng số tin báo tiếp nhận", "tin báo", 3, 4, 7)
    assert totals[6][3:] == (50, None, 33.3)
    assert list(book["Danh sách vụ việc"].iter_rows(values_only=True))[1:] == [
        (1, 17, "Thôn Đông"), (2, 18, None)]
    data = totals_csv(_appendix())
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["1", "Tổng số tin báo tiếp nhận", "tin báo", "3", "4", "7"] in table


def test_a_province_workbook_can_have_no_case_sheet():
    writer = WorkbookWriter(_appendix())
    assert openpyxl.load_workbook(io.BytesIO(writer.finish())).sheetnames == ["Tổng hợp"]


def test_the_chart_renders_with_data_and_without():
    chart = Chart("Tin báo tiếp nhận: Xã Minh Tân", "15/11/2026 – 14/05/2027", [
        Panel("Tin báo theo loại sự việc", [("Bị đánh, bạo lực", 3), ("Bỏ học", 1)]),
        Panel("Tin báo theo thôn", []),
        Panel("Tin báo theo tháng", [("11/2026", 0), ("12/2026", 4)], kind="line"),
    ], empty_text="Chưa có tin báo trong kỳ này")
    png = render_chart(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    empty = Chart("x", "y", [Panel("a", []), Panel("b", [("11/2026", 0)], kind="line")], "—")
    assert render_chart(empty).startswith(b"\x89PNG")


def test_long_figures_are_split_between_lines_never_over_the_limit():
    villages = "\n".join(f"• Thôn số {i} (Xã {i % 40}): {i}" for i in range(600))
    blocks = ["<b>I. Tin báo</b>\nTổng số: 5", villages, "<b>II. Vụ việc</b>\n• Cao: 1"]
    messages = chunks(blocks, "📊 <b>Số liệu</b>")
    assert len(messages) > 3 and all(len(m) <= MESSAGE_BUDGET for m in messages)
    lines = [line for m in messages for line in m.split("\n") if line]
    assert lines == [line for b in ["📊 <b>Số liệu</b>", *blocks] for line in b.split("\n")]
    assert chunks(["a", "b"], "h") == ["h\n\na\n\nb"]


def test_labels_lose_their_emoji_in_files():
    assert plain("👊 Bị đánh, bạo lực") == "Bị đánh, bạo lực"
    assert plain("❓ Việc khác") == "Việc khác" and plain("Thôn Đông") == "Thôn Đông"
