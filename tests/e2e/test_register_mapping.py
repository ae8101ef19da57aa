"""Reading a list whose columns the bot does not recognise, end to end through the fake
Telegram: the officer says which row is the header and which column holds each field, by
buttons, from a phone; the dry run and the import use that reading. Also: a file with no
header row at all, "Fix the columns" under a dry run read wrongly, and what real people do in
the middle (a stale button, a typed word, a second file, a command)."""

from __future__ import annotations

import io

import openpyxl
from sqlmodel import select

from handlers import callback_data as cb
from storage.models import PendingInput, RegisterChild
from tests.e2e import test_register as base
from tests.e2e.test_register import act
from tests.e2e.test_register_files import active_count, send_file, send_file_all

people = base.people

ODD_HEADER = ["STT", "Tên cháu", "Sinh ngày", "Nam/Nữ", "Xóm", "Diện hoàn cảnh", "Ghi chú"]
ODD_ROWS = [
    [1, "Lê Thị Hoa", "05/06/2016", "Nữ", "Đông", "Mồ côi cả cha và mẹ", "ở với bà"],
    [2, "Phạm Văn Nam", 2018, "Nam", "Đoài", "Khuyết tật", ""],
]


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def labels(message) -> list[str]:
    return [b["text"] for b in message.buttons]


async def pending_of(bot, user) -> PendingInput | None:
    async with bot.db.session() as session:
        return (await session.exec(select(PendingInput).where(
            PendingInput.user_id == user.id))).first()


async def test_unusual_headings_mapped_by_buttons_and_imported(bot, people):
    """Title on row 1, headings the bot does not know on row 2: the header row is asked,
    then field by field; a stale button, a typed word and a second file in the middle change
    nothing; the import uses the reading chosen."""
    officer = people["officer"]
    data = workbook([["DANH SÁCH TRẺ EM XÓM ĐÔNG, XÓM ĐOÀI"], ODD_HEADER, *ODD_ROWS])
    home = await act(officer, "/tre")
    await act(officer, press=home, label="Nhập từ tệp")
    header_q = await send_file(officer, data, "xom.xlsx")
    assert "không nhận ra dòng tiêu đề" in header_q.text
    assert labels(header_q) == [
        "Dòng 1: DANH SÁCH TRẺ EM XÓM ĐÔNG, XÓM ĐOÀI",
        "Dòng 2: STT | Tên cháu | Sinh ngày | Nam/Nữ | Xóm…",
        "Dòng 3: 1 | Lê Thị Hoa | 05/06/2016 | Nữ | Đông | M…",
        "Dòng 4: 2 | Phạm Văn Nam | 2018 | Nam | Đoài | Khuy…",
        "Không có dòng tiêu đề (dữ liệu từ dòng 1)", "✖️ Hủy"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in header_q.buttons)

    name_q = await act(officer, press=header_q, label="Dòng 2")
    assert "(1/9)" in name_q.text and "họ và tên của trẻ" in name_q.text
    assert "bắt buộc" in name_q.text and "Không có cột này" not in str(name_q.buttons)
    assert labels(name_q)[:3] == ["Cột A: STT (vd: 1)", "Cột B: Tên cháu (vd: Lê Thị Hoa)",
                                  "Cột C: Sinh ngày (vd: 05/06/2016)"]
    old_name_button = name_q.button("Cột B")["callback_data"]
    birth_q = await act(officer, press=name_q, label="Cột B: Tên cháu")
    assert "(2/9)" in birth_q.text and "ngày sinh" in birth_q.text
    assert "Cột B" not in str(birth_q.buttons)  # the name's column is taken

    # A stale button (the name question's, pressed again): nothing changes, the current
    # question is asked again.
    word, again = await act(officer, press=name_q, data=old_name_button, replies=2)
    assert "thuộc một bước trước" in word.text and "không có gì thay đổi" in word.text
    assert "(2/9)" in again.text
    # A word typed, then a second file: the same question again, nothing half-done.
    word, again = await act(officer, "Sinh ngày là cột C", replies=2)
    assert "đang chọn cách đọc các cột" in word.text and "(2/9)" in again.text
    word, again = await send_file_all(officer, workbook([["Họ và tên", "Năm sinh"]]),
                                      "khac.xlsx", count=2)
    assert "Hủy trước" in word.text and "(2/9)" in again.text and "xom.xlsx" in again.text

    sex_q = await act(officer, press=again, label="Cột C: Sinh ngày")
    assert "(3/9)" in sex_q.text and "✅ Không có cột này" in labels(sex_q)
    village_q = await act(officer, press=sex_q, label="Cột D: Nam/Nữ")
    # "Xóm" was recognised in the row chosen: marked.
    assert "✅ Cột E: Xóm (vd: Đông)" in labels(village_q)
    groups_q = await act(officer, press=village_q, label="Cột E")
    assert "hoàn cảnh" in groups_q.text
    caregiver_q = await act(officer, press=groups_q, label="Cột F: Diện hoàn cảnh")
    question = caregiver_q
    for step in ("(6/9)", "(7/9)", "(8/9)", "(9/9)"):
        assert step in question.text
        question = await act(officer, press=question, label="Không có cột này")
    dry = question
    text = dry.text
    assert "Các cột trong tệp (dòng tiêu đề: dòng 2)" in text
    assert "• Cột A: STT (vd: 1) → bỏ qua" in text
    assert "• Cột B: Tên cháu (vd: Lê Thị Hoa) → họ và tên của trẻ" in text
    assert "• Cột E: Xóm (vd: Đông) → thôn" in text
    assert "• Cột G: Ghi chú (vd: ở với bà) → bỏ qua" in text
    assert "Trẻ mới sẽ thêm: 2" in text and "dòng 3–4" in text
    assert "Dòng bị từ chối (bỏ qua): 0" in text
    assert labels(dry) == ["✅ Nhập 2 trẻ", "🧭 Sửa cách đọc cột", "✖️ Hủy"]
    pending = await pending_of(bot, officer)
    assert pending.data["layout"] == {"header": 1, "columns": {
        "name": 1, "birth": 2, "sex": 3, "village": 4, "groups": 5}}
    assert "Lê Thị Hoa" not in str(pending.data)  # the file is not kept, only how to read it
    assert await active_count(bot) == 0

    done = await act(officer, press=dry, label="Nhập 2 trẻ")
    assert "đã thêm 2 trẻ" in done.text
    async with bot.db.session() as session:
        children = {c.full_name: c for c in (await session.exec(select(RegisterChild))).all()}
    assert set(children) == {"Lê Thị Hoa", "Phạm Văn Nam"}
    hoa = children["Lê Thị Hoa"]
    assert hoa.sex == "female" and hoa.birth_date.isoformat() == "2016-06-05"
    assert hoa.groups == ["orphan"] and hoa.caregiver is None
    assert children["Phạm Văn Nam"].birth_year == 2018
    # An old mapping button after the import: nothing is open any more.
    stale = await act(officer, press=dry, data=old_name_button)
    assert "không còn mở" in stale.text
    assert await active_count(bot) == 2


