"""Edited messages, end to end: Telegram sends an edit as an `edited_message` update of its
own. A story part of an unsent report is corrected in place; anything already saved or
sent (a sent report, a note, a message to or from a reporter, a register answer) is never
duplicated and the person is told what to do; an edit never answers the question asked
now; in groups edits are ignored. A random walk mixes edits into a report."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from bot.fakeapi import FakeGroup, FakeUser, SentMessage
from domain.reports import Step
from storage.models import (
    CaseEvent,
    Delivery,
    PendingInput,
    Report,
    ReportAddition,
    ReportDraft,
)
from tests.e2e.flows import CODE, Reporter, act

CORRECTED = "Đã sửa trong lời kể của bạn"
NOT_USED = "Mình không dùng nội dung đã sửa này"
NOT_READ = "Mình không đọc tin nhắn đã sửa"


async def edit(user: FakeUser, message_id: int, text: str, *,
               replies: int = 1) -> list[SentMessage]:
    """`user` edits one of their messages; the bot's answers to the edit."""
    user.mark()
    await user.edit(message_id, text)
    return await user.replies(replies)


async def to_story(reporter: Reporter, child_name: str | None = None) -> SentMessage:
    """/baotin up to the question "what happened"."""
    _intro, danger = await reporter.say("/baotin", replies=2)
    (what,) = await reporter.tap(danger, "Không, nhưng")
    (where,) = await reporter.tap(what, "Bị đánh")
    (age,) = await reporter.tap(where, "Thôn Đông")
    (count,) = await reporter.tap(age, "6–10 tuổi")
    (name,) = await reporter.tap(count, "1 em")
    if child_name is None:
        (story,) = await reporter.tap(name, "Bỏ qua")
    else:
        (story,) = await reporter.say(child_name)
    assert "3.000 ký tự" in story.text, story.text
    return story


def latest_with(user: FakeUser, label: str) -> SentMessage | None:
    """The newest message of the bot in this chat with a button labelled `label`."""
    bot_id = user.server.bot_id
    for mid in sorted(user.chat.messages, reverse=True):
        message = user.chat.messages[mid]
        if message.get("from", {}).get("id") == bot_id:
            found = user.message(mid)
            if any(label in b["text"] for b in found.buttons):
                return found
    return None


async def draft_of(bot, user_id: int) -> ReportDraft | None:
    async with bot.db.session() as session:
        return (await session.exec(select(ReportDraft).where(
            ReportDraft.user_id == user_id))).first()


async def events(bot, kind: str) -> list[str | None]:
    async with bot.db.session() as session:
        return [e.note for e in (await session.exec(
            select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id))).all()]


async def test_a_story_part_edited_before_sending_is_corrected_in_place(bot, officer):
    lan = bot.user(1001, "Lan")
    r = Reporter(lan)
    await to_story(r, child_name="Bé Na")
    name_message = max(mid for mid, m in lan.chat.messages.items() if m.get("text") == "Bé Na")
    await r.say("Em bé nhà bên bị đánh mỗi tối.")
    first = lan.last_message_id
    await r.say("Bố em say rượu.")
    second = lan.last_message_id
    (fixed,) = await edit(lan, first, "Em bé nhà bên bị bố đánh mỗi tối, khóc rất to.")
    assert CORRECTED in fixed.text
    draft = await draft_of(bot, lan.id)
    assert draft.answers["story"] == ("Em bé nhà bên bị bố đánh mỗi tối, khóc rất to.\n"
                                      "Bố em say rượu.")
    # An edit of the child's name (an answer, not the story) changes nothing and answers
    # nothing: the question on screen is asked again.
    said, question = await edit(lan, name_message, "Bé Nga", replies=2)
    assert NOT_USED in said.text and "nút ✏️" in said.text
    assert "Tiếp tục" in " ".join(b["text"] for b in question.buttons)
    draft = await draft_of(bot, lan.id)
    assert draft.answers["child_name"] == "Bé Na" and Step(draft.step) is Step.MEDIA
    # On the identity question (where a text without a phone is more story), an edit of a
    # part corrects it and is not added once more.
    (identity,) = await r.tap(question, "Tiếp tục")
    assert "để lại tên và số điện thoại" in identity.text
    (fixed,) = await edit(lan, second, "Bố em thường say rượu.")
    assert CORRECTED in fixed.text
    draft = await draft_of(bot, lan.id)
    assert draft.answers["story"].count("say rượu") == 1 and Step(draft.step) is Step.IDENTITY
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Hàng xóm")
    assert "Bố em thường say rượu." in review.text
    # On the review, the corrected review comes with the word (the one above is out of date).
    fixed, review = await edit(lan, first, "Em bé nhà bên bị bố đánh mỗi tối.", replies=2)
    assert CORRECTED in fixed.text and "Kiểm tra lại tin báo" in review.text
    assert "bị bố đánh mỗi tối.\nBố em thường say rượu." in review.text
    officer.mark()
    (thanks,) = await r.tap(review, "Gửi tin báo")
    code = CODE.search(thanks.text).group(1)
    async with bot.db.session() as session:
        report = (await session.exec(select(Report))).one()
    assert report.code == code and report.child_name == "Bé Na"
    assert report.story == "Em bé nhà bên bị bố đánh mỗi tối.\nBố em thường say rượu."
    assert code in (await officer.reply()).text


