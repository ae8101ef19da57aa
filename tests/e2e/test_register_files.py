"""The register's files end to end through the fake Telegram: an officer imports the
commune's Excel list (a dry run with row-by-row reasons, then the import; the same file again
adds nothing), a CSV, refusals (a collaborator, an agency member, a file too big, a file that
is not a list), the template, and the XLSX export reopened cell by cell."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time

import openpyxl
from sqlmodel import func, select

from bot.jobs import run_case_jobs
from domain.roles import Role
from domain.workdays import is_working_day
from handlers import callback_data as cb
from storage.models import AuditEntry, RegisterChild, RegisterEvent, RegisterSupport, Unit
from tests.e2e import test_register as base
from tests.e2e.test_register import act, add_child
from tests.e2e.test_stats import _documents as stats_documents
from tests.e2e.test_stats import _member
from tests.e2e.test_stats import _until as stats_until

people = base.people  # the same officer, collaborators and agency member

HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Thôn", "Nhóm hoàn cảnh",
          "Họ và tên người chăm sóc", "BHYT", "Giấy khai sinh"]
GOOD = [
    [1, "Lê Thị Hoa", "05/06/2016", "Nữ", "Thôn Đông", "Mồ côi cả cha và mẹ", "Bà ngoại",
     "Có", "Có"],
    [2, "Phạm Văn Nam", 2018, "Nam", "Đoài", "Khuyết tật", "Mẹ", "Chưa", "Có"],
    [3, "Vũ Minh Khang", "2014", "nam", "thôn đông", "Có nguy cơ bỏ học", "", "", ""],
]
BAD = [
    [4, "Đỗ Văn Tú", "31/02/2015", "Nam", "Thôn Đông", "Khuyết tật", "", "", ""],
    [5, "Hồ Thị Mai", "2015", "Nữ", "Thôn Xa Lạ", "Khuyết tật", "", "", ""],
    [6, "Lê Thị Hoa", "5/6/2016", "Nữ", "Thôn Đông", "Mồ côi", "", "", ""],
    [7, "Ngô Văn Bảo", "2015", "Nam", "Thôn Đông", "", "", "", ""],
]
EXISTING = [8, "Nguyễn Văn An", "2015", "Nam", "Thôn Đông", "Khuyết tật", "", "", ""]


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH TRẺ EM CÓ HOÀN CẢNH ĐẶC BIỆT XÃ MINH TÂN"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def documents(bot, user) -> dict[str, bytes]:
    return {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
            for _id, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id and "document" in m}


async def send_file(user, data: bytes, name: str, *, caption: str | None = None):
    return (await send_file_all(user, data, name, caption=caption))[-1]


async def send_file_all(user, data: bytes, name: str, *, caption: str | None = None,
                        count: int = 1):
    """Sends a document and waits for `count` answers."""
    user.mark()
    if caption is None:
        await user.send_document(data, name)
    else:
        file_id = user.server.store_file(data, kind="documents", ext=name.rsplit(".", 1)[-1])
        await user._send({"caption": caption, "document": {
            "file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
            "file_size": len(data)}})
    return await user.replies(count)


async def active_count(bot) -> int:
    async with bot.db.session() as session:
        return (await session.exec(select(func.count()).select_from(RegisterChild).where(
            RegisterChild.status == "active"))).one()


async def test_import_dry_run_then_import_and_the_same_file_again_adds_nothing(bot, people):
    officer = people["officer"]
    await add_child(people["dong"], "Nguyễn Văn An", "2015")  # already on the register
    assert await active_count(bot) == 1
    data = xlsx(GOOD + BAD + [EXISTING])
    home = await act(officer, "/tre")
    ask = await act(officer, press=home, label="Nhập từ tệp")
    assert "Họ và tên" in ask.text and "2 MB" in ask.text
    dry = await send_file(officer, data, "danh-sach.xlsx")
    text = dry.text
    assert "chưa lưu" in text
    assert "Số dòng đã đọc: 8" in text
    assert "Trẻ mới sẽ thêm: 3" in text
    assert "Đã có trong danh sách, không thay đổi: 1" in text
    assert "Dòng bị từ chối (bỏ qua): 4" in text
    assert "dòng 6: ngày sinh không có thật" in text
    assert "dòng 7: thôn không thuộc xã" in text
    assert "dòng 8: trẻ này đã có ở một dòng trước trong tệp" in text
    assert "dòng 9: không nhận ra hoàn cảnh" in text
    assert await active_count(bot) == 1  # the dry run writes nothing
    done = await act(officer, press=dry, label="Nhập 3 trẻ")
    assert "đã thêm 3 trẻ" in done.text
    assert await active_count(bot) == 4
    async with bot.db.session() as session:
        children = (await session.exec(select(RegisterChild))).all()
        hoa = next(c for c in children if c.full_name == "Lê Thị Hoa")
        assert hoa.sex == "female" and hoa.birth_date.isoformat() == "2016-06-05"
        assert hoa.groups == ["orphan"] and hoa.caregiver == "Bà ngoại"
        supports = {s.kind: s.status for s in (await session.exec(
            select(RegisterSupport).where(RegisterSupport.child_id == hoa.id))).all()}
        assert supports == {"bhyt": "has", "birth": "has"}
        khang = next(c for c in children if c.full_name == "Vũ Minh Khang")
        assert khang.at_risk and khang.birth_date is None and khang.birth_year == 2014
        audits = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "register_imported"))).all()
        assert len(audits) == 1 and audits[0].details["added"] == 3
    # The same file again, straight from a caption: nothing new.
    again = await send_file(officer, data, "danh-sach.xlsx", caption="/tre nhap")
    assert "Trẻ mới sẽ thêm: 0" in again.text
    assert "Đã có trong danh sách, không thay đổi: 4" in again.text
    # Rows were refused: no import button, but the columns can be read another way.
    assert "Không có gì mới để nhập" in again.text and "Sửa cách đọc cột" in again.text
    assert [b["text"] for b in again.buttons] == ["🧭 Sửa cách đọc cột", "✖️ Hủy"]
    assert await active_count(bot) == 4
    # A stale "Import" button after the import does nothing.
    stale = await act(officer, press=dry, data=cb.build("tre", "impok"))
    assert "không có gì thay đổi" in stale.text
    assert await active_count(bot) == 4


async def test_a_list_reopened_and_imported_again_updates_what_changed(bot, people):
    """The office reopens the list it imported, corrects a few cells, adds a child and sends
    it again: the dry run says row by row what is new, what would change on which record,
    what is unchanged and what is refused; the import applies the updates with history rows;
    the same file a third time changes nothing."""
    officer = people["officer"]
    await import_good(bot, officer)
    book = openpyxl.load_workbook(io.BytesIO(xlsx(GOOD)))
    sheet = book.active
    assert sheet["B4"].value == "Phạm Văn Nam" and sheet["B5"].value == "Vũ Minh Khang"
    sheet["E4"], sheet["H4"] = "Thôn Đông", "Có"  # moved to Thôn Đông, BHYT card received
    sheet["C5"], sheet["G5"] = "12/08/2014", "Ông nội"  # the day is known now, a caregiver
    sheet.append([4, "Đặng Thị Yến", "1/1/2019", "Nữ", "Thôn Đoài", "Khuyết tật", "", "", ""])
    sheet.append([5, "Đặng Văn Tâm", "1/1/2019", "Nam", "Thôn Đoài", "", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    changed = out.getvalue()

    dry = await send_file(officer, changed, "ds-sua.xlsx", caption="/tre nhap")
    text = dry.text
    assert "Số dòng đã đọc: 5" in text
    assert "Trẻ mới sẽ thêm: 1" in text and "dòng 6" in text
    assert "Trẻ đã có trong danh sách sẽ cập nhật: 2" in text
    assert "dòng 4: thôn, Thẻ bảo hiểm y tế (BHYT)" in text
    assert "dòng 5: ngày sinh, người chăm sóc" in text
    assert "Đã có trong danh sách, không thay đổi: 1" in text and "dòng 3\n" in text
    assert "Dòng bị từ chối (bỏ qua): 1" in text and "dòng 7: không nhận ra hoàn cảnh" in text
    async with bot.db.session() as session:
        nam = next(c for c in (await session.exec(select(RegisterChild))).all()
                   if c.full_name == "Phạm Văn Nam")  # names are encrypted: not in SQL
        assert nam.village_id != (await session.exec(select(Unit.id).where(
            Unit.name == "Thôn Đông"))).one()  # the dry run changed nothing
    done = await act(officer, press=dry, label="Thêm 1, cập nhật 2")
    assert "đã thêm 1 trẻ" in done.text and "cập nhật 2 trẻ" in done.text
    assert await active_count(bot) == 4
    async with bot.db.session() as session:
        dong = (await session.exec(select(Unit.id).where(Unit.name == "Thôn Đông"))).one()
        children = {c.full_name: c for c in (await session.exec(select(RegisterChild))).all()}
        nam, khang = children["Phạm Văn Nam"], children["Vũ Minh Khang"]
        assert nam.village_id == dong
        assert khang.birth_date == dt.date(2014, 8, 12) and khang.caregiver == "Ông nội"
        bhyt = (await session.exec(select(RegisterSupport).where(
            RegisterSupport.child_id == nam.id, RegisterSupport.kind == "bhyt"))).one()
        assert bhyt.status == "has"
        events = (await session.exec(select(RegisterEvent).where(
            RegisterEvent.kind == "imported").order_by(RegisterEvent.id))).all()
        assert [(e.child_id, e.changes["fields"]) for e in events] == [
            (nam.id, ["village", "bhyt"]), (khang.id, ["birth", "caregiver"])]
        assert "Ông nội" not in str(events[1].changes) and "2014" not in str(events[1].changes)
        audit = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "register_imported").order_by(AuditEntry.id))).all()[-1]
        assert (audit.details["added"], audit.details["updated"],
                audit.details["unchanged"]) == (1, 2, 1)
    listing = await act(officer, "/tre")
    card = await act(officer, press=await act(officer, press=listing, label="Thôn Đông"),
                     label="Phạm Văn Nam")
    history = await act(officer, press=card, label="Lịch sử")
    assert "cập nhật từ danh sách nhập: thôn, Thẻ bảo hiểm y tế (BHYT)" in history.text
    # The same corrected file again: nothing to do. The first file (year only for Khang)
    # does not take back the day now known.
    again = await send_file(officer, changed, "ds-sua.xlsx", caption="/tre nhap")
    assert "Trẻ đã có trong danh sách sẽ cập nhật: 0" in again.text
    assert "Không có gì mới để nhập" in again.text
    assert "Nhập" not in str(again.buttons)  # row 7 refused: only "Fix the columns"
    # A captioned file while that one waits: the waiting import is dropped with a word.
    word, first = await send_file_all(officer, xlsx(GOOD), "ds.xlsx", caption="/tre nhap",
                                      count=2)
    assert word.text == "↩️ Đã bỏ việc nhập danh sách. Chưa có gì được lưu."
    assert "dòng 5" not in first.text.split("sẽ cập nhật")[1].split("không thay đổi")[0]
    assert "dòng 4: thôn, Thẻ bảo hiểm y tế (BHYT)" in first.text  # back to Đoài, "Chưa"


async def test_a_csv_list_imports(bot, people):
    officer = people["officer"]
    csv_text = ("Họ và tên;Năm sinh;Giới tính;Thôn;Hoàn cảnh\n"
                "Trần Văn Lâm;2017;Nam;Đông;Khuyết tật\n")
    dry = await send_file(officer, csv_text.encode("utf-8-sig"), "ds.csv", caption="/tre nhập")
    assert "Trẻ mới sẽ thêm: 1" in dry.text
    done = await act(officer, press=dry, label="Nhập 1 trẻ")
    assert "đã thêm 1 trẻ" in done.text and await active_count(bot) == 1


async def test_refusals_people_without_the_right_and_bad_files(bot, people):
    data = xlsx(GOOD)
    for who in ("dong", "police"):
        reply = await send_file(people[who], data, "ds.xlsx", caption="/tre nhap")
        assert "Trẻ mới" not in reply.text
    assert await active_count(bot) == 0
    officer = people["officer"]
    home = await act(officer, "/tre")
    await act(officer, press=home, label="Nhập từ tệp")
    big = await send_file(officer, b"x" * (2 * 1024 * 1024 + 1), "ds.xlsx")
    assert "quá lớn" in big.text
    home = await act(officer, "/tre")
    await act(officer, press=home, label="Nhập từ tệp")
    pdf = await send_file(officer, b"%PDF-1.4", "ds.pdf")
    assert ".xlsx" in pdf.text and "Trẻ mới" not in pdf.text
    fake = await send_file(officer, b"not a workbook", "ds.xlsx")
    assert ".xlsx" in fake.text
    text = await act(officer, "Lê Thị Hoa")
    assert "gửi danh sách dưới dạng tệp" in text.text
    no_header = await send_file(officer, xlsx([]).replace(b"", b""), "ds.csv")
    assert ".xlsx" in no_header.text or "tiêu đề" in no_header.text
    headerless = await send_file(officer, b"a;b\n1;2\n", "ds.csv")
    assert "không nhận ra dòng tiêu đề" in headerless.text
    assert [b["text"] for b in headerless.buttons][:2] == [
        "Dòng 1: a | b", "Dòng 2: 1 | 2"]
    assert await active_count(bot) == 0


async def test_the_template_imports_cleanly(bot, people):
    officer = people["officer"]
    home = await act(officer, "/tre")
    ask = await act(officer, press=home, label="Nhập từ tệp")
    officer.mark()
    await officer.press(ask, "Tệp mẫu")
    await officer.replies(1)
    files = documents(bot, officer)
    template = files["mau-danh-sach-tre-em.xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(template)).active
    assert next(sheet.iter_rows(values_only=True))[1] == "Họ và tên"
    dry = await send_file(officer, template, "mau.xlsx")
    assert "Trẻ mới sẽ thêm: 2" in dry.text and "Dòng bị từ chối (bỏ qua): 0" in dry.text


async def test_the_export_reopened_cell_by_cell(bot, people):
    officer = people["officer"]
    await add_child(people["dong"], "Nguyễn Văn An", "3/4/2015")
    home = await act(officer, "/tre")
    officer.mark()
    await officer.press(home, "Xuất tệp Excel")
    await officer.replies(2)
    files = documents(bot, officer)
    (name,) = [n for n in files if n.startswith("danh-sach-tre-em-")]
    sheet = openpyxl.load_workbook(io.BytesIO(files[name])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Danh sách trẻ em có hoàn cảnh đặc biệt")
    assert rows[1][:7] == ("STT", "Họ và tên", "Ngày sinh", "Giới tính", "Thôn",
                           "Hoàn cảnh", "Người chăm sóc")
    assert rows[2][:7] == (1, "Nguyễn Văn An", "03/04/2015", "Nam", "Thôn Đông",
                           "Khuyết tật", "Trần Thị Bình")
    assert len(rows) == 3
    async with bot.db.session() as session:
        audits = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "register_exported"))).all()
    assert len(audits) == 1 and audits[0].details["count"] == 1
    # A collaborator has no export button; an agency member cannot open the register.
    listing = await act(people["dong"], "/tre")
    assert not any("Xuất" in b["text"] for b in listing.buttons)
    refused = await act(people["police"], "/tre")
    assert "Xuất" not in str(refused.buttons)


async def import_good(bot, officer) -> None:
    """The three good rows imported through the chat (Hoa: BHYT and papers; Nam: papers,
    no BHYT; Khang: nothing recorded)."""
    dry = await send_file(officer, xlsx(GOOD), "ds.xlsx", caption="/tre nhap")
    await act(officer, press=dry, label="Nhập 3 trẻ")
    assert await active_count(bot) == 3


async def _until(user, text: str) -> str:
    collected = []
    while not any(text in m.text for m in collected):
        collected += await user.replies(1, timeout=30)
    return next(m.text for m in collected if text in m.text)


async def test_stats_show_the_register_for_the_commune_and_the_province(bot, people):
    officer = people["officer"]
    await import_good(bot, officer)
    officer.mark()
    await officer.send("/stats")
    text = await _until(officer, "Danh sách trẻ em có hoàn cảnh đặc biệt")
    assert "Số trẻ đang quản lý: 3" in text
    assert "Trẻ em mồ côi cả cha và mẹ: 1" in text
    assert "Trẻ em khuyết tật: 1" in text
    assert "Có nguy cơ rơi vào hoàn cảnh đặc biệt: 1" in text
    assert "Có thẻ BHYT: 1 (33,3%)" in text
    assert "Đã đăng ký khai sinh, có giấy tờ: 2 (66,7%)" in text
    assert "Hưởng trợ cấp xã hội hằng tháng: 0 (0%)" in text
    assert "Theo giới tính: nam 2, nữ 1" in text and "Theo độ tuổi: 0–5 tuổi" in text
    assert "Theo thôn" in text and "Đông: 2" in text
    assert "Trong kỳ: thêm mới 3 trẻ, ra khỏi danh sách 0 trẻ" in text
    assert "Lê Thị Hoa" not in text
    # The province: the same numbers, aggregated, never a name.
    async with bot.db.session() as session:
        child = (await session.exec(select(RegisterChild))).first()
        province_id = (await session.get(Unit, child.commune_id)).parent_id
    admin = await _member(bot, 5001, "Thảo", Role.ADMIN, province_id)
    admin.mark()
    await admin.send("/stats")
    text = await _until(admin, "Danh sách trẻ em có hoàn cảnh đặc biệt")
    assert "Số trẻ đang quản lý: 3" in text and "Có thẻ BHYT: 1" in text
    assert "Theo giới tính: nam 2, nữ 1" in text and "Theo thôn" not in text
    assert "Hoa" not in text and "Khang" not in text


async def test_overdue_reviews_are_in_the_officers_morning_digest(bot, people):
    officer = people["officer"]
    await import_good(bot, officer)
    day = bot.clock.now().date() + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    async with bot.db.session() as session:
        children = (await session.exec(select(RegisterChild))).all()
        for child in children[:2]:
            child.review_due_on = day - dt.timedelta(days=3)
            session.add(child)
    officer.mark()
    people["dong"].mark()
    bot.clock.set(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC))  # 07:30 local
    assert (await run_case_jobs(bot.application)).sent >= 1
    digest = await officer.reply()
    assert "Chào buổi sáng, Hùng" in digest.text
    assert "2 trẻ trong danh sách đã quá hạn rà soát định kỳ" in digest.text
    assert (await run_case_jobs(bot.application)).sent == 0  # once a day


async def test_500_rows_with_bad_ones_and_a_double_press_imports_once(bot, people):
    officer = people["officer"]
    villages = ["Thôn Đông", "Thôn Đoài"]
    rows = []
    for i in range(500):
        birth = f"{1 + i % 28}/{1 + i % 12}/{2012 + i % 12}"
        if i % 50 == 7:
            birth = "không rõ"  # 10 unreadable dates
        rows.append([i + 1, f"Nguyễn Văn {chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", birth,
                     "Nam" if i % 2 else "Nữ", villages[i % 2], "Khuyết tật", "", "", ""])
    data = xlsx(rows)
    started = time.monotonic()
    dry = await send_file(officer, data, "500.xlsx", caption="/tre nhap")
    dry_seconds = time.monotonic() - started
    assert "Số dòng đã đọc: 500" in dry.text and "Trẻ mới sẽ thêm: 490" in dry.text
    assert "Dòng bị từ chối (bỏ qua): 10" in dry.text
    assert "dòng 10: không đọc được ngày sinh" in dry.text  # row 8 of the data, header on 2
    assert len(dry.text) < 4096
    started = time.monotonic()
    officer.mark()
    await asyncio.gather(officer.press(dry, "Nhập 490 trẻ"), officer.press(dry, "Nhập 490 trẻ"))
    got = await officer.replies(2, timeout=120)
    import_seconds = time.monotonic() - started
    assert sum("đã thêm 490 trẻ" in m.text for m in got) == 1
    assert await active_count(bot) == 490
    print(f"500 rows: dry run {dry_seconds:.2f}s, import {import_seconds:.2f}s")


async def test_too_many_rows_are_refused(bot, people):
    rows = [[i, "Lê Văn An", "2015", "Nam", "Thôn Đông", "Khuyết tật"] for i in range(2001)]
    reply = await send_file(people["officer"], xlsx(rows), "lon.xlsx", caption="/tre nhap")
    assert "hơn 2.000 dòng" in reply.text
    assert await active_count(bot) == 0


async def test_reviews_on_time_in_stats_and_the_register_sheet_of_the_workbook(bot, people):
    """Three reviews due in the report period: one done before its day, one done late, one
    not done and overdue. /stats says 1 of 3 on time; the workbook's register sheet has the
    same figures as /stats, reopened cell by cell."""
    officer = people["officer"]
    await import_good(bot, officer)
    today = bot.clock.now().date()  # 23/11/2026; the report period 15/11/2026–14/05/2027
    due = {"Lê Thị Hoa": today + dt.timedelta(days=17), "Phạm Văn Nam": today - dt.timedelta(
        days=5), "Vũ Minh Khang": today - dt.timedelta(days=2)}
    async with bot.db.session() as session:
        for child in (await session.exec(select(RegisterChild))).all():
            child.review_due_on = due[child.full_name]
            child.revision += 1
            session.add(child)
    for name in ("Lê Thị Hoa", "Phạm Văn Nam"):
        listing = await act(officer, press=await act(officer, "/tre"), label="Tất cả")
        card = await act(officer, press=listing, label=name)
        done = await act(officer, press=card, label="Đã rà soát")
        assert "Đã ghi nhận rà soát" in done.text
    async with bot.db.session() as session:
        reviews = (await session.exec(select(RegisterEvent).where(
            RegisterEvent.kind == "reviewed").order_by(RegisterEvent.id))).all()
    assert [(e.due_on, e.done_on) for e in reviews] == [
        (due["Lê Thị Hoa"], today), (due["Phạm Văn Nam"], today)]

    officer.mark()
    await officer.send("/stats")
    messages = await stats_until(officer, lambda m: "photo" in m.raw)
    text = next(m.text for m in messages if "Danh sách trẻ em có hoàn cảnh đặc biệt" in m.text)
    assert ("Rà soát định kỳ đến hạn trong kỳ: 3 lượt, đúng hạn 1 (33,3%), trễ hạn 1, chưa "
            "rà soát 1") in text
    photo = next(m for m in messages if "photo" in m.raw)
    officer.mark()
    await officer.press(photo, "Tải tệp XLSX và CSV")
    await stats_until(officer, lambda m: "Đã xong tệp số liệu" in m.text)
    files = stats_documents(bot, officer)
    (name,) = [n for n in files if n.endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(files[name]))
    assert book.sheetnames[:2] == ["Tổng hợp", "Trẻ em HCĐB"]
    sheet = book["Trẻ em HCĐB"]
    assert sheet["A1"].value == "Trẻ em có hoàn cảnh đặc biệt – Xã Minh Tân"
    assert sheet["A2"].value.startswith("Báo cáo 6 tháng năm 2027: 15/11/2026")
    assert [c.value for c in sheet[4]] == ["Chỉ tiêu", "Số trẻ em", "Tỷ lệ (%)"]
    cells = {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert cells["Số trẻ trong danh sách (đến hôm nay)"] == (3, None)
    assert cells["Trẻ em mồ côi cả cha và mẹ"] == (1, None)
    assert cells["Có nguy cơ rơi vào hoàn cảnh đặc biệt"] == (1, None)
    assert cells["Có thẻ BHYT"] == (1, 33.3)
    assert cells["Đã đăng ký khai sinh, có giấy tờ"] == (2, 66.7)
    assert cells["Trẻ em trai"] == (2, None) and cells["Trẻ em gái"] == (1, None)
    assert sum(cells[f"Từ {band} tuổi"][0] for band in ("0–5", "6–10", "11–15")) == 3
    assert cells["Thôn Đông"] == (2, None) and cells["Thôn Đoài"] == (1, None)
    assert cells["Thêm mới vào danh sách"] == (3, None)
    assert cells["Số lượt rà soát đến hạn"] == (3, None)
    assert cells["Rà soát đúng hạn (trong hoặc trước ngày đến hạn)"] == (1, 33.3)
    assert cells["Rà soát trễ hạn"] == (1, None)
    assert cells["Chưa rà soát (quá hạn)"] == (1, None)
    assert sheet["C9"].number_format == "0.0" or any(
        c.number_format == "0.0" for row in sheet.iter_rows() for c in row if c.value == 33.3)
    assert "Lê Thị Hoa" not in str(list(sheet.iter_rows(values_only=True)))
