"""The report round, played through the chat: three agencies of xã Minh Tân get their
request; one sends on time, one corrects after sending, one is chased and reported late; an
agency member cannot answer for another agency; the officer locks the round and gets the
compiled XLSX and DOCX, reopened here cell by cell and section by section."""

from __future__ import annotations

import datetime as dt
import io
import re

import docx
import openpyxl
from sqlmodel import select

from bot.fakeapi.driver import wait_until
from bot.jobs import run_round_jobs
from domain.setup_file import load_setup_file
from domain.targets import RoundSpec, collect_date, round_dates
from handlers import callback_data as cb
from storage.models import AuditEntry, Delivery, ReportRound, RoundPart
from storage.rounds import find_round
from storage.setup_import import import_setup
from storage.units import find_agency
from tests.conftest import EXAMPLE_SETUP
from tests.e2e.flows import say as _answer
from tests.e2e.flows import tap as _press

HANOI = dt.timezone(dt.timedelta(hours=7))
AGENCY = "Thành viên cơ quan"

# A target of the police, for this test only (the Minh Tân plan gives none to them).
POLICE_TARGET = '''
[[targets]]
code = "ca1"
number = "3"
name = "Tỷ lệ vụ việc xâm hại trẻ em được tiếp nhận, xác minh kịp thời."
unit = "%"
rule = ">="
values = { 2026 = 100 }
agency = "cong-an"
'''


def _bot_messages(bot, user) -> list[dict]:
    return [m for _mid, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id]


def _documents(bot, user) -> dict[str, bytes]:
    return {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
            for m in _bot_messages(bot, user) if "document" in m}


def _texts(bot, user) -> list[str]:
    return [m.get("text", "") for m in _bot_messages(bot, user)]


async def _at(bot, day: dt.date) -> None:
    bot.clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
    await run_round_jobs(bot.application)