async def test_an_edit_after_sending_changes_nothing_and_shows_how_to_add(bot, officer):
    lan = bot.user(1001, "Lan")
    r = Reporter(lan)
    await to_story(r)
    (more,) = await r.say("Em bé nhà bên bị đánh mỗi tối.")
    part = lan.last_message_id
    (identity,) = await r.tap(more, "Tiếp tục")
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Hàng xóm")
    (thanks,) = await r.tap(review, "Gửi tin báo")
    code = CODE.search(thanks.text).group(1)
    await officer.settle(first=5.0)
    (said,) = await edit(lan, part, "Em bé nhà bên bị bố đánh mỗi tối.")
    assert code in said.text and "đã được chuyển đi" in said.text
    assert "không có gì bị gửi hai lần" in said.text
    assert await draft_of(bot, lan.id) is None
    async with bot.db.session() as session:
        assert (await session.exec(select(Report))).one().story == "Em bé nhà bên bị đánh mỗi tối."
    assert await officer.settle() == []  # nothing new reached the officers
    # The way the word shows: add information, and correct that in place before sending.
    (ask,) = await r.tap(said, "Bổ sung thông tin")
    assert "Gửi bổ sung" in " ".join(b["text"] for b in ask.buttons)
    (saved,) = await r.say("Bố em đánh bằng roi.")
    added = lan.last_message_id
    (fixed,) = await edit(lan, added, "Bố em đánh bằng roi mây.")
    assert "Đã sửa trong phần thông tin bạn đang bổ sung" in fixed.text
    officer.mark()
    (done,) = await r.tap(saved, "Gửi bổ sung")
    assert code in done.text
    notice = await officer.reply()
    assert code in notice.text
    async with bot.db.session() as session:
        additions = (await session.exec(select(ReportAddition))).all()
    assert [a.text for a in additions] == ["Bố em đánh bằng roi mây."]


async def take_case(bot, officer: FakeUser) -> tuple[str, Reporter, SentMessage]:
    """A citizen's report, taken by the officer; returns the code, the reporter and the card."""
    citizen = Reporter(bot.user(1077, "Lan"))
    await to_story(citizen)
    (more,) = await citizen.say("Em bé nhà bên bị đánh.")
    (identity,) = await citizen.tap(more, "Tiếp tục")
    (relation,) = await citizen.tap(identity, "Ẩn danh")
    (review,) = await citizen.tap(relation, "Hàng xóm")
    (thanks,) = await citizen.tap(review, "Gửi tin báo")
    code = CODE.search(thanks.text).group(1)
    await officer.settle(first=5.0)
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Nhận xử lý", replies=2)
    return code, citizen, await act(officer, f"/case {code}")


