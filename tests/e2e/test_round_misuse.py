"""The report round's form as people really use it, not as it was built: figures typed the
way they come to mind, answers in two messages, a long text Telegram splits in two, buttons
from three screens ago, commands in the middle, a restart, two members of one agency at
once, the officer locking while someone is on the review screen, and strangers pressing a
forwarded form's buttons. Then random sequences of all of it, with the invariants checked
after every step."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

import pytest
from sqlmodel import select

from bot.app import stop_application
from bot.fakeapi import SentMessage
from bot.jobs import run_round_jobs
from domain.setup_file import load_setup_file
from domain.targets import RoundSpec, collect_date, round_dates
from handlers import callback_data as cb
from storage.models import RoundPart
from storage.setup_import import import_setup
from tests.conftest import EXAMPLE_SETUP, start_bot
from tests.e2e.flows import (
    joined,
)

HANOI = dt.timezone(dt.timedelta(hours=7))
AGENCY = "Thành viên cơ quan"

# More targets for the health station, one of each unit, for this file only.
HEALTH_TARGETS = '''
[[targets]]
code = "yt1"
number = "5"
name = "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ."
unit = "%"
rule = ">="
values = { 2026 = 95 }
agency = "tram-y-te"

[[targets]]
code = "yt2"
number = "6"
name = "Số trẻ em được khám sàng lọc."
unit = "count"
rule = ">="
values = { 2026 = 500 }
agency = "tram-y-te"

[[targets]]
code = "yt3"
number = "7"
name = "Trạm Y tế có góc tư vấn dinh dưỡng cho trẻ em."
unit = "yes/no"
rule = "="
values = { 2026 = 1 }
agency = "tram-y-te"
'''
# The health station's questions, in order: mt2 (/100.000), yt1 (%), yt2 (count),
# yt3 (yes/no), then the two texts.
CODES = ("mt2", "yt1", "yt2", "yt3")
UNITS = {"mt2": "/100.000", "yt1": "%", "yt2": "count", "yt3": "yes/no"}
TOTAL = len(CODES) + 2


async def _load_setup(bot, tmp_path) -> None:
    setup_file = tmp_path / "minh-tan.toml"
    setup_file.write_text(EXAMPLE_SETUP.read_text("utf-8") + HEALTH_TARGETS, "utf-8")
    async with bot.db.session() as session:
        await import_setup(load_setup_file(setup_file), session=session, now=bot.clock.now())


async def _member(bot, user_id: int, name: str, agency: str = "Trạm Y tế xã"):
    return await joined(bot, user_id, name, AGENCY, agency)


async def _open_round(bot, *people):
    """The 2027 6-month round opens; returns each person's request message."""
    spec = RoundSpec("bao-cao-6-thang", "Báo cáo 6 tháng", "5 ngày làm việc trước 20/5")
    dates = round_dates(collect_date(spec, 2027), 10)
    for person in people:
        person.mark()
    bot.clock.set(dt.datetime.combine(dates.opens, dt.time(8, 0), tzinfo=HANOI))
    await run_round_jobs(bot.application)
    return [await person.reply() for person in people]


async def _answers(person) -> list[SentMessage]:
    """The bot's answers: the first one (waited for), then whatever follows it closely."""
    return [await person.reply(), *await person.settle()]


async def _say(person, text: str) -> SentMessage:
    """Sends `text` and returns the last of the bot's answers once it is quiet."""
    person.mark()
    await person.send(text)
    answers = await _answers(person)
    assert answers, f"no answer to {text[:40]!r}"
    return answers[-1]


async def _press(person, message: SentMessage, label: str) -> SentMessage:
    person.mark()
    await person.press(message, label)
    answers = await _answers(person)
    assert answers, f"no answer to a press on {label!r}"
    return answers[-1]


async def _part(bot) -> RoundPart | None:
    async with bot.db.session() as session:
        return (await session.exec(select(RoundPart))).first()


@pytest.fixture
async def hoa(bot, tmp_path):
    await _load_setup(bot, tmp_path)
    return await _member(bot, 3002, "Hoa")


