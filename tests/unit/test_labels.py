"""Button labels that a phone never cuts off, and long lists a page at a time."""

from __future__ import annotations

from handlers.paging import nav_row, page_of
from handlers.texts import BUTTON_CHARS, button_label, numbered_choices


def test_a_long_name_is_shortened_at_a_word():
    label = button_label("Ủy ban Mặt trận Tổ quốc Việt Nam xã")
    assert len(label) <= BUTTON_CHARS and label.endswith("…")
    assert label == "Ủy ban Mặt trận Tổ quốc Việt…"
    assert button_label("Trạm Y tế xã") == "Trạm Y tế xã"


def test_choices_carry_numbers_and_the_full_names_only_when_one_is_cut():
    assert numbered_choices(["Công an xã", "Trạm Y tế xã"]) == (["Công an xã", "Trạm Y tế xã"], "")
    labels, listing = numbered_choices(["Công an xã", "Trung tâm Dịch vụ sự nghiệp công xã"], 10)
    assert labels == ["11. Công an xã", "12. Trung tâm Dịch vụ sự…"]
    assert listing == "11. Công an xã\n12. Trung tâm Dịch vụ sự nghiệp công xã"
    assert all(len(label) <= BUTTON_CHARS for label in labels)


def test_pages_of_a_long_list():
    page = page_of(list(range(120)), 5)
    assert (page.items[0], page.page, page.pages, page.first) == (50, 5, 12, 50)
    assert page_of(list(range(120)), 99).page == 11  # a stale page number: the last page
    assert [label for label, _data in nav_row(page, str)[0]] == ["◀️ Trang trước", "Trang sau ▶️"]
    assert nav_row(page_of([1, 2], 0), str) == []


def test_moves_back_and_reopening_read_as_such():
    from domain.cases import CaseStatus, is_backward
    from handlers.texts import move_label

    assert is_backward(CaseStatus.REVIEWING, CaseStatus.SUPPORTING)
    assert not is_backward(CaseStatus.ASSESSING, CaseStatus.PLANNING)
    assert not is_backward(CaseStatus.CLOSED, CaseStatus.ASSESSING)
    assert move_label("reviewing", "supporting") == "↩️ Quay lại: Thực hiện kế hoạch"
    assert move_label("assessing", "planning") == "➡️ Lập kế hoạch hỗ trợ"
    assert move_label("closed", "assessing") == "🔓 Mở lại vụ việc"