async def test_an_edited_note_is_not_saved_twice_nor_taken_by_the_next_input(bot, officer):
    code, _citizen, card = await take_case(bot, officer)
    await act(officer, press=card, label="Thêm ghi chú")
    noted = await act(officer, "Đã gặp gia đình.")
    note = officer.last_message_id
    assert "Đã lưu ghi chú" in noted.text
    (said,) = await edit(officer, note, "Đã gặp gia đình và nhà trường.")
    assert NOT_READ in said.text and "ghi chú mới" in said.text
    assert await events(bot, "note") == ["Đã gặp gia đình."]
    # A new note is armed: the edit of the old one is not its answer; the next message is.
    await act(officer, press=noted, label="Thêm ghi chú")
    (said,) = await edit(officer, note, "Đã gặp gia đình, lần hai.")
    assert NOT_USED in said.text and f"ghi chú cho vụ việc {code}" in said.text
    assert await events(bot, "note") == ["Đã gặp gia đình."]
    noted = await act(officer, "Nhà trường xác nhận em nghỉ học.")
    assert "Đã lưu ghi chú" in noted.text
    assert await events(bot, "note") == ["Đã gặp gia đình.", "Nhà trường xác nhận em nghỉ học."]


async def test_relay_preview_takes_the_edit_and_a_sent_relay_or_reply_is_never_resent(
        bot, officer):
    code, citizen, card = await take_case(bot, officer)
    await act(officer, press=card, label="Nhắn người báo tin")
    old_preview = await act(officer, "Bạn có biết em học lớp mấy?")
    typed = officer.last_message_id
    (preview,) = await edit(officer, typed, "Bạn có biết em học trường nào không?")
    assert "nội dung bạn vừa sửa" in preview.text and "học trường nào" in preview.text
    stale = await act(officer, press=old_preview, label="Gửi")
    assert "đã được gửi, đã sửa hoặc đã hủy" in stale.text
    citizen.user.mark()
    sent = await act(officer, press=preview, label="Gửi")
    assert "Đã gửi tin nhắn" in sent.text
    incoming = await citizen.user.reply()
    assert "học trường nào" in incoming.text and "lớp mấy" not in incoming.text
    # Edited after "Send": the reporter gets nothing more.
    (said,) = await edit(officer, typed, "Bạn có biết em học trường nào? Cảm ơn bạn.")
    assert NOT_READ in said.text
    assert await citizen.user.settle() == []
    assert await events(bot, "relay_out") == ["Bạn có biết em học trường nào không?"]
    # The reporter's answer, edited after it went to the officer: not sent again.
    await act(citizen.user, press=incoming, label="Trả lời")
    officer.mark()
    thanks = await act(citizen.user, "Em học trường Minh Tân.")
    assert "đã được chuyển đến cán bộ" in thanks.text
    await officer.reply()
    (said,) = await edit(citizen.user, citizen.user.last_message_id, "Em học trường Đông.")
    assert code in said.text and "đã được chuyển đi" in said.text
    assert await officer.settle() == []
    assert await events(bot, "relay_in") == ["Em học trường Minh Tân."]


async def test_an_edit_in_the_register_add_flow_answers_nothing(bot, officer):
    listing = await act(officer, "/tre")
    listing = await act(officer, press=listing, label="Thôn Đông") \
        if "Thêm trẻ" not in " ".join(b["text"] for b in listing.buttons) else listing
    question = await act(officer, press=listing, label="Thêm trẻ")
    question = await act(officer, "Nguyễn Văn An")
    name = officer.last_message_id
    assert "nam hay nữ" in question.text
    (said,) = await edit(officer, name, "Nguyễn Văn Anh")
    assert NOT_USED in said.text and "Hủy" in said.text and "thêm lại" in said.text
    async with bot.db.session() as session:
        pending = (await session.exec(select(PendingInput))).one()
    assert pending.data["name"] == "Nguyễn Văn An" and "sex" not in pending.data
    question = await act(officer, press=question, label="Nam")
    assert "ngày sinh" in question.text