async def test_figures_typed_the_way_people_type_them(bot, hoa):
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    assert f"Câu hỏi 1/{TOTAL}" in question.text
    # A rate per 100.000 with a thousands dot, as the hint's own "100.000" is written.
    answer = await _say(hoa, "1.250")
    assert "Đã lưu: 1.250/100.000" in answer.text and f"Câu hỏi 2/{TOTAL}" in answer.text
    for typed, shown in (("95 %", "95%"), ("95,5", "95,5%"), (" 96.5% ", "96,5%")):
        back = await _press(hoa, answer, "Xem lại")
        question = await _press(hoa, back, "Từ câu 1")  # "Sửa" continues at question 3
        question = await _say(hoa, "1.250")
        answer = await _say(hoa, typed)
        assert f"Đã lưu: {shown}" in answer.text, (typed, answer.text)
    for wrong in ("không", "<b>", "7,5", "-5", "95 trẻ em", "9 5", "1,000.5"):
        answer = await _say(hoa, wrong)
        assert "không dùng được" in answer.text and f"Câu hỏi 3/{TOTAL}" in answer.text, wrong
        assert "<b>" not in answer.text
    answer = await _say(hoa, "1.000")  # a count with a thousands dot
    assert "Đã lưu: 1.000." in answer.text
    answer = await _say(hoa, "ko")  # yes/no typed instead of pressed
    assert "Đã lưu: Không" in answer.text
    part = await _part(bot)
    assert part.answers == {"mt2": 1250.0, "yt1": 96.5, "yt2": 1000.0, "yt3": 0.0}


async def test_a_number_in_two_messages_lands_on_its_own_target(bot, hoa):
    (request,) = await _open_round(bot, hoa)
    await _press(hoa, request, "Điền báo cáo")
    await _say(hoa, "550")
    await _say(hoa, "95")
    stray = await _say(hoa, "%")  # the unit, sent a moment after the figure
    assert f"Câu hỏi 3/{TOTAL}" in stray.text and "Chưa có gì được lưu" in stray.text
    part = await _part(bot)
    assert part.answers == {"mt2": 550.0, "yt1": 95.0}


async def test_a_text_in_two_messages_stays_one_answer(bot, hoa):
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    for _ in CODES:
        question = await _press(hoa, question, "Bỏ qua")
    assert f"Câu hỏi 5/{TOTAL}" in question.text
    first = await _say(hoa, "Tổ chức 2 lớp dạy bơi.")
    second = await _say(hoa, "Và 3 buổi tuyên truyền <phòng> đuối nước.")
    assert "Đã lưu" in first.text and f"Câu hỏi 5/{TOTAL}" in first.text
    assert "Đã lưu" in second.text and f"Câu hỏi 5/{TOTAL}" in second.text
    nxt = await _press(hoa, second, "Tiếp")
    assert f"Câu hỏi 6/{TOTAL}" in nxt.text
    part = await _part(bot)
    assert part.highlights == ("Tổ chức 2 lớp dạy bơi.\n"
                               "Và 3 buổi tuyên truyền <phòng> đuối nước.")
    assert part.difficulties is None


async def test_a_long_text_telegram_splits_in_two_is_not_half_saved(bot, hoa):
    """A 5.000-character paste reaches the bot as 4.096 + 904 characters, a moment apart."""
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    for _ in CODES:
        question = await _press(hoa, question, "Bỏ qua")
    text = ("Kết quả nổi bật của trạm y tế. " * 200)[:5000]
    hoa.mark()
    await hoa.send(text[:4096])
    await hoa.send(text[4096:])
    said = " ".join(m.text for m in await hoa.settle(first=10.0))
    assert "2.000" in said
    part = await _part(bot)
    assert part.highlights is None, len(part.highlights)
    short = await _say(hoa, "Ngắn gọn lại.")
    assert "Đã lưu" in short.text
    assert (await _part(bot)).highlights == "Ngắn gọn lại."


