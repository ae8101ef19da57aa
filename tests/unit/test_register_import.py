"""Reading a commune's list: lenient Vietnamese headers, each row's reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import InvalidInput
from domain.register import Sex, SupportStatus
from domain.register_import import (
    FIELDS,
    REQUIRED,
    Layout,
    assign,
    cell_text,
    check_layout,
    choices_for,
    column_letter,
    column_views,
    find_header,
    guess_columns,
    guess_layout,
    header_choices,
    layout_for_header,
    map_header,
    parse_groups,
    parse_sex,
    parse_support,
    read_row,
    row_preview,
    village_key,
)

TODAY = dt.date(2026, 12, 3)


def test_headers_are_matched_leniently_and_the_caregiver_is_not_the_name():
    mapping = map_header(["STT", "HỌ VÀ TÊN", "Năm sinh", "Giới tính", "Thôn/Bản",
                          "Họ và tên người chăm sóc", "Hoàn cảnh", "Thẻ BHYT"])
    assert mapping == {"name": 1, "birth": 2, "sex": 3, "village": 4, "caregiver": 5,
                       "groups": 6, "bhyt": 7}
    assert map_header(["Tên", "Tuổi"]) is None


def test_the_header_may_come_after_a_title():
    rows = [["DANH SÁCH TRẺ EM"], [], ["Họ tên", "Ngày tháng năm sinh"], ["A", "2015"]]
    assert find_header(rows) == (2, {"name": 0, "birth": 1})


@pytest.mark.parametrize(("text", "sex"), [("Nam", Sex.MALE), ("nữ", Sex.FEMALE),
                                           ("Nu", Sex.FEMALE), ("trai", Sex.MALE)])
def test_sex(text, sex):
    assert parse_sex(text) is sex


def test_sex_unreadable():
    with pytest.raises(InvalidInput, match="import_sex"):
        parse_sex("?")


def test_groups_in_words():
    assert parse_groups("Mồ côi cả cha và mẹ; khuyết tật") == (["orphan", "disability"],
                                                               False, None)
    groups, at_risk, risk = parse_groups("Có nguy cơ bỏ học")
    assert at_risk and risk == "Có nguy cơ bỏ học" and groups == ["dropout_work"]
    with pytest.raises(InvalidInput, match="import_group"):
        parse_groups("")


@pytest.mark.parametrize(("text", "status"), [
    ("Có", SupportStatus.HAS), ("x", SupportStatus.HAS), ("Chưa", SupportStatus.MISSING),
    ("Đang làm hồ sơ", SupportStatus.APPLIED), ("Không thuộc diện", SupportStatus.NOT_ELIGIBLE),
    ("", None), (None, None)])
def test_support_cells(text, status):
    assert parse_support(text) == status


def test_village_names_without_their_prefix():
    assert village_key("Thôn Đông") == village_key("đông") == "dong"


MAPPING = {"name": 0, "birth": 1, "sex": 2, "village": 3, "groups": 4}


def test_a_row_with_an_excel_date():
    row = read_row(2, ["Lê Thị Hoa", dt.datetime(2016, 6, 5), "Nữ", "Đông", "Khuyết tật"],
                   MAPPING, today=TODAY)
    assert row.birth.date == dt.date(2016, 6, 5) and row.sex is Sex.FEMALE


@pytest.mark.parametrize(("cells", "code"), [
    (["", "2015", "Nam", "Đông", "Khuyết tật"], "child_name_blank"),
    (["A B", None, "Nam", "Đông", "Khuyết tật"], "import_birth_missing"),
    (["A B", "31/2/2015", "Nam", "Đông", "Khuyết tật"], "birth_impossible"),
    (["A B", 2005, "Nam", "Đông", "Khuyết tật"], "birth_too_old"),
    (["A B", "2015", "", "Đông", "Khuyết tật"], "import_sex"),
    (["A B", "2015", "Nam", "", "Khuyết tật"], "import_village_missing"),
    (["A B", "2015", "Nam", "Đông", ""], "import_group"),
])
def test_a_bad_row_says_why(cells, code):
    with pytest.raises(InvalidInput, match=code):
        read_row(2, cells, MAPPING, today=TODAY)


def test_an_empty_row_is_skipped():
    assert read_row(2, [None, "", None], MAPPING, today=TODAY) is None


# --- the column mapping -----------------------------------------------------------------

ODD = [["DANH SÁCH TRẺ EM"], [],
       ["STT", "Tên cháu", "Sinh ngày", "Nam/Nữ", "Xóm", "Diện", None],
       [1, "Lê Thị Hoa", dt.datetime(2016, 6, 5), "Nữ", "Đông", "Mồ côi", None],
       [2, "Phạm Văn Nam", 2018.0, "Nam", "Đoài", "Khuyết tật", "ghi chú dài"]]


def test_column_letters_as_excel_names_them():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_required_fields_come_first_in_the_questions():
    assert FIELDS[:len(REQUIRED)] == REQUIRED
    assert len(set(FIELDS)) == len(FIELDS)


def test_unusual_headings_are_not_guessed_but_the_ones_known_are():
    assert guess_columns(ODD[2]) == {"village": 4}
    assert guess_layout(ODD) is None
    assert layout_for_header(ODD, 2) == Layout(2, {"village": 4})
    assert layout_for_header(ODD, None) == Layout(None, {})
    assert guess_layout([["Họ và tên", "Năm sinh"], ["A", 2015]]) == Layout(
        0, {"name": 0, "birth": 1})


def test_the_rows_offered_as_header_skip_blank_ones():
    assert header_choices(ODD) == [0, 2, 3, 4]
    assert header_choices([[None, " "], []]) == []
    assert len(header_choices([[i] for i in range(20)])) == 8


def test_cells_and_rows_as_buttons_show_them():
    assert cell_text(dt.datetime(2016, 6, 5, 0, 0)) == "05/06/2016"
    assert cell_text(2018.0) == "2018" and cell_text(None) == "" and cell_text("  ") == ""
    assert cell_text("Mồ côi   cả\ncha và mẹ", 12) == "Mồ côi cả c…"
    assert row_preview(ODD[3]) == "1 | Lê Thị Hoa | 05/06/2016 | Nữ | Đông | M…"
    assert row_preview(["Họ và tên", None, "Năm sinh"]) == "Họ và tên | Năm sinh"


def test_columns_have_a_heading_and_the_first_data_rows_value():
    views = column_views(ODD, 2)
    assert [(v.letter, v.heading, v.example) for v in views] == [
        ("A", "STT", "1"), ("B", "Tên cháu", "Lê Thị Hoa"), ("C", "Sinh ngày", "05/06/2016"),
        ("D", "Nam/Nữ", "Nữ"), ("E", "Xóm", "Đông"), ("F", "Diện", "Mồ côi"),
        ("G", "", "")]  # a column with a value further down only (the note on row 5)
    headless = column_views([["Trần Văn Lâm", "2017"]], None)
    assert [(v.letter, v.heading, v.example) for v in headless] == [
        ("A", "", "Trần Văn Lâm"), ("B", "", "2017")]


def test_a_layout_needs_the_name_and_the_birth_and_one_field_per_column():
    check_layout(Layout(2, {"name": 1, "birth": 2, "village": 4}), 7)
    with pytest.raises(InvalidInput, match="import_map_incomplete"):
        check_layout(Layout(2, {"name": 1}), 7)
    with pytest.raises(InvalidInput, match="import_map_incomplete"):
        check_layout(Layout(2, {"name": 1, "birth": 9}), 7)
    with pytest.raises(InvalidInput, match="import_map_twice"):
        check_layout(Layout(2, {"name": 1, "birth": 1}), 7)


def test_assigning_columns_field_by_field():
    layout = Layout(2, {"village": 4, "groups": 1})  # a wrong guess: groups on the name
    layout = assign(layout, "name", 1, 7)
    assert layout.columns == {"village": 4, "name": 1}  # the later field lost the column
    assert choices_for("birth", layout, 7) == [0, 2, 3, 4, 5, 6]
    assert choices_for("village", layout, 7) == [0, 2, 3, 4, 5, 6]
    with pytest.raises(InvalidInput, match="import_map_twice"):
        assign(layout, "birth", 1, 7)  # the name's column
    with pytest.raises(InvalidInput, match="import_map_incomplete"):
        assign(layout, "birth", None, 7)  # required
    layout = assign(layout, "birth", 2, 7)
    layout = assign(layout, "village", None, 7)  # "no such column"
    assert layout.columns == {"name": 1, "birth": 2}
    check_layout(layout, 7)


def test_a_layout_round_trips_through_the_pending_input_and_refuses_forged_data():
    layout = Layout(None, {"name": 0, "birth": 3})
    assert Layout.from_data(layout.as_data()) == layout
    assert layout.first_data_row == 0 and Layout(2, {}).first_data_row == 3
    for bad in ({"header": -1, "columns": {}}, {"header": 0, "columns": {"x": 1}},
                {"header": 0, "columns": {"name": -2}}, {"header": "0", "columns": {}}):
        with pytest.raises(InvalidInput):
            Layout.from_data(bad)
