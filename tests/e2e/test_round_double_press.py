"""The report round's confirmations as people press them: twice in a row, as a double tap,
or on an old screen. The target editor's changes, an agency's Send, the officer's one-tap
reminder and the lock each happen once; the second press says it is already done and
writes nothing. Also: opening the form starts nothing on the board, /baocao continues at the
first unanswered question, and the officer's board is the same board after every action."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.fakeapi.driver import wait_until
from bot.jobs import run_round_jobs
from domain.roles import Role
from domain.targets import RoundSpec, collect_date, round_dates
from storage.models import AuditEntry, Delivery, Member, PlanTarget, ReportRound, RoundPart
from tests.e2e.flows import joined, outbox_drained

HANOI = dt.timezone(dt.timedelta(hours=7))
AGENCY = "Thành viên cơ quan"
CULTURE, HEALTH = "Phòng Văn hóa - Xã hội", "Trạm Y tế xã"


async def _answers(person) -> list:
    return [await person.reply(), *await person.settle()]


async def _say(person, text: str):
    person.mark()
    await person.send(text)
    return (await _answers(person))[-1]


async def _press(person, message, label: str):
    person.mark()
    await person.press(message, label)
    return (await _answers(person))[-1]


async def _press_again(person, message, data: str):
    """The same button pressed again: its data, kept from before the message was edited."""
    person.mark()
    await person.press_data(message, data)
    return (await _answers(person))[-1]


def _data(message, label: str) -> str:
    return message.button(label)["callback_data"]


async def _audits(bot, action: str) -> list[AuditEntry]:
    async with bot.db.session() as session:
        return list((await session.exec(select(AuditEntry).where(
            AuditEntry.action == action))).all())


async def _open_round(bot, *people):
    spec = RoundSpec("bao-cao-6-thang", "Báo cáo 6 tháng", "5 ngày làm việc trước 20/5")
    dates = round_dates(collect_date(spec, 2027), 10)
    for person in people:
        person.mark()
    bot.clock.set(dt.datetime.combine(dates.opens, dt.time(8, 0), tzinfo=HANOI))
    await run_round_jobs(bot.application)
    return [await person.reply() for person in people]


def _documents(bot, user) -> list[str]:
    return [m["document"]["file_name"] for _mid, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id and "document" in m]


async def test_a_target_change_confirmed_twice_is_made_once(bot, commune):
    commune_id = commune.commune_id
    async with bot.db.session() as session:
        session.add(Member(telegram_user_id=3201, display_name="Thảo", role=Role.ADMIN,
                           unit_id=commune_id, joined_at=bot.clock.now()))
    admin = bot.user(3201, "Thảo")
    targets = await _press(admin, await _say(admin, "/baocao"), "Chỉ tiêu")
    item = await _press(admin, targets, "1")

    # The value: confirmed, then the same confirmation pressed again.
    await _press(admin, item, "Mục tiêu năm 2026")
    confirm = await _say(admin, "97,5")
    yes = _data(confirm, "Đồng ý đổi")
    done = await _press(admin, confirm, "Đồng ý đổi")
    assert "Đã đổi" in done.text and "≥ 97,5%" in done.text
    again = await _press_again(admin, confirm, yes)
    assert "Đã xong rồi" in again.text and "không thay đổi gì thêm" in again.text
    assert "≥ 97,5%" in again.text and "Đã đổi" not in again.text

    # A double tap: both presses arrive at once, one change is made.
    await _press(admin, again, "Mục tiêu năm 2026")
    confirm = await _say(admin, "98")
    admin.mark()
    yes = _data(confirm, "Đồng ý đổi")
    await asyncio.gather(admin.press_data(confirm, yes), admin.press_data(confirm, yes))
    await admin.replies(2)
    assert len(await _audits(bot, "target_changed")) == 2  # 95 → 97,5 and 97,5 → 98

    # An old confirmation of a value replaced since: nothing changed, the target as it is.
    screen = await _press(admin, confirm, "Mục tiêu năm 2026")
    stale = await _say(admin, "99")
    await _press(admin, await _press(admin, screen, "Hủy"), "Mục tiêu năm 2026")
    await _press(admin, await _say(admin, "96"), "Đồng ý đổi")
    said = await _press(admin, stale, "Đồng ý đổi")
    assert "Chưa thay đổi" in said.text and "≥ 96%" in said.text

    # The agency and off for the year: each confirmation pressed twice.
    choose = await _press(admin, said, "Đổi cơ quan")
    confirm = await _press(admin, choose, HEALTH)
    yes = _data(confirm, "Đồng ý đổi")
    done = await _press(admin, confirm, "Đồng ý đổi")
    assert f"nay do {HEALTH} báo cáo" in done.text
    again = await _press_again(admin, confirm, yes)
    assert "Đã xong rồi" in again.text
    confirm = await _press(admin, again, "Tắt trong năm 2026")
    yes = _data(confirm, "Đồng ý")
    done = await _press(admin, confirm, "Đồng ý")
    assert "Đã tắt chỉ tiêu 1 trong năm 2026" in done.text
    again = await _press_again(admin, confirm, yes)
    assert "Đã xong rồi" in again.text and "Bật lại trong năm 2026" in str(again.buttons)

    audits = await _audits(bot, "target_changed")
    assert [(a.details["what"], a.details.get("new")) for a in audits] == [
        ("value", 97.5), ("value", 98.0), ("value", 96.0), ("agency", audits[3].details["new"]),
        ("off", None)]
    async with bot.db.session() as session:
        target = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == commune_id, PlanTarget.code == "mt1"))).one()
    assert target.target_values == {"2026": 96.0} and target.off_years == [2026]


async def test_opening_the_form_starts_nothing_and_baocao_continues(bot, officer):
    lan = await joined(bot, 3001, "Lan", AGENCY, CULTURE)
    hoa = await joined(bot, 3002, "Hoa", AGENCY, HEALTH)
    _request_lan, request_hoa = await _open_round(bot, lan, hoa)

    # Both open the form and answer nothing: the board still says "not started".
    question = await _say(lan, "/baocao")
    assert "Câu hỏi 1/3" in question.text and "Tiếp tục" not in question.text
    await _press(hoa, request_hoa, "Điền báo cáo")
    board = await _say(officer, "/baocao")
    assert f"⬜ {CULTURE}: chưa bắt đầu" in board.text
    assert f"⬜ {HEALTH}: chưa bắt đầu" in board.text
    assert "Đã gửi 0, đang soạn 0, chưa bắt đầu 2." in board.text

    # The first answer starts the part.
    question = await _say(lan, "96")
    assert "Câu hỏi 2/3" in question.text
    board = await _say(officer, "/baocao")
    assert f"📝 {CULTURE}: đang soạn" in board.text and f"⬜ {HEALTH}: chưa bắt đầu" in board.text

    # Saved for later: /baocao continues at the first unanswered question, not the review.
    saved = await _press(lan, question, "Lưu")
    assert "/baocao" in saved.text
    question = await _say(lan, "/baocao")
    assert "Tiếp tục" in question.text and "1/3" in question.text
    assert "Câu hỏi 2/3" in question.text
    # The review's "Change answers" continues there too; "From question 1" starts over.
    review = await _press(lan, question, "Xem lại")
    assert "bản nháp" in review.text and "96%" in review.text
    assert "Câu hỏi 2/3" in (await _press(lan, review, "Sửa câu trả lời")).text
    first = await _press(lan, review, "Từ câu 1")
    assert "Câu hỏi 1/3" in first.text and "96%" in first.text
    question = await _press(lan, first, "Bỏ qua")
    await _press(lan, await _say(lan, "Hỗ trợ 42 trẻ em."), "Xem lại")
    # One text left: /baocao asks it.
    question = await _say(lan, "/baocao")
    assert "Câu hỏi 3/3" in question.text and "2/3" in question.text
    await _say(lan, "Thiếu kinh phí.")

    # Everything answered: /baocao gives the review; "Change answers" starts at question 1.
    review = await _say(lan, "/baocao")
    assert "bản nháp" in review.text and "Câu hỏi" not in review.text
    assert "Thiếu kinh phí." in review.text
    assert "Từ câu 1" not in str(review.buttons)
    assert "Câu hỏi 1/3" in (await _press(lan, review, "Sửa câu trả lời")).text

    started = await _audits(bot, "round_part_started")
    async with bot.db.session() as session:
        parts = {p.id: p for p in (await session.exec(select(RoundPart))).all()}
    assert len(started) == 1  # Lan's part; Hoa opened hers and saved nothing
    assert parts[int(started[0].object_id)].answers == {"mt1": 96.0}


async def test_send_pressed_twice_sends_once(bot, officer):
    lan = await joined(bot, 3001, "Lan", AGENCY, CULTURE)
    (request,) = await _open_round(bot, lan)
    question = await _press(lan, request, "Điền báo cáo")
    await _say(lan, "96")
    review = await _press(lan, question, "Xem lại")
    send = _data(review, "Gửi")
    officer.mark()
    sent = await _press(lan, review, "Gửi")
    assert "Đã gửi" in sent.text
    assert "đã gửi" in (await officer.reply()).text
    again = await _press_again(lan, review, send)  # the same review's Send, again
    assert "Đã gửi rồi" in again.text and "96%" in again.text
    assert await officer.settle() == []

    # A correction is sent once, however often its button is pressed.
    question = await _press(lan, again, "Từ câu 1")
    await _say(lan, "97")
    review = await _press(lan, question, "Xem lại")
    officer.mark()
    lan.mark()
    await asyncio.gather(lan.press(review, "Gửi bản sửa"), lan.press(review, "Gửi bản sửa"))
    said = [m.text for m in await lan.replies(2)]
    assert any("Đã gửi bản sửa" in text for text in said), said
    assert any("Đã gửi rồi" in text for text in said), said
    assert "đã sửa" in (await officer.reply()).text
    assert await officer.settle() == []
    assert len(await _audits(bot, "round_part_sent")) == 1
    assert len(await _audits(bot, "round_part_corrected")) == 1


async def test_reminder_and_lock_pressed_twice_happen_once_on_the_same_board(bot, commune,
                                                                              officer):
    hoa = await joined(bot, 3002, "Hoa", AGENCY, HEALTH)
    async with bot.db.session() as session:  # last year's round, to look back at
        session.add(ReportRound(commune_id=commune.commune_id, code="bao-cao-6-thang",
                                name="Báo cáo 6 tháng", year=2026,
                                collect_on=dt.date(2026, 5, 13), opens_on=dt.date(2026, 4, 28),
                                period="6m", status="locked", opened_at=bot.clock.now()))
    await _open_round(bot, hoa)
    board = await _say(officer, "/baocao")
    assert "Báo cáo 6 tháng 2026" in str(board.buttons)

    # One tap: the reminder goes out, and the board after it is the same board.
    remind = _data(board, f"Nhắc {HEALTH}")
    hoa.mark()
    reminded = await _press(officer, board, f"Nhắc {HEALTH}")
    assert f"Đã nhắc {HEALTH}" in reminded.text
    assert [b["text"] for b in reminded.buttons] == [b["text"] for b in board.buttons]
    assert "Điền báo cáo" in str((await hoa.reply()).buttons)
    # The same button again (a double tap, or the old board): nothing goes out.
    again = await _press_again(officer, board, remind)
    assert "Đã nhắc rồi" in again.text and "Báo cáo 6 tháng 2026" in str(again.buttons)
    assert await hoa.settle() == []
    # The new board's button: a deliberate second reminder does go out.
    hoa.mark()
    await _press(officer, reminded, f"Nhắc {HEALTH}")
    await hoa.reply()
    assert len(await _audits(bot, "round_reminded")) == 2

    # The lock: "Back" and the lock itself show the same board; pressed twice, locked once.
    confirm = await _press(officer, reminded, "Khóa")
    back = await _press(officer, confirm, "Quay lại")
    assert "Báo cáo 6 tháng 2026" in str(back.buttons)
    confirm = await _press(officer, back, "Khóa")
    yes = _data(confirm, "Có, khóa")
    officer.mark()
    await officer.press(confirm, "Có, khóa")
    locked = await officer.reply()  # the board, edited; the files follow
    assert "Đã khóa" in locked.text and "Báo cáo 6 tháng 2026" in str(locked.buttons)
    await wait_until(lambda: len(_documents(bot, officer)) == 2, timeout=20.0)
    again = await _press_again(officer, confirm, yes)
    assert "đã khóa rồi" in again.text.lower() and "Gửi lại các tệp" in str(again.buttons)
    await outbox_drained(bot)
    assert len(_documents(bot, officer)) == 2
    assert len(await _audits(bot, "round_locked")) == 1
    async with bot.db.session() as session:
        owed = (await session.exec(select(Delivery).where(Delivery.kind == "round_files"))).all()
    # One row per file (the XLSX and the DOCX), queued by the one lock that happened.
    assert sorted(row.payload["file"] for row in owed) == ["docx", "xlsx"]
    # A stale reminder after the lock is refused as before.
    said = await _press_again(officer, board, remind)
    assert "khóa" in said.text