async def test_stale_buttons_commands_and_a_restart_lose_nothing(fake, db, clock, commune,
                                                                 tmp_path):
    bot = await start_bot(fake, db, clock)
    try:
        await _load_setup(bot, tmp_path)
        hoa = await _member(bot, 3002, "Hoa")
        (request,) = await _open_round(bot, hoa)
        q1 = await _press(hoa, request, "Điền báo cáo")
        q2 = await _say(hoa, "550")
        q3 = await _say(hoa, "95")
        q4 = await _say(hoa, "1.200")
        # The yes/no buttons of question 4, then the "skip" of question 1 (three screens ago).
        q5 = await _press(hoa, q4, "Có")
        assert f"Câu hỏi 5/{TOTAL}" in q5.text
        again = await _press(hoa, q1, "Bỏ qua")
        assert f"Câu hỏi 2/{TOTAL}" in again.text and "95%" in again.text
        # A restart, then the next morning: the question still on screen takes its answer.
        await stop_application(bot.application)
        bot = await start_bot(fake, db, clock)
        clock.set(clock.now() + dt.timedelta(hours=20))
        said = await _say(hoa, "96")
        assert "Đã lưu: 96%" in said.text and f"Câu hỏi 3/{TOTAL}" in said.text
        # A command mid-form, then come back: the answers are all there.
        for command in ("/start", "/baotin", "/baocao"):
            said = await _say(hoa, command)
            assert said.text
        await hoa.settle()
        await stop_application(bot.application)
        bot = await start_bot(fake, db, clock)
        hoa.mark()
        await hoa.send("/baocao")  # continues at the first unanswered question: a text
        resumed = next(m for m in await _answers(hoa) if "Câu hỏi" in m.text)
        assert f"Câu hỏi 5/{TOTAL}" in resumed.text and "4/6" in resumed.text, resumed.text
        review = await _press(hoa, resumed, "Xem lại")
        assert "bản nháp" in review.text
        for shown in ("550/100.000", "96%", "1.200", "Có"):
            assert shown in review.text, review.text
        # The old Send of no screen, and the stale yes/no of question 4 after the restart.
        fixed = await _press(hoa, q4, "Không")
        assert f"Câu hỏi 5/{TOTAL}" in fixed.text
        del q2, q3
        part = await _part(bot)
        assert part.answers == {"mt2": 550.0, "yt1": 96.0, "yt2": 1200.0, "yt3": 0.0}
        assert part.status == "draft"
    finally:
        await stop_application(bot.application)
    assert fake.violations == []


async def test_two_members_of_one_agency_at_once(bot, hoa):
    lan = await _member(bot, 3005, "Linh")
    request_hoa, request_linh = await _open_round(bot, hoa, lan)
    await _press(hoa, request_hoa, "Điền báo cáo")
    question = await _press(lan, request_linh, "Điền báo cáo")
    await _press(lan, question, "Bỏ qua")  # Linh starts at question 2
    # Both type at the same moment, each on their own question: every answer lands.
    for typed_hoa, typed_linh in (("550", "96"), ("95", "12"), ("13", "có")):
        hoa.mark()
        lan.mark()
        await asyncio.gather(hoa.send(typed_hoa), lan.send(typed_linh))
        await _answers(hoa)
        await _answers(lan)
    part = await _part(bot)
    assert part.answers == {"mt2": 550.0, "yt1": 95.0, "yt2": 13.0, "yt3": 1.0}
    # Hoa looks at the review; Linh then changes a figure; Hoa's Send must not send what she
    # never saw.
    review = await _press(hoa, await _say(hoa, "/baocao"), "Xem lại")  # /baocao: question 5
    question = await _press(lan, await _say(lan, "/baocao"), "Xem lại")
    question = await _press(lan, question, "Từ câu 1")
    question = await _say(lan, "1.000")
    sent = await _press(hoa, review, "Gửi")
    assert "Đã gửi" not in sent.text and "vừa thay đổi" in sent.text, sent.text
    assert "1.000/100.000" in sent.text
    assert (await _part(bot)).status == "draft"
    sent = await _press(hoa, sent, "Gửi")
    assert "Đã gửi" in sent.text and "1.000/100.000" in sent.text
    del question


async def test_the_officer_locks_while_a_member_is_on_the_review_screen(bot, hoa, officer):
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    await _say(hoa, "550")
    review = await _press(hoa, question, "Xem lại")
    board = await _say(officer, "/baocao")
    remind = board.button("Nhắc")["callback_data"]
    confirm = await _press(officer, board, "Khóa")
    officer.mark()
    await officer.press(confirm, "Có, khóa")
    await officer.settle()
    for label in ("Gửi", "Sửa câu trả lời", "Lưu"):
        said = await _press(hoa, review, label)
        assert "khóa" in said.text, (label, said.text)
        assert "thử lại" not in said.text
    said = await _say(hoa, "600")
    assert "Câu hỏi" not in said.text
    part = await _part(bot)
    assert part.answers == {"mt2": 550.0} and part.status == "draft"
    # The officer's stale reminder button after the lock.
    officer.mark()
    await officer.press_data(board, remind)
    said = (await _answers(officer))[-1]
    assert "khóa" in said.text and "thử lại" not in said.text


