"""Every word lands where the person meant it, played as people really use a chat: a command
in the middle of typing, a story in several messages, a button from three screens ago, a
reply typed without pressing "Reply", text made of invisible characters."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import AuditEntry, Case, CaseEvent, PendingInput, Report, ReportDraft
from tests.e2e.flows import CODE, Reporter, outbox_drained, shortest_report
from tests.e2e.test_cases import (  # noqa: F401 - staff is a fixture
    act,
    add_other_commune_officer,
    reported_case,
    staff,
    take_and_open,
)

ZW = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, joiners, word joiner, BOM


async def answers(person) -> list:
    """Everything the bot says back to one action: at least one message, then until quiet."""
    return [*await person.replies(1), *await person.settle()]


async def until_text(person, words: str, timeout: float = 20.0):
    """The first message containing `words`, skipping what comes before it (the answers to
    an earlier command may still be arriving on a busy machine)."""
    seen = []
    while True:
        (message,) = await person.replies(1, timeout=timeout)
        seen.append(message.text[:60])
        if words in message.text:
            return message
        assert len(seen) < 10, seen


async def events(bot, kind: str) -> list[CaseEvent]:
    async with bot.db.session() as session:
        return list((await session.exec(select(CaseEvent).where(CaseEvent.kind == kind))).all())


async def until_story(r: Reporter):
    """/baotin → the story question (not urgent, Thôn Đông, 6–10, one child, no name)."""
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    (age,) = await r.tap(where, "Thôn Đông")
    (count,) = await r.tap(age, "6–10 tuổi")
    (name,) = await r.tap(count, "1 em")
    (story,) = await r.tap(name, "Bỏ qua")
    return story


async def to_review(r: Reporter, more) -> object:
    (identity,) = await r.tap(more, "Tiếp tục")
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Hàng xóm")
    assert "Kiểm tra lại tin báo" in review.text
    return review


# --- the pending-input hijack ---------------------------------------------------------------


async def test_a_command_drops_the_message_to_the_reporter_with_a_word(bot, staff):  # noqa: F811
    """The dangerous break: "✉️ Message the reporter", then /deadlines, then an internal
    suspicion typed — it must never reach the child who reported."""
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    await act(officer, press=card, label="Nhắn người báo tin")
    officer.mark()
    await officer.send("/deadlines")
    dropped, *_rest = await officer.replies(2)
    assert "Đã bỏ tin nhắn bạn đang soạn cho người báo tin" in dropped.text and code in dropped.text
    await officer.settle()
    citizen.user.mark()
    answer = await act(officer, "Nghi ngờ người cha uống rượu, cần báo công an")
    assert "chưa hiểu ý bạn" in answer.text
    await officer.settle()
    assert citizen.user.unread() == []
    assert await events(bot, "relay_out") == [] and await events(bot, "note") == []


async def test_a_press_on_another_flow_drops_the_note_being_typed(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, _citizen = await reported_case(bot, staff)
    code2, _other = await reported_case(bot, staff, name="Minh", user_id=1002)
    card = await take_and_open(officer, code)
    card2 = await act(officer, f"/case {code2}")
    await act(officer, press=card, label="Thêm ghi chú")
    officer.mark()
    await officer.press(card2, "Lịch sử")  # a button of another case, two screens back
    dropped, history = await officer.replies(2)
    assert "Đã bỏ ghi chú bạn đang soạn cho vụ việc" in dropped.text and code in dropped.text
    assert code2 in history.text
    answer = await act(officer, "Gia đình có dấu hiệu bạo lực")
    assert "chưa hiểu ý bạn" in answer.text
    assert await events(bot, "note") == []
    # /cases, /stats and /deadlines leave nothing armed either.
    for command in ("/cases", "/stats", "/deadlines"):
        await act(officer, press=card, label="Thêm ghi chú")
        officer.mark()
        await officer.send(command)
        assert "Đã bỏ ghi chú" in (await officer.reply()).text
        await officer.send("ghi chú lạc")
        await until_text(officer, "chưa hiểu ý bạn")
        await outbox_drained(bot)  # /stats' chart comes by the outbox, maybe after the rest
        await officer.settle()
    assert await events(bot, "note") == []
    async with bot.db.session() as session:
        assert (await session.exec(select(PendingInput))).all() == []


async def test_messages_to_a_reporter_are_previewed_edited_and_sent_once(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    prompt = await act(officer, press=card, label="Nhắn người báo tin")
    assert "TIN NHẮN GỬI NGƯỜI BÁO TIN" in prompt.text
    note_prompt_labels = [b["text"] for b in card.buttons]
    assert "📝 Thêm ghi chú nội bộ" in note_prompt_labels
    first = await act(officer, "Bạn có biết số nhà không?")
    assert "Xem lại tin nhắn" in first.text
    replaced = await act(officer, "Bạn có biết em học trường nào không?")
    assert "đã thay tin nhắn" in replaced.text and "trường nào" in replaced.text
    # The first preview's Send is stale: it sends nothing.
    stale = await act(officer, press=first, label="Gửi")
    assert "không có gì được gửi thêm" in stale.text.lower()
    assert citizen.user.unread() == []
    again = await act(officer, press=replaced, label="Sửa")
    assert "gõ lại" in again.text.lower()
    final = await act(officer, "Cảm ơn bạn, em học trường nào?")
    send_data = final.button("Gửi")["callback_data"]
    citizen.user.mark()
    sent = await act(officer, press=final, label="Gửi")
    assert "Đã gửi tin nhắn" in sent.text
    incoming = await citizen.user.reply()
    assert "em học trường nào?" in incoming.text and "Hùng" not in incoming.text
    twice = await act(officer, press=final, data=send_data)  # pressed again (a double tap)
    assert "không có gì được gửi thêm" in twice.text.lower()
    await officer.settle()
    assert citizen.user.unread() == []
    assert [e.note for e in await events(bot, "relay_out")] == ["Cảm ơn bạn, em học trường nào?"]


# --- the report: a story in several messages, ways back, commands mid-way -------------------


async def test_a_story_in_three_messages_is_kept_whole_and_counted(bot, officer):
    r = Reporter(bot.user(1101, "Lan"))
    await until_story(r)
    parts = ["Tối qua em nghe tiếng khóc.", "Sáng nay thấy em có vết bầm ở tay.",
             "Bố em hay uống rượu."]
    for number, part in enumerate(parts, start=1):
        (more,) = await r.say(part)
        used = len("\n".join(parts[:number]))
        assert f"đã dùng {used}/3.000 ký tự" in more.text
    too_long = await r.say("x" * 2950, replies=2)
    used = len("\n".join(parts))
    assert "quá dài" in too_long[0].text and f"đã dùng {used})" in too_long[0].text
    review = await to_review(r, too_long[1])
    assert all(p in review.text for p in parts)
    officer.mark()
    (thanks,) = await r.tap(review, "Gửi tin báo")
    async with bot.db.session() as session:
        report = (await session.exec(select(Report))).one()
    assert report.story == "\n".join(parts)


async def test_text_after_the_story_is_never_dropped(bot, officer):
    """The second half of a story arriving on the identity question is added (and said);
    on the review it is offered to the description."""
    r = Reporter(bot.user(1102, "Hà"))
    await until_story(r)
    (more,) = await r.say("Phần đầu câu chuyện.")
    (identity,) = await r.tap(more, "Tiếp tục")
    added, identity = await r.say("Phần sau câu chuyện.", replies=2)
    assert "Mình đã thêm đoạn này vào lời kể" in added.text
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Hàng xóm")
    (offer,) = await r.say("À, còn một chuyện nữa.")
    assert "thêm đoạn này vào lời kể" in offer.text
    added, review = await r.tap(offer, "Có, thêm vào", replies=2)
    assert "À, còn một chuyện nữa." in review.text and "Phần sau câu chuyện." in review.text


async def test_editing_the_story_shows_it_and_never_replaces_silently(bot):
    r = Reporter(bot.user(1103, "Tâm"))
    await until_story(r)
    (more,) = await r.say("Lời kể ban đầu, rất quan trọng.")
    review = await to_review(r, more)
    (screen,) = await r.tap(review, "✏️ Lời kể")
    assert "Lời kể ban đầu, rất quan trọng." in screen.text
    (rewrite,) = await r.tap(screen, "Kể lại từ đầu")
    (review,) = await r.tap(rewrite, "Quay lại phần xem lại")  # changed their mind
    assert "Lời kể ban đầu, rất quan trọng." in review.text
    (screen,) = await r.tap(review, "✏️ Lời kể")
    (add,) = await r.tap(screen, "Viết thêm")
    (more,) = await r.say("Thêm chi tiết.")
    (review,) = await r.tap(more, "Tiếp tục")
    assert "Lời kể ban đầu, rất quan trọng.\nThêm chi tiết." in review.text
    (screen,) = await r.tap(review, "✏️ Lời kể")
    (rewrite,) = await r.tap(screen, "Kể lại từ đầu")
    (more,) = await r.say("Lời kể mới.")
    (review,) = await r.tap(more, "Tiếp tục")
    assert "Lời kể mới." in review.text and "ban đầu" not in review.text
    # Cancelling an edit goes back to the review, not to deleting the report.
    (category,) = await r.tap(review, "✏️ Sự việc")
    labels = [b["text"] for b in category.buttons]
    assert "↩️ Quay lại phần xem lại" in labels and "✖️ Hủy" not in labels
    (review,) = await r.tap(category, "Quay lại phần xem lại")
    assert "Kiểm tra lại tin báo" in review.text


async def test_every_step_has_a_way_back(bot, officer):
    r = Reporter(bot.user(1104, "Quân"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    (what_again,) = await r.tap(where, "↩️ Quay lại")
    assert "Chuyện gì đang xảy ra" in what_again.text
    (where,) = await r.tap(what_again, "Bỏ học")
    (age,) = await r.tap(where, "Thôn Nam")
    (count,) = await r.tap(age, "Dưới 6 tuổi")
    (name,) = await r.tap(count, "1 em")
    (story,) = await r.tap(name, "Bỏ qua")
    (more,) = await r.say("Em bỏ học đi làm thuê.")
    (identity,) = await r.tap(more, "Tiếp tục")
    (contact,) = await r.tap(identity, "Để lại tên")
    (changed, relation) = await r.say("🙈 Tôi muốn ẩn danh", replies=2)
    assert "ẩn danh" in changed.text
    (review,) = await r.tap(relation, "Khác")
    assert "ẩn danh" in review.text and "Bỏ học" in review.text
    # The review changes the danger answer: the numbers come at once.
    (danger_q,) = await r.tap(review, "✏️ Nguy hiểm")
    hotlines, review = await r.tap(danger_q, "Có, đang nguy hiểm", replies=2)
    assert "111" in hotlines.text and "Đang nguy hiểm: có" in review.text
    officer.mark()
    await r.tap(review, "Gửi tin báo")
    assert "KHẨN CẤP" in (await officer.reply()).text


async def test_an_old_danger_button_changes_the_answer_and_says_so_once(bot, officer):
    r = Reporter(bot.user(1105, "Vy"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    hotlines, changed, where_again = await r.tap(danger, "Có, đang nguy hiểm", replies=3)
    assert "111" in hotlines.text and "đánh dấu khẩn cấp" in changed.text
    assert "câu hỏi trước" not in changed.text + where_again.text
    assert "xảy ra ở đâu" in where_again.text
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
    assert draft.answers["urgent"] is True


async def test_commands_mid_report_answer_then_repeat_the_question(bot):
    r = Reporter(bot.user(1106, "Khang"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    for command, expected in (("/help", "/baotin"), ("/hotline", "111"),
                              ("/lenhla", "không biết lệnh")):
        answer, lead, question = await r.say(command, replies=3)
        assert expected in answer.text, command
        assert "Bạn đang báo tin dở" in lead.text
        assert "Chuyện gì đang xảy ra" in question.text
    (menu,) = await r.say("/start")
    assert any("Tiếp tục tin báo" in b["text"] for b in menu.buttons)


# --- what the reporter adds, answers and looks up --------------------------------------------


async def test_what_the_reporter_adds_reaches_the_officer(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    await take_and_open(officer, code)
    (status,) = await citizen.say(f"/status {code}")
    (adding,) = await citizen.tap(status, "Bổ sung thông tin")
    (saved,) = await citizen.say("Hôm nay em lại bị đánh ở sân.")
    assert "đã dùng" in saved.text
    officer.mark()
    await citizen.tap(saved, "Gửi bổ sung")
    told = await officer.reply()
    assert code in told.text and "Hôm nay em lại bị đánh ở sân." in told.text
    details = await act(officer, press=told, label="Xem vụ việc")
    assert "Người báo tin bổ sung" in details.text and "lại bị đánh ở sân" in details.text
    card = await act(officer, f"/case {code}")
    history = await act(officer, press=card, label="Lịch sử")
    assert "người báo tin bổ sung: Hôm nay em lại bị đánh ở sân." in history.text


async def test_a_reply_typed_without_the_button_reaches_the_right_officer(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    await act(officer, press=card, label="Nhắn người báo tin")
    preview = await act(officer, "Em học lớp mấy?")
    citizen.user.mark()
    await act(officer, press=preview, label="Gửi")
    incoming = await citizen.user.reply()
    officer.mark()
    thanks = await act(citizen.user, "Em học lớp 4.")  # typed, not "Reply"
    assert "đã được chuyển đến cán bộ" in thanks.text
    assert "Em học lớp 4." in (await officer.reply()).text
    # A second conversation: a typed answer is asked about; Telegram's reply is not.
    thanks = await shortest_report(citizen)
    code2 = CODE.search(thanks.text).group(1)
    for person in (staff["officer"], staff["other"]):
        await person.settle()
    card2 = await take_and_open(officer, code2)
    await act(officer, press=card2, label="Nhắn người báo tin")
    preview = await act(officer, "Tin báo thứ hai: em bao nhiêu tuổi?")
    citizen.user.mark()
    await act(officer, press=preview, label="Gửi")
    await citizen.user.reply()
    which = await act(citizen.user, "Em 9 tuổi.")
    assert "tin báo nào" in which.text
    officer.mark()
    passed = await act(citizen.user, press=which, label=code2)
    assert code2 in passed.text
    assert "Em 9 tuổi." in (await officer.reply()).text
    officer.mark()
    citizen.user.mark()
    await citizen.user.send("Thêm: em học lớp 4A.", reply_to=incoming)  # Telegram's "Reply"
    assert "đã được chuyển đến cán bộ xử lý tin báo " + code in (await citizen.user.reply()).text
    assert code in (await officer.reply()).text
    async with bot.db.session() as session:
        answers = (await session.exec(select(CaseEvent).where(CaseEvent.kind == "relay_in"))).all()
        cases = {c.id: c for c in (await session.exec(select(Case))).all()}
        reports = {r.id: r.code for r in (await session.exec(select(Report))).all()}
    by_code = {reports[cases[e.case_id].report_id]: [] for e in answers}
    for e in answers:
        by_code[reports[cases[e.case_id].report_id]].append(e.note)
    assert by_code == {code: ["Em học lớp 4.", "Thêm: em học lớp 4A."], code2: ["Em 9 tuổi."]}


async def test_a_code_typed_alone_is_looked_up(bot, officer):
    citizen = Reporter(bot.user(1107, "Ngọc"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    (menu,) = await citizen.say("/start")
    (asked,) = await citizen.tap(menu, "Tra cứu")
    assert code in asked.text  # their own reports, with codes
    (found,) = await citizen.say(code.lower().replace("-", " "))
    assert f"Tin báo {code}" in found.text
    (found,) = await citizen.say(code)  # any time, alone
    assert f"Tin báo {code}" in found.text
    (listing,) = await citizen.say("/status")
    assert code in listing.text


# --- invisible characters, and rights on every press ------------------------------------------


async def test_text_of_invisible_characters_is_not_an_answer(bot, staff):  # noqa: F811
    r = Reporter(bot.user(1108, "Yên"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    (typed,) = await r.tap(where, "Nhập địa chỉ")
    refused, again = await r.say(ZW, replies=2)
    assert "không có chữ nào nhìn thấy được" in refused.text
    (age,) = await r.tap(where, "Thôn Đông")  # the villages are still there
    (count,) = await r.tap(age, "6–10 tuổi")
    (name,) = await r.tap(count, "1 em")
    refused, again = await r.say(" \u200b\u200e ", replies=2)
    assert "không có chữ nào nhìn thấy được" in refused.text
    (story,) = await r.tap(again, "Bỏ qua")
    refused, again = await r.say(ZW + "\u202e", replies=2)
    assert "viết vài chữ" in refused.text.lower() or "không có chữ" in refused.text
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
    assert "story" not in draft.answers and "address" not in draft.answers
    # A note of invisible characters is refused too.
    officer = staff["officer"]
    code, _citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    await act(officer, press=card, label="Thêm ghi chú")
    assert "không có chữ nào nhìn thấy được" in (await act(officer, ZW)).text
    assert await events(bot, "note") == []


@pytest.mark.parametrize("who", ["other_commune", "agency", "citizen"])
async def test_every_button_an_officer_saw_is_refused_to_others(bot, staff, who):  # noqa: F811
    """Replays every callback the bot ever showed the officer of commune A, as an officer of
    commune B, an agency member not referred to, and a citizen: only refusals."""
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    confirm = await act(officer, press=card, label="Xác minh, đánh giá nguy cơ")
    card = await act(officer, press=confirm, label="Có, chuyển")
    for label in ("Cao", "Hoàn cảnh đặc biệt", "Giao việc", "Chuyển cơ quan", "Kết thúc",
                  "Đổi mức nguy cơ"):
        if any(label in b["text"] for b in card.buttons):
            await act(officer, press=card, label=label)
            card = await act(officer, f"/case {code}")
    await officer.settle()
    shown = sorted({b["callback_data"] for mid in officer.chat.messages
                    for b in officer.message(mid).buttons if "callback_data" in b
                    and b["callback_data"].startswith("1:cs:")})
    assert len(shown) >= 15, shown
    if who == "other_commune":
        person = bot.user(await add_other_commune_officer(bot), "Bình")
    elif who == "agency":
        person = staff["health"]
    else:
        person = bot.user(1999, "Khách")
    own = await act(person, "/start")
    async with bot.db.session() as session:
        before = (await session.exec(select(Case))).one()
    for data in shown:
        person.mark()
        await person.press_data(own, data)
        got = await answers(person)
        texts = " | ".join(m.text for m in got)
        assert got, data
        assert code not in texts, (data, texts)
        assert any(word in texts for word in ("không có quyền", "không tìm thấy", "đã cũ",
                                              "không còn", "đã được gửi")), (data, texts)
    async with bot.db.session() as session:
        after = (await session.exec(select(Case))).one()
        assert (await session.exec(select(PendingInput).where(
            PendingInput.user_id == person.id))).all() == []
    assert (after.status, after.revision, after.risk) == (before.status, before.revision,
                                                          before.risk)
    assert citizen.user.unread() == []


async def test_buttons_of_a_sent_report_never_answer_the_next_one(bot, officer):
    """Draft ids are never reused: "yes, in danger" from the first report's message, pressed
    during the second report, changes nothing in the second one."""
    r = Reporter(bot.user(1109, "Phúc"))
    _intro, old_danger = await r.say("/baotin", replies=2)
    await r.tap(old_danger, "Không, nhưng")
    async with bot.db.session() as session:
        first_id = (await session.exec(select(ReportDraft))).one().id
    (confirm,) = await r.say("/huy")
    await r.tap(confirm, "Có, hủy")
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
    assert draft.id != first_id
    hotlines, gone = await r.tap(old_danger, "Có, đang nguy hiểm", replies=2)
    assert "111" in hotlines.text and "đã được gửi hoặc đã hủy" in gone.text
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
    assert draft.answers["urgent"] is False


async def test_refusals_of_what_the_bot_itself_showed_explain_not_accuse(bot, staff):  # noqa: F811
    officer, police = staff["officer"], staff["police"]
    code, citizen = await reported_case(bot, staff)
    # A citizen typing /case with their own code is pointed to /status.
    answer = await act(citizen.user, f"/case {code}")
    assert "/status" in answer.text and "ghi lại" not in answer.text
    # An agency member reading a referred case is not offered "Take this case".
    card = await take_and_open(officer, code)
    referring = await act(officer, press=card, label="Chuyển cơ quan")
    await act(officer, press=referring, label="Công an")
    told = await police.reply()
    police_card = await act(police, press=told, label="Mở vụ việc")
    details = await act(police, press=police_card, label="Xem chi tiết")
    assert not any("Nhận xử lý" in b["text"] for b in details.buttons)
    # The holder pressing an old "Take this case" after closing: out of date, not an attempt.
    reasons = await act(officer, press=await act(officer, f"/case {code}"), label="Kết thúc")
    await act(officer, press=reasons, label="Trẻ đã an toàn")
    old_notice = next(officer.message(mid) for mid in officer.chat.messages
                      if any("Nhận xử lý" in b["text"] for b in officer.message(mid).buttons))
    stale = await act(officer, press=old_notice, label="Nhận xử lý")
    assert "ghi lại" not in stale.text
    async with bot.db.session() as session:
        denied = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "denied"))).all()
    assert denied == []


async def test_send_pressed_again_shows_the_tracking_code_again(bot, officer):
    """The first confirmation lost (a crash after the commit, a bad connection): pressing
    "Send" again shows the code, never "already sent or cancelled"."""
    r = Reporter(bot.user(1110, "Sơn"))
    await until_story(r)
    (more,) = await r.say("Em bị nhốt trong nhà cả ngày.")
    old_review = await to_review(r, more)
    (category,) = await r.tap(old_review, "✏️ Sự việc")
    (review,) = await r.tap(category, "Quay lại phần xem lại")
    (thanks,) = await r.tap(review, "Gửi tin báo")
    code = CODE.search(thanks.text).group(1)
    (again,) = await r.tap(old_review, "Gửi tin báo")  # as if the first answer never came
    assert code in again.text and "đã được gửi hoặc đã hủy" not in again.text
    async with bot.db.session() as session:
        assert len((await session.exec(select(Report))).all()) == 1


async def test_a_typed_closing_reason_shows_on_the_card_and_in_the_history(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    reasons = await act(officer, press=card, label="Kết thúc")
    asked = await act(officer, press=reasons, label="Lý do khác")
    assert "lý do" in asked.text.lower()
    citizen.user.mark()
    closed = await act(officer, "Gia đình đã chuyển đến tỉnh khác, đã bàn giao hồ sơ.")
    assert "lý do khác: Gia đình đã chuyển đến tỉnh khác" in closed.text
    history = await act(officer, press=await act(officer, f"/case {code}"), label="Lịch sử")
    assert "Gia đình đã chuyển đến tỉnh khác, đã bàn giao hồ sơ." in history.text
    told = await citizen.user.reply()
    assert "khép lại" in told.text and "tỉnh khác" not in told.text  # no reason to the citizen