async def test_a_file_without_a_header_row(bot, people):
    """A CSV of data only: "No header row", the columns by their letter and first value, the
    rows numbered from 1."""
    officer = people["officer"]
    csv_text = ("Trần Văn Lâm;2017;Nam;Thôn Đông;Khuyết tật\n"
                "Đỗ Thị Mơ;31/02/2016;Nữ;Thôn Đoài;Mồ côi\n"
                "Lý Thị Na;2019;Nữ;Thôn Đoài;Mồ côi\n")
    header_q = await send_file(officer, csv_text.encode(), "ds.csv", caption="/tre nhap")
    assert labels(header_q)[0] == "Dòng 1: Trần Văn Lâm | 2017 | Nam | Thôn Đông | Khu…"
    name_q = await act(officer, press=header_q, label="Không có dòng tiêu đề")
    assert labels(name_q)[:2] == ["Cột A (vd: Trần Văn Lâm)", "Cột B (vd: 2017)"]
    question = name_q
    for column in ("Cột A", "Cột B", "Cột C", "Cột D", "Cột E"):
        question = await act(officer, press=question, label=column)
    assert "(6/9)" in question.text
    while "/9)" in question.text.split("\n")[0]:
        question = await act(officer, press=question, label="Không có cột này")
    dry = question
    assert "không có dòng tiêu đề: dữ liệu bắt đầu từ dòng 1" in dry.text
    assert "• Cột A (vd: Trần Văn Lâm) → họ và tên của trẻ" in dry.text
    assert "Trẻ mới sẽ thêm: 2" in dry.text and "dòng 1, 3" in dry.text
    assert "dòng 2: ngày sinh không có thật" in dry.text
    done = await act(officer, press=dry, label="Nhập 2 trẻ")
    assert "đã thêm 2 trẻ" in done.text and await active_count(bot) == 2


