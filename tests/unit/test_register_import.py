"""Reading a commune's list: lenient Vietnamese headers, each row's reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import InvalidInput
from domain.register import Sex, SupportStatus
from domain.register_import import (
    find_header,
    map_header,
    parse_groups,
    parse_sex,
    parse_support,
    read_row,
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