async def test_send_and_lock_at_the_same_moment(bot, hoa, officer):
    """Hoa presses Send as the officer confirms the lock: either her part was sent before the
    lock (and is in the compiled report) or it was refused; never sent after the lock."""
    from storage.models import AuditEntry

    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    await _say(hoa, "550")
    review = await _press(hoa, question, "Xem lại")
    board = await _say(officer, "/baocao")
    confirm = await _press(officer, board, "Khóa")
    hoa.mark()
    officer.mark()
    await asyncio.gather(hoa.press(review, "Gửi"), officer.press(confirm, "Có, khóa"))
    await _answers(hoa)
    await _answers(officer)
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(
            select(AuditEntry).order_by(AuditEntry.id))).all()]
    part = await _part(bot)
    if part.status == "sent":
        assert actions.index("round_part_sent") < actions.index("round_locked")
    else:
        assert "round_part_sent" not in actions


async def test_strangers_pressing_a_forwarded_form(bot, hoa):
    tuan = await _member(bot, 3003, "Tuấn", "Công an xã")
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    await _say(hoa, "550")
    review = await _press(hoa, question, "Xem lại")
    citizen = bot.user(4001, "Nam")
    citizen.mark()
    await citizen.start()
    await _answers(citizen)
    for stranger in (tuan, citizen):
        for message in (request, question, review):
            raw = {**message.raw, "chat": {"id": stranger.chat_id, "type": "private"},
                   "forward_origin": {"type": "user", "date": message.raw["date"],
                                      "sender_user": hoa.user}}
            forwarded = SentMessage(stranger.chat_id, message.message_id, raw)
            for button in message.buttons:
                stranger.mark()
                await stranger.press_data(forwarded, button["callback_data"])
                said = " ".join(m.text for m in await _answers(stranger))
                assert said, button
                assert "Câu hỏi" not in said and "Đã gửi" not in said and "550" not in said
                assert "vụ việc" not in said and "⛔" in said, said  # whose part, not "a case"
                if stranger is tuan:
                    assert "Trạm Y tế xã" in said
                else:
                    assert "cơ quan mình" not in said  # a citizen has no agency
    part = await _part(bot)
    assert part.answers == {"mt2": 550.0} and part.status == "draft"


async def test_targets_changed_while_typing_never_take_the_answer(bot, hoa, tmp_path):
    """The administrator imports the set-up file again without target 5 while Hoa is on its
    question: her "95" must not land on target 6, which now has that place."""
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    question = await _say(hoa, "550")
    assert "Chỉ tiêu 5." in question.text
    setup_file = tmp_path / "minh-tan.toml"
    without = HEALTH_TARGETS.split("[[targets]]")
    setup_file.write_text(EXAMPLE_SETUP.read_text("utf-8") + "[[targets]]".join(
        [without[0], *without[2:]]), "utf-8")
    async with bot.db.session() as session:
        await import_setup(load_setup_file(setup_file), session=session, now=bot.clock.now())
    said = await _say(hoa, "95")
    assert "Chưa có gì được lưu" in said.text and "Chỉ tiêu 6." in said.text
    assert (await _part(bot)).answers == {"mt2": 550.0}
    said = await _say(hoa, "600")
    assert "Đã lưu: 600." in said.text
    assert (await _part(bot)).answers == {"mt2": 550.0, "yt2": 600.0}