async def test_edits_in_a_group_are_ignored_silently(bot, officer):
    group = FakeGroup(bot.fake, -100900, "Tổ bảo vệ trẻ em")
    stranger = bot.user(1002, "Nam")
    group.mark()
    await group.send(stranger, "Chào mọi người")
    await group.send(officer, "/help")
    await group.settle(first=2.0)
    group.mark()
    await stranger.edit(stranger.last_message_id, "/baotin", chat_id=group.id)
    await officer.edit(officer.last_message_id, "/subscribe", chat_id=group.id)
    await stranger.send("/start")  # a private message after: answered, so the edits were read
    await stranger.settle(first=5.0)
    assert await group.settle() == []
    async with bot.db.session() as session:
        owed = (await session.exec(select(Delivery).where(Delivery.chat_id == group.id))).all()
    assert owed == []


# --- a random walk over the citizen's report with edits mixed in -------------------------


class StoryModel:
    """What the description must be: the parts in the order they joined it, each with the
    last words of its message; the text kept aside at the review, waiting for "add it?"."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.words: dict[int, str] = {}
        self.loose: int | None = None

    def typed(self, mid: int, text: str, *, fresh: bool) -> None:
        if fresh:
            self.order = []
        self.order.append(mid)
        self.words[mid] = text

    def kept_aside(self, mid: int, text: str) -> None:
        self.loose = mid
        self.words[mid] = text

    def decided(self, add: bool) -> None:
        if add and self.loose is not None:
            self.order.append(self.loose)
        self.loose = None

    def edited(self, mid: int, text: str) -> str:
        """What the edit does: "part", "loose" or "" (nothing)."""
        if mid == self.loose:
            self.words[mid] = text
            return "loose"
        if mid in self.order:
            self.words[mid] = text
            return "part"
        return ""

    def story(self) -> str:
        return "\n".join(self.words[mid] for mid in self.order)


@pytest.mark.parametrize("seed", [3, 11, 29, 47])
async def test_random_report_with_edits_keeps_each_part_once_with_its_last_words(bot, seed):
    """Parts typed (on the story questions, and on the review: "add it?"), earlier parts and
    other messages (the child's name, commands) edited, Continue, Back, the review's "add
    more" and "tell it again", commands in between: the saved story is always the parts'
    last words in order, none twice, none lost; the report sent keeps exactly that."""
    rng = random.Random(seed)
    user = bot.user(5000 + seed, "Lan")
    r = Reporter(user)
    await to_story(r, child_name="Bé Na")
    model = StoryModel()
    mine = [max(mid for mid, m in user.chat.messages.items() if m.get("text") == "Bé Na")]
    log: list[str] = []

    async def settle() -> list[SentMessage]:
        return await user.settle(first=5.0)

    async def press(label: str) -> bool:
        message = latest_with(user, label)
        if message is None:
            return False
        user.mark()
        await user.press(message, label)
        await settle()
        log.append(f"press {label}")
        return True

    for counter in range(24):
        draft = await draft_of(bot, user.id)
        step = Step(draft.step)
        assert draft.answers.get("story", "") == model.story(), (seed, log)
        action = rng.choice(["type", "type", "edit", "edit", "edit", "command", "button",
                             "button"])
        if action == "type" and step in (Step.STORY, Step.MEDIA, Step.IDENTITY,
                                          Step.RELATION, Step.REVIEW):
            text = f"phần {counter} của lời kể"
            user.mark()
            await user.send(text)
            mine.append(user.last_message_id)
            if step in (Step.RELATION, Step.REVIEW):
                model.kept_aside(user.last_message_id, text)
            else:
                model.typed(user.last_message_id, text, fresh=bool(draft.answers.get("rewrite")))
            await settle()
            log.append(f"type {text!r} at {step}")
        elif action == "edit":
            target = rng.choice(mine)
            text = f"sửa {counter}"
            user.mark()
            await user.edit(target, text)
            said = " ".join(m.text for m in await settle())
            effect = model.edited(target, text)
            expected_word = {"part": CORRECTED, "loose": "Đã sửa. Mình thêm đoạn này",
                             "": NOT_USED}[effect]
            assert expected_word in said, (seed, log, target, said)
            log.append(f"edit {target} to {text!r} at {step}: {effect or 'nothing'}")
        elif action == "command":
            command = rng.choice(["/help", "/hotline", "/status"])
            user.mark()
            await user.send(command)
            mine.append(user.last_message_id)  # an edit of a command message changes nothing
            await settle()
            log.append(command)
        elif action == "button":
            choices = {
                Step.MEDIA: ["Tiếp tục", "Quay lại"],
                Step.IDENTITY: ["Ẩn danh", "Quay lại"],
                Step.RELATION: ["Hàng xóm"],
                Step.REVIEW: ["Viết thêm", "Kể lại từ đầu"],
                Step.STORY: ["Quay lại"] if draft.editing else [],
            }.get(step, [])
            if model.loose is not None:
                choices += ["Có, thêm vào", "Không"]
            if not choices:
                continue
            label = rng.choice(choices)
            if label in ("Viết thêm", "Kể lại từ đầu") and not await press("Lời kể"):
                continue
            pressed = await press(label)
            if pressed and label in ("Có, thêm vào", "Không"):
                model.decided(label == "Có, thêm vào")
    draft = await draft_of(bot, user.id)
    assert draft.answers.get("story", "") == model.story(), (seed, log)
    assert draft.answers["child_name"] == "Bé Na"
    # Finish and send: the report keeps exactly those words.
    while Step((draft := await draft_of(bot, user.id)).step) is not Step.REVIEW:
        step = Step(draft.step)
        if step is Step.STORY:  # "Back" or "tell it again" left it on the question
            user.mark()
            await user.send("phần cuối")
            model.typed(user.last_message_id, "phần cuối",
                        fresh=bool(draft.answers.get("rewrite")))
            await settle()
            continue
        label = {Step.MEDIA: "Tiếp tục", Step.IDENTITY: "Ẩn danh",
                 Step.RELATION: "Hàng xóm"}[step]
        assert await press(label), (step, log)
    assert await press("Gửi tin báo"), log
    async with bot.db.session() as session:
        reports = (await session.exec(select(Report))).all()
    assert [report.story for report in reports] == [model.story()], (seed, log)
    assert await draft_of(bot, user.id) is None


async def test_a_person_with_nothing_open_is_told_nothing_changed(bot):
    stranger = bot.user(1003, "Vy")
    stranger.mark()
    await stranger.send("xin chào")
    await stranger.settle(first=5.0)
    (said,) = await edit(stranger, stranger.last_message_id, "xin chào bot")
    assert NOT_READ in said.text and "tin nhắn mới" in said.text


async def test_a_photo_caption_edit_corrects_its_part_and_a_moving_live_location_is_silent(bot):
    lan = bot.user(1004, "Lan")
    r = Reporter(lan)
    await to_story(r)
    lan.mark()
    await lan.send_photo(b"bruise", caption="Vết bầm trên tay")
    await lan.replies(1)
    photo = lan.last_message_id
    (fixed,) = await edit(lan, photo, "Vết bầm trên tay và chân")
    assert CORRECTED in fixed.text
    draft = await draft_of(bot, lan.id)
    assert draft.answers["story"] == "Vết bầm trên tay và chân"
    assert len(draft.answers["media"]) == 1  # the photo is not attached twice
    # A live location sends an edit each time it moves: never answered, never stored.
    lan.mark()
    await lan.send_location(20.25, 105.97)
    await lan.settle(first=5.0)
    located = lan.chat.messages[lan.last_message_id]
    for step in range(3):
        await bot.fake.push_update("edited_message", {
            **located, "location": {"latitude": 20.25 + step / 1000, "longitude": 105.97},
            "edit_date": located["date"] + step + 1})
    lan.mark()
    await lan.send("/help")  # answered after the edits: they were read, and said nothing
    said = await lan.settle(first=5.0)
    assert said and not any("sửa" in m.text for m in said)
    assert (await draft_of(bot, lan.id)).answers["story"] == "Vết bầm trên tay và chân"