async def test_a_round_with_three_agencies(bot, officer, tmp_path):
    # The commune's set-up with one more target, for the police.
    setup_file = tmp_path / "minh-tan.toml"
    setup_file.write_text(EXAMPLE_SETUP.read_text("utf-8") + POLICE_TARGET, "utf-8")
    async with bot.db.session() as session:
        summary = await import_setup(load_setup_file(setup_file), session=session,
                                     now=bot.clock.now())
        commune_id = summary.commune_id
        ids = {code: (await find_agency(commune_id, code, session=session)).id
               for code in ("vhxh", "tram-y-te", "cong-an")}
        # Last year's 6-month round, locked, with the health station's figure.
        last = ReportRound(commune_id=commune_id, code="bao-cao-6-thang", name="Báo cáo 6 tháng",
                           year=2026, collect_on=dt.date(2026, 5, 13),
                           opens_on=dt.date(2026, 4, 28), period="6m", status="locked",
                           opened_at=bot.clock.now())
        session.add(last)
        await session.flush()
        session.add(RoundPart(round_id=last.id, agency_id=ids["tram-y-te"], status="sent",
                              answers={"mt2": 480.0}, started_at=bot.clock.now(),
                              updated_at=bot.clock.now(), sent_at=bot.clock.now()))

    lan = await _agency_member(bot, 3001, "Lan", "Phòng Văn hóa - Xã hội")
    hoa = await _agency_member(bot, 3002, "Hoa", "Trạm Y tế xã")
    tuan = await _agency_member(bot, 3003, "Tuấn", "Công an xã")

    spec = RoundSpec("bao-cao-6-thang", "Báo cáo 6 tháng", "5 ngày làm việc trước 20/5")
    dates = round_dates(collect_date(spec, 2027), 10)
    chasers = dict(dates.chasers)

    # Before the opening day: nothing.
    for person in (lan, hoa, tuan):
        person.mark()
    await _at(bot, dates.opens - dt.timedelta(days=1))
    async with bot.db.session() as session:
        assert await find_round(commune_id, "bao-cao-6-thang", 2027, session=session) is None

    # The round opens: each agency gets exactly its targets, once.
    await _at(bot, dates.opens)
    request_lan, request_hoa, request_tuan = [await p.reply() for p in (lan, hoa, tuan)]
    assert "Báo cáo 6 tháng 2027" in request_lan.text
    assert "1. —" in request_lan.text and "≥ 95%" in request_lan.text
    assert "2. —" not in request_lan.text and "3. —" not in request_lan.text
    assert "2. —" in request_hoa.text and "480/100.000" in request_hoa.text  # last period
    assert "3. —" in request_tuan.text and "≥ 100%" in request_tuan.text
    await run_round_jobs(bot.application)  # a second run the same day sends nothing more
    for person in (lan, hoa, tuan):
        assert await person.settle() == []

    # The police member presses a forged button for the culture office's part: refused.
    tuan.mark()
    await tuan.press_data(request_tuan, cb.build("br", "p", _round_id(request_tuan),
                                                   ids["vhxh"]))
    refusal = await tuan.reply()
    assert "Phòng Văn hóa - Xã hội" in refusal.text and "chỉ" in refusal.text.lower()

    # Hoa (health station) fills in on time: a bad value, then a good one, the texts, Send.
    question = await _press(hoa, request_hoa, "Điền báo cáo")
    assert "Câu hỏi 1/3" in question.text and "480/100.000" in question.text
    wrong = await _answer(hoa, "nhiều lắm")
    assert "không dùng được" in wrong.text and "Câu hỏi 1/3" in wrong.text
    question = await _answer(hoa, "450")
    assert "Đã lưu: 450/100.000" in question.text and "Câu hỏi 2/3" in question.text
    question = await _answer(hoa, "Tổ chức 2 lớp dạy bơi <miễn phí> cho 60 em.")
    assert "Đã lưu" in question.text and "Câu hỏi 2/3" in question.text  # more may follow
    question = await _press(hoa, question, "Tiếp theo")
    assert "Câu hỏi 3/3" in question.text
    review = await _press(hoa, question, "Bỏ qua")
    assert "450/100.000" in review.text and "&lt;" not in review.text
    officer.mark()
    sent = await _press(hoa, review, "Gửi")
    assert "Đã gửi" in sent.text
    notice = await officer.reply()
    assert "Trạm Y tế xã" in notice.text and "đã gửi" in notice.text

    # Lan (culture office) saves half-way, comes back with /baocao, sends, then corrects.
    question = await _press(lan, request_lan, "Điền báo cáo")
    assert "Câu hỏi 1/3" in question.text
    question = await _answer(lan, "96,5%")
    saved = await _press(lan, question, "Lưu")
    assert "/baocao" in saved.text
    stray = await _answer(lan, "Xin chào")  # free text after saving is not an answer
    assert "Câu hỏi" not in stray.text
    question = await _answer(lan, "/baocao")  # continues at the first unanswered question
    assert "Tiếp tục" in question.text and "Câu hỏi 2/3" in question.text
    question = await _answer(lan, "Hỗ trợ 42 trẻ em có hoàn cảnh đặc biệt.")
    question = await _press(lan, question, "Tiếp theo")
    question = await _answer(lan, "Thiếu kinh phí cho cộng tác viên thôn.")
    review = await _press(lan, question, "Tiếp theo")
    assert "96,5%" in review.text and "Thiếu kinh phí" in review.text
    officer.mark()
    await _press(lan, review, "Gửi")
    await officer.reply()
    review = await _answer(lan, "/baocao")
    assert "đã gửi" in review.text
    question = await _press(lan, review, "Sửa câu trả lời")
    review_after = await _answer(lan, "97")
    officer.mark()
    review_after = await _press(lan, review_after, "Xem lại")
    corrected = await _press(lan, review_after, "Gửi bản sửa")
    assert "Đã gửi bản sửa" in corrected.text and "97%" in corrected.text
    assert "đã sửa" in (await officer.reply()).text

    # Tuấn (police) does nothing: chased 3 and 1 working days before and on the day; the
    # others are not. Each chaser once.
    for stage_day, words in ((chasers["d3"], "3 ngày làm việc"), (chasers["d1"], "ngày mai"),
                             (chasers["d0"], "hôm nay")):
        for person in (lan, hoa, tuan):
            person.mark()
        await _at(bot, stage_day)
        await run_round_jobs(bot.application)
        chaser = await tuan.reply()
        assert words in chaser.text and "Công an xã" in chaser.text
        assert await lan.settle() == [] and await hoa.settle() == []

    # The day after: the officer (the commune has no administrator member) is told who is late.
    officer.mark()
    await _at(bot, dates.late)
    late = await officer.reply()
    assert "Công an xã" in late.text and "Trạm Y tế xã" not in late.text

    # The officer's board and a one-tap reminder.
    board = await _answer(officer, "/baocao")
    assert "✅ Phòng Văn hóa - Xã hội" in board.text and "đã sửa" in board.text
    assert "✅ Trạm Y tế xã" in board.text
    assert "⬜ Công an xã" in board.text and "trễ hạn" in board.text
    tuan.mark()
    board = await _press(officer, board, "Nhắc Công an xã")
    assert "Đã nhắc Công an xã" in board.text
    reminder = await tuan.reply()

    # Tuấn sends late, with a value checked against its unit first.
    question = await _press(tuan, reminder, "Điền báo cáo")
    wrong = await _answer(tuan, "120")
    assert "từ 0 đến 100" in wrong.text
    question = await _answer(tuan, "100")
    question = await _answer(tuan, "Tiếp nhận, xác minh 3 tin báo trong ngày.")
    question = await _press(tuan, question, "Tiếp theo")
    review = await _press(tuan, question, "Bỏ qua")
    officer.mark()
    await _press(tuan, review, "Gửi")
    assert "sau hạn" in (await officer.reply()).text

    # Lock: the files arrive; nobody can change anything after.
    board = await _answer(officer, "/baocao")
    confirm = await _press(officer, board, "Khóa")
    officer.mark()
    await officer.press(confirm, "Có, khóa")
    await wait_until(lambda: len(_documents(bot, officer)) == 2, timeout=10.0)
    files = _documents(bot, officer)
    assert set(files) == {"bao-cao-6-thang-2027.xlsx", "bao-cao-6-thang-2027.docx"}

    book = openpyxl.load_workbook(io.BytesIO(files["bao-cao-6-thang-2027.xlsx"]))
    rows = list(book["Chỉ tiêu"].iter_rows(values_only=True))
    assert rows[0] == ("STT", "Chỉ tiêu", "Đơn vị tính", "Mục tiêu", "Kỳ này", "Kỳ trước",
                       "Cơ quan phụ trách", "Đánh giá")
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number["1"][3:] == ("≥ 95%", 97, None, "Phòng Văn hóa - Xã hội", "Đạt")
    assert by_number["2"][3:] == ("giảm so với kỳ trước", 450, 480, "Trạm Y tế xã", "Đạt")
    assert by_number["2b"][4:6] == (0, 0) and by_number["2b"][6] == "Số liệu của mình"
    assert by_number["3"][3:] == ("≥ 100%", 100, None, "Công an xã", "Đạt")
    assert by_number["1"][1].startswith("Tỷ lệ trẻ em có hoàn cảnh đặc biệt")
    figures = {row[0]: row[1:] for row in book["Số liệu của mình"].iter_rows(values_only=True)}
    assert figures["Tin báo nhận qua mình (vụ việc đã mở)"] == (0, 0)
    parts = list(book["Các cơ quan"].iter_rows(values_only=True))
    assert ("Công an xã", "đã gửi", "Có") in parts
    assert ("Trạm Y tế xã", "đã gửi", None) in parts

    document = docx.Document(io.BytesIO(files["bao-cao-6-thang-2027.docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "III. Kết quả của các cơ quan" in headings
    assert {"Phòng Văn hóa - Xã hội", "Trạm Y tế xã", "Công an xã"} <= set(headings)
    body = [p.text for p in document.paragraphs]
    assert "Hỗ trợ 42 trẻ em có hoàn cảnh đặc biệt." in body
    assert "Thiếu kinh phí cho cộng tác viên thôn." in body
    assert "Tổ chức 2 lớp dạy bơi <miễn phí> cho 60 em." in body
    table = document.tables[0]
    assert [c.text for c in table.rows[1].cells][3:] == ["97%", "", "Đạt"]

    # Locked: Lan's old button shows the part, read-only; /baocao has nothing open.
    locked = await _press(lan, review_after, "Sửa câu trả lời")
    assert "đã khóa" in locked.text
    assert "Chưa có đợt báo cáo nào" in (await _answer(lan, "/baocao")).text

    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
        keyed = (await session.exec(select(Delivery).where(
            Delivery.kind == "round", Delivery.key.is_not(None)))).all()
    for action in ("round_opened", "round_part_started", "round_value_set", "round_text_set",
                   "round_part_sent", "round_part_corrected", "round_reminded",
                   "round_locked", "round_compiled"):
        assert action in actions, action
    assert len({row.key for row in keyed}) == len(keyed)
    # Requests to 3 agencies, 3 chasers to the police, one late list.
    assert sorted(re.sub(r":-?\d+$", "", row.key).split(":", 3)[-1] for row in keyed).count(
        "open") == 3


async def _agency_member(bot, user_id: int, name: str, agency: str):
    from tests.e2e.flows import joined

    return await joined(bot, user_id, name, AGENCY, agency)


def _round_id(message) -> int:
    for row in message.raw["reply_markup"]["inline_keyboard"]:
        for button in row:
            parsed = cb.parse(button.get("callback_data"))
            if parsed and parsed.feature == "br" and parsed.action == "p":
                return parsed.int_arg(0)
    raise AssertionError("no fill-in button")


async def test_the_form_in_a_group_and_people_doing_things_their_own_way(bot, officer):
    """The request reaches the agency's group too; a press there opens the form in private;
    a command mid-form drops the question (answers kept); `<`, a very long text and a stale
    button are answered clearly; a citizen and a member of another agency are refused."""
    from bot.fakeapi.driver import FakeGroup

    hoa = await _agency_member(bot, 3002, "Hoa", "Trạm Y tế xã")
    tuan = await _agency_member(bot, 3003, "Tuấn", "Công an xã")
    group = FakeGroup(bot.fake, -100600, "Trạm Y tế xã Minh Tân")
    group.mark()
    await group.send(officer, "/subscribe")
    await officer.press(await group.reply(), "Trạm Y tế xã")
    await group.reply()

    spec = RoundSpec("bao-cao-6-thang", "Báo cáo 6 tháng", "5 ngày làm việc trước 20/5")
    dates = round_dates(collect_date(spec, 2027), 10)
    group.mark()
    hoa.mark()
    await _at(bot, dates.opens)
    in_group = await group.reply()
    assert "Trạm Y tế xã" in in_group.text
    await hoa.reply()

    # Tuấn (police) is in the group too: pressing the health station's button is refused.
    group.mark()
    tuan.mark()
    await tuan.press(in_group, "Điền báo cáo")
    refusal = await group.reply()
    assert "Phòng" not in refusal.text and "Trạm Y tế xã" in refusal.text
    assert await tuan.settle() == []

    # Hoa presses it in the group: the form comes in her private chat, nothing in the group.
    hoa.mark()
    group.mark()
    await hoa.press(in_group, "Điền báo cáo")
    question = await hoa.reply()
    assert "Câu hỏi 1/3" in question.text
    assert await group.settle() == []

    # `<` and words are not figures.
    wrong = await _answer(hoa, "<b>450</b>")
    assert "không dùng được" in wrong.text
    # A command mid-form: answered, the question dropped with a word, answers kept.
    hoa.mark()
    await hoa.send("/hotline")
    said = " ".join(m.text for m in await hoa.settle())
    assert "đã được lưu" in said and "/baocao" in said
    assert "Câu hỏi" not in (await _answer(hoa, "450")).text  # not taken as an answer now
    question = await _answer(hoa, "/baocao")
    assert "Câu hỏi 1/3" in question.text
    question = await _answer(hoa, "450")
    too_long = await _answer(hoa, "a" * 2500)
    assert "2.000" in too_long.text and "Câu hỏi 2/3" in too_long.text
    question = await _answer(hoa, "Ngắn gọn.")
    assert "Câu hỏi 2/3" in question.text
    question = await _press(hoa, question, "Tiếp theo")
    assert "Câu hỏi 3/3" in question.text

    # An old button of a question already answered asks that question again, nothing lost.
    again = await _press(hoa, wrong, "Bỏ qua")
    assert "Câu hỏi 2/3" in again.text and "Ngắn gọn." in again.text

    # A citizen has no /baocao; a forged press is refused.
    citizen = bot.user(4001, "Nam")
    said = await _answer(citizen, "/baocao")
    assert "cán bộ và các cơ quan" in said.text
    citizen.mark()
    await citizen.press_data(said, cb.build("br", "snd", 1))
    assert "Câu hỏi" not in (await citizen.reply()).text
    async with bot.db.session() as session:
        part = (await session.exec(select(RoundPart))).one()
    assert part.status == "draft" and part.answers == {"mt2": 450.0}
    assert part.highlights == "Ngắn gọn."


async def test_a_province_sees_its_communes_rounds_side_by_side(bot, commune):
    from domain.roles import Role
    from storage.models import Member, Unit

    async with bot.db.session() as session:
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
        session.add(Member(telegram_user_id=5001, display_name="Thu", role=Role.ADMIN,
                           unit_id=province_id, joined_at=bot.clock.now()))
    hoa = await _agency_member(bot, 3002, "Hoa", "Trạm Y tế xã")
    spec = RoundSpec("bao-cao-6-thang", "Báo cáo 6 tháng", "5 ngày làm việc trước 20/5")
    hoa.mark()
    await _at(bot, round_dates(collect_date(spec, 2027), 10).opens)
    await hoa.reply()
    province = bot.user(5001, "Thu")
    overview = await _answer(province, "/baocao")
    assert "Xã Minh Tân: Báo cáo 6 tháng 2027 (đang mở), đã gửi 0/2 cơ quan" in overview.text
    assert "Điền" not in overview.text
    assert [b["text"] for b in overview.buttons] == ["📊 Bảng chỉ tiêu các xã (XLSX)"]