async def test_an_answer_edited_afterwards_never_lands_on_the_next_question(bot, hoa):
    """Hoa types 95 for target 5, then edits that message to 96 (Telegram sends the edit as
    an update of its own) while the form is on target 6, a count."""
    (request,) = await _open_round(bot, hoa)
    question = await _press(hoa, request, "Điền báo cáo")
    await _say(hoa, "550")
    await _say(hoa, "95")
    typed = hoa.chat.messages[max(mid for mid, m in hoa.chat.messages.items()
                                  if m.get("text") == "95")]

    async def edit(message: dict, text: str) -> str:
        hoa.mark()
        await bot.fake.push_update("edited_message", {**message, "text": text,
                                                      "edit_date": message["date"] + 5})
        return " ".join(m.text for m in await _answers(hoa))

    said = await edit(typed, "96")
    assert "Đã sửa: chỉ tiêu 5 bây giờ là 96%" in said and f"Câu hỏi 3/{TOTAL}" in said
    assert (await _part(bot)).answers == {"mt2": 550.0, "yt1": 96.0}  # not 96 on target 6
    said = await edit(typed, "960")
    assert "không dùng được" in said and "96%" in said
    assert (await _part(bot)).answers == {"mt2": 550.0, "yt1": 96.0}
    # An edit of a message that answered nothing: not read, said so.
    hoa.mark()
    await hoa.send("xin chào")
    await _answers(hoa)
    hello = hoa.chat.messages[max(mid for mid, m in hoa.chat.messages.items()
                                  if m.get("text") == "xin chào")]
    said = await edit(hello, "12")
    assert "không đọc tin nhắn đã sửa" in said
    assert (await _part(bot)).answers == {"mt2": 550.0, "yt1": 96.0}
    del question


async def test_a_member_who_left_the_agency_mid_form_is_not_stuck(bot, hoa):
    from storage.models import Member

    (request,) = await _open_round(bot, hoa)
    await _press(hoa, request, "Điền báo cáo")
    async with bot.db.session() as session:
        member = (await session.exec(select(Member).where(
            Member.telegram_user_id == hoa.id))).one()
        member.active, member.revoked_at = False, bot.clock.now()
        session.add(member)
    said = await _say(hoa, "550")
    assert "Đã lưu" not in said.text
    assert (await _part(bot)).answers == {}
    again = await _say(hoa, "Xin chào")
    assert again.text != said.text  # not the same refusal for every message from now on


# --- random sequences -------------------------------------------------------------------


VALUES = {"/100.000": ["550", "1.250", "0", "abc", "100001"],
          "%": ["95", "95,5", "96.5 %", "101", "không"],
          "count": ["12", "1.000", "7,5", "-1"],
          "yes/no": ["có", "không", "ko", "maybe"]}
VALID = {"/100.000": {"550": 550.0, "1.250": 1250.0, "0": 0.0},
         "%": {"95": 95.0, "95,5": 95.5, "96.5 %": 96.5},
         "count": {"12": 12.0, "1.000": 1000.0},
         "yes/no": {"có": 1.0, "không": 0.0, "ko": 0.0}}
TEXTS = ("Ngắn <b>gọn</b>.", "a" * 2100, "Dòng thứ hai.", "   ")


async def _current_question(bot, user_id: int) -> int | None:
    from storage.models import PendingInput

    async with bot.db.session() as session:
        pending = (await session.exec(select(PendingInput).where(
            PendingInput.user_id == user_id))).first()
    if pending is None or pending.kind != "round":
        return None
    return int(pending.data.get("q", 0))