async def test_fix_the_columns_of_a_file_read_wrongly(bot, people):
    """"Địa chỉ" is taken for the village, but the village is in "Thôn": every row refused,
    nothing to import; "Fix the columns" walks the fields with the current reading marked,
    the village moved to "Thôn", and the import goes through. A command mid-way drops it."""
    officer = people["officer"]
    data = workbook([["Họ và tên", "Năm sinh", "Giới tính", "Địa chỉ", "Thôn", "Hoàn cảnh"],
                     ["Trần Văn Lâm", 2017, "Nam", "Xã Minh Tân", "Đông", "Khuyết tật"],
                     ["Lý Thị Na", 2019, "Nữ", "Xã Minh Tân", "Đoài", "Mồ côi"]])
    dry = await send_file(officer, data, "ds.xlsx", caption="/tre nhap")
    assert "• Cột D: Địa chỉ (vd: Xã Minh Tân) → thôn" in dry.text
    assert "• Cột E: Thôn (vd: Đông) → bỏ qua" in dry.text
    assert "Trẻ mới sẽ thêm: 0" in dry.text and "dòng 2: thôn không thuộc xã" in dry.text
    assert labels(dry) == ["🧭 Sửa cách đọc cột", "✖️ Hủy"]

    # A command in the middle drops the import with a word; its buttons are then dead.
    name_q = await act(officer, press=dry, label="Sửa cách đọc cột")
    assert labels(name_q)[0] == "✅ Cột A: Họ và tên (vd: Trần Văn Lâm)"
    word, _home = await act(officer, "/tre", replies=2)
    assert word.text == "↩️ Đã bỏ việc nhập danh sách. Chưa có gì được lưu."
    dead = await act(officer, press=name_q, label="Cột A")
    assert "không còn mở" in dead.text
    assert await pending_of(bot, officer) is None

    dry = await send_file(officer, data, "ds.xlsx", caption="/tre nhap")
    question = await act(officer, press=dry, label="Sửa cách đọc cột")
    for _step in range(3):  # name, birth, sex: keep the marked column
        question = await act(officer, press=question, label="✅")
    assert "(4/9)" in question.text
    assert labels(question)[0] == "✅ Cột D: Địa chỉ (vd: Xã Minh Tân)"
    question = await act(officer, press=question, label="Cột E: Thôn")
    assert "✅ Cột F: Hoàn cảnh (vd: Khuyết tật)" in labels(question)
    while "/9)" in question.text.split("\n")[0]:
        question = await act(officer, press=question, label="✅")
    dry = question
    assert "• Cột D: Địa chỉ (vd: Xã Minh Tân) → bỏ qua" in dry.text
    assert "• Cột E: Thôn (vd: Đông) → thôn" in dry.text
    assert "Trẻ mới sẽ thêm: 2" in dry.text
    done = await act(officer, press=dry, label="Nhập 2 trẻ")
    assert "đã thêm 2 trẻ" in done.text and await active_count(bot) == 2


async def test_a_forged_column_or_field_changes_nothing(bot, people):
    """A column outside the file, or "no such column" for the name: refused, the same
    question stays; "Back" asks the previous field again; after "Cancel" the mapping's buttons
    are dead."""
    officer = people["officer"]
    data = workbook([["Tên cháu", "Sinh ngày"], ["Trần Văn Lâm", 2017]])
    header_q = await send_file(officer, data, "ds.xlsx", caption="/tre nhap")
    name_q = await act(officer, press=header_q, label="Dòng 1")
    state = (await pending_of(bot, officer)).data
    forged = await act(officer, press=name_q, data=cb.build("tre", "mc", state["tok"],
                                                            state["n"], 29))
    assert "lỗi thời" in forged.text or "cũ" in forged.text
    no_name = await act(officer, press=name_q, data=cb.build("tre", "mc", state["tok"],
                                                             state["n"], -1))
    assert "cần có cột" in no_name.text
    assert (await pending_of(bot, officer)).data["n"] == state["n"]
    assert "Quay lại" not in str(name_q.buttons)  # the first question has no "Back"
    birth_q = await act(officer, press=name_q, label="Cột A")
    assert "(2/9)" in birth_q.text and "Cột A" not in str(birth_q.buttons)
    # "Back": the name asked again with its column marked; a different column this time.
    name_q = await act(officer, press=birth_q, label="Quay lại")
    assert "(1/9)" in name_q.text and labels(name_q)[0] == "✅ Cột A: Tên cháu (vd: Trần Văn Lâm)"
    state = (await pending_of(bot, officer)).data
    birth_q = await act(officer, press=name_q, label="Cột A")
    # Cancel, then a button of the mapping: nothing is open, nothing imported.
    cancelled = await act(officer, press=birth_q, label="Hủy")
    assert "Đã hủy" in cancelled.text and await pending_of(bot, officer) is None
    dead = await act(officer, press=name_q, data=cb.build("tre", "mc", state["tok"],
                                                          state["n"] + 1, 1))
    assert "không còn mở" in dead.text and await active_count(bot) == 0