@pytest.mark.parametrize("seed", range(30))
async def test_random_sequences_keep_the_invariants(fake, db, clock, commune, tmp_path,
                                                    seed, caplog):
    """Type a value, edit an earlier answer, press a visible button, press a stale one, send
    a command, restart, and (once) the officer locks: after each step the bot has answered
    with no error in its log, nothing typed is lost or put on another target, a review shows
    what the part holds, and nothing changes after the lock."""
    from domain.targets import Unit, format_value, parse_value
    from tests.e2e.flows import joined

    caplog.set_level(logging.INFO)
    rng = random.Random(seed)
    bot = await start_bot(fake, db, clock)
    try:
        await _load_setup(bot, tmp_path)
        hoa = await _member(bot, 3002, "Hoa")
        officer = await joined(bot, 2001, "Hùng", "Người làm công tác bảo vệ trẻ em")
        (request,) = await _open_round(bot, hoa)
        seen: list[SentMessage] = [request]
        answers_now: dict[str, float] = {}
        texts_now: dict[str, str | None] = {"highlights": None, "difficulties": None}
        is_locked = False
        locked: RoundPart | None = None  # the part as it was when the officer locked
        log: list[str] = []
        for step in range(rng.randint(8, 15)):
            action = rng.choice(("type", "type", "type", "edit", "press", "press", "stale",
                                 "command", "restart", "lock"))
            where = f"seed {seed} step {step} {action} after {log}"
            q = await _current_question(bot, hoa.id)
            if action == "restart":
                log.append("restart")
                await stop_application(bot.application)
                bot = await start_bot(fake, db, clock)
                continue
            if action == "lock":
                if not is_locked:
                    is_locked = True
                    log.append("lock")
                    board = await _say(officer, "/baocao")
                    confirm = await _press(officer, board, "Khóa")
                    await _press(officer, confirm, "Có, khóa")
                    locked = await _part(bot)
                continue
            expect_answers = dict(answers_now)
            text_typed: tuple[str, str] | None = None
            edited: str | None = None  # the target an edit may change
            parsed = cb.CallbackData("?", "?")
            hoa.mark()
            if action == "type":
                if q is not None and q < len(CODES):
                    code = CODES[q]
                    typed = rng.choice(VALUES[UNITS[code]])
                    if typed in VALID[UNITS[code]]:
                        expect_answers[code] = VALID[UNITS[code]][typed]
                elif q is not None:
                    typed = rng.choice(TEXTS)
                    if len(typed) <= 2000 and typed.strip():
                        text_typed = (("highlights", "difficulties")[q - len(CODES)], typed)
                else:
                    typed = rng.choice(("550", "xin chào"))
                await hoa.send(typed)
                log.append(f"type {typed[:12]!r} at q={q}")
            elif action == "edit":
                mine = [m for m in hoa.chat.messages.values()
                        if m.get("from", {}).get("id") == hoa.id
                        and not (m.get("text") or "/").startswith("/")]
                if not mine:
                    continue
                message = rng.choice(mine)
                new = rng.choice([v for values in VALUES.values() for v in values])
                log.append(f"edit {message.get('text', '')[:12]!r} to {new!r}")
                await bot.fake.push_update("edited_message", {**message, "text": new,
                                                              "edit_date": message["date"] + 1})
                edited = new
            elif action == "command":
                command = rng.choice(("/start", "/baocao", "/baotin", "/help"))
                log.append(command)
                await hoa.send(command)
            else:
                pool = seen if action == "stale" else seen[-1:]
                message = rng.choice(pool)
                buttons = [b for b in message.buttons if "callback_data" in b]
                if not buttons:
                    continue
                button = rng.choice(buttons)
                parsed = cb.parse(button["callback_data"]) or parsed
                if parsed.feature == "br" and parsed.action == "yn":
                    expect_answers[CODES[parsed.int_arg(1)]] = float(parsed.int_arg(2))
                log.append(f"{action} {button['callback_data']} on {message.text[:30]!r}")
                await hoa.press_data(message, button["callback_data"])
            try:
                said = await _answers(hoa)
            except AssertionError as silence:
                if action in ("press", "stale") and parsed.feature != "br":
                    continue  # the menu pressed again: the same screen, nothing to edit
                raise AssertionError(f"{where}: silence") from silence
            seen += said
            part = await _part(bot)
            held = dict(part.answers) if part is not None else {}
            texts = ({"highlights": part.highlights, "difficulties": part.difficulties}
                     if part is not None else {"highlights": None, "difficulties": None})
            if is_locked:  # nothing changes after the lock
                assert (part is None) == (locked is None), where
                if part is not None:
                    assert (held, texts["highlights"], texts["difficulties"], part.status) == (
                        locked.answers, locked.highlights, locked.difficulties,
                        locked.status), where
            elif edited is not None:  # an edit changes at most one target, to its own value
                changed = {c for c in set(held) | set(answers_now)
                           if held.get(c) != answers_now.get(c)}
                assert len(changed) <= 1, where
                for code in changed:
                    assert held[code] == parse_value(Unit(UNITS[code]), edited), where
                assert texts == texts_now, where
            else:
                assert held == expect_answers, where
                if text_typed is not None:
                    which, typed = text_typed
                    assert (texts[which] or "").endswith(typed), where
                    other = "difficulties" if which == "highlights" else "highlights"
                    assert texts[other] == texts_now[other], where
                else:
                    assert texts == texts_now, where
            answers_now, texts_now = held, texts
            last = said[-1]
            if "bản nháp, chưa gửi" in last.text or "(đã gửi)" in last.text:
                for code, value in held.items():  # the review shows what the part holds
                    assert format_value(Unit(UNITS[code]), value) in last.text, where
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR], where
    finally:
        await stop_application(bot.application)
    assert fake.violations == []
