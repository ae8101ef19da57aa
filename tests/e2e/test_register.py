"""The register of children in special circumstances, end to end through the fake Telegram:
a village collaborator adds a child in several messages (a bad date on the way, a stale
button, a command in the middle), is refused another village, is warned of a duplicate; an
officer sees every village and records a child leaving; a child turning 16 leaves on the
birthday with one notice each to the village and the officer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.fakeapi.driver import wait_until
from bot.jobs import run_register_jobs
from domain.register import review_due
from handlers import callback_data as cb
from storage.models import AuditEntry, Delivery, RegisterChild, RegisterEvent, Unit
from tests.e2e.flows import (
    AGENCY_ROLE,
    CODE,
    COLLABORATOR_COMMANDS,
    COLLABORATOR_ROLE,
    OFFICER_ROLE,
    Reporter,
    act,
    join_all,
    shortest_report,
)

DAY = dt.timedelta(days=1)


@pytest.fixture
async def people(bot):
    """An officer and the collaborators of Thôn Đông and Thôn Đoài, joined by invitation."""
    officer, dong, doai, police = await join_all(
        bot, (2001, "Hùng", OFFICER_ROLE), (4001, "Lan", COLLABORATOR_ROLE, "Thôn Đông"),
        (4002, "Minh", COLLABORATOR_ROLE, "Thôn Đoài"), (2101, "Dũng", AGENCY_ROLE, "Công an xã"))
    return {"officer": officer, "dong": dong, "doai": doai, "police": police}




async def add_child(user, name: str, birth: str, *, village: str | None = None,
                    groups=("Khuyết tật",), caregiver: str | None = "Trần Thị Bình"):
    """The quickest walk through "Thêm trẻ" from /tre; returns the last message (the card or
    the duplicate warning)."""
    listing = await act(user, "/tre")
    if village is not None:  # an officer chooses the village first
        listing = await act(user, press=listing, label=village)
    question = await act(user, press=listing, label="Thêm trẻ")
    question = await act(user, name)
    question = await act(user, press=question, label="Nam")
    question = await act(user, birth)
    for group in groups:
        question = await act(user, press=question, label=group)
    question = await act(user, press=question, label="Xong")
    if caregiver is None:
        question = await act(user, press=question, label="Bỏ qua")
    else:
        question = await act(user, caregiver)
        question = await act(user, press=question, label="Ông bà")
    question = await act(user, press=question, label="Thẻ bảo hiểm y tế")  # → chưa có
    return await act(user, press=question, label="Lưu")


async def children(bot) -> list[RegisterChild]:
    async with bot.db.session() as session:
        return list((await session.exec(select(RegisterChild))).all())


async def test_a_collaborator_adds_a_child_in_several_messages(bot, people):
    lan = people["dong"]
    await wait_until(lambda: lan.commands()[-len(COLLABORATOR_COMMANDS):]
                     == COLLABORATOR_COMMANDS)
    menu = await act(lan, "/start")
    listing = await act(lan, press=menu, label="Trẻ em có hoàn cảnh đặc biệt")
    assert "Trẻ em có hoàn cảnh đặc biệt – Thôn Đông" in listing.text
    assert "Chưa có trẻ nào" in listing.text
    question = await act(lan, press=listing, label="Thêm trẻ")
    assert "họ và tên" in question.text
    # A date typed where the name is expected, then the name.
    problem = await act(lan, "3/4/2015")
    assert "không có chữ số" in problem.text and "họ và tên" in problem.text
    question = await act(lan, "  Nguyễn   Văn <An> ")
    assert "Nguyễn Văn &lt;An&gt;: nam hay nữ?" in question.html
    stale = question.button("Nữ")["callback_data"]
    question = await act(lan, press=question, label="Nam")
    assert "ngày sinh" in question.text
    # The sex button pressed again: the question due now is asked, nothing changes.
    again = await act(lan, press=question, data=stale)
    assert "ngày sinh" in again.text
    # Bad dates, each explained, then a good one.
    problem = await act(lan, "31/2/2015")
    assert "Không có ngày này" in problem.text
    problem = await act(lan, "ba tháng tư")
    assert "3/4/2015" in problem.text and "chỉ năm sinh" in problem.text
    problem = await act(lan, "2005")
    assert "16 tuổi" in problem.text
    question = await act(lan, "3/4/2015")
    assert "Điều 10" in question.text
    # Done without a group is refused; two groups, then Done.
    refused = await act(lan, press=question, label="Xong")
    assert "ít nhất một nhóm" in refused.text
    question = await act(lan, press=refused, label="Khuyết tật")
    question = await act(lan, press=question, label="Mồ côi")
    assert sum(b["text"].startswith("✅") for b in question.buttons) == 2
    question = await act(lan, press=question, label="Xong")
    assert "chăm sóc" in question.text
    question = await act(lan, "Trần Thị Bình")
    question = await act(lan, press=question, label="Ông bà")
    question = await act(lan, press=question, label="Thẻ bảo hiểm y tế")
    question = await act(lan, press=question, label="Thẻ bảo hiểm y tế")
    assert "Thẻ bảo hiểm y tế (BHYT): đang làm hồ sơ" in " ".join(
        b["text"] for b in question.buttons)
    save = question.button("Lưu")["callback_data"]
    card = await act(lan, press=question, data=save)
    assert "Đã thêm vào danh sách" in card.text
    assert "Nguyễn Văn <An>" in card.text and "Nam, sinh 03/04/2015 (11 tuổi)" in card.text
    assert "Thôn: Thôn Đông" in card.text and "Trần Thị Bình (ông bà)" in card.text
    assert "Thẻ bảo hiểm y tế (BHYT): đang làm hồ sơ" in card.text
    assert "Mồ côi cả cha và mẹ" in card.text, card.text
    # Saving twice (the button pressed again) adds nothing.
    again = await act(lan, press=card, data=save)
    assert "đã đóng" in again.text
    (child,) = await children(bot)
    assert child.groups == ["orphan", "disability"] and child.birth_date == dt.date(2015, 4, 3)
    # Support updated from the card, recorded in the history with who did it.
    card = await act(lan, press=card, label="BHYT")
    assert "BHYT: đã có" in " ".join(b["text"] for b in card.buttons)
    history = await act(lan, press=card, label="Lịch sử")
    assert "Lan: thêm vào danh sách" in history.text
    assert "Lan: Thẻ bảo hiểm y tế (BHYT): đã có" in history.text
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert {"register_listed", "child_added", "child_viewed", "child_updated",
            "child_history_viewed"} <= set(actions)


async def test_a_command_mid_flow_drops_it_and_a_stale_button_is_answered(bot, people):
    lan = people["dong"]
    listing = await act(lan, "/tre")
    question = await act(lan, press=listing, label="Thêm trẻ")
    question = await act(lan, "Lê Thị Hoa")
    dropped, help_text = await act(lan, "/help", replies=2)
    assert "Đã bỏ việc thêm trẻ vào danh sách" in dropped.text
    # The next free text is not taken as a name for a child.
    await act(lan, "Nguyễn Văn Bình")
    assert await children(bot) == []
    stale = await act(lan, press=question, label="Nữ")
    assert "đã đóng" in stale.text and "/tre" in stale.text
    # A forged answer in the middle of a new walk: treated as an out-of-date button.
    question = await act(lan, press=await act(lan, "/tre"), label="Thêm trẻ")
    question = await act(lan, "Lê Thị Hoa")
    forged = await act(lan, press=question, data="1:tre:a:sex:robot")
    assert "Nút này đã cũ" in forged.text


async def test_another_village_is_refused(bot, people):
    lan, minh = people["dong"], people["doai"]
    card = await add_child(lan, "Phạm Thu Trang", "2016")
    assert "Đã thêm vào danh sách" in card.text
    (child,) = await children(bot)
    async with bot.db.session() as session:
        dong = (await session.exec(select(Unit).where(Unit.name == "Thôn Đông"))).one()
    listing = await act(minh, "/tre")
    assert "Thôn Đoài" in listing.text and "Phạm Thu Trang" not in listing.text
    # Forged presses for Thôn Đông's list and for the child's card.
    refused = await act(minh, press=listing, data=cb.build("tre", "l", dong.id, 0))
    assert "không có quyền" in refused.text
    refused = await act(minh, press=listing, data=cb.build("tre", "c", child.id))
    assert "không có quyền" in refused.text and "Phạm Thu Trang" not in refused.text
    refused = await act(minh, press=listing, data=cb.build("tre", "cs", child.id, 0, "bhyt"))
    assert "không có quyền" in refused.text
    # The police see nothing (no referral), not even the list.
    police = people["police"]
    assert "cộng tác viên thôn và cán bộ" in (await act(police, "/tre")).text
    async with bot.db.session() as session:
        denied = [a for a in (await session.exec(select(AuditEntry))).all()
                  if a.action == "denied"]
    assert len(denied) >= 3


async def test_a_duplicate_is_warned_and_the_existing_record_offered(bot, people):
    lan, officer = people["dong"], people["officer"]
    await add_child(lan, "Nguyễn Văn Đức", "5/6/2014")
    # The officer adds "nguyen van duc" born 2014 in another village: warned.
    warning = await add_child(officer, "NGUYEN VAN DUC", "2014", village="Thôn Trung",
                              caregiver=None)
    assert "có thể đã có trong danh sách của xã" in warning.text
    assert "Thôn Đông" in warning.text
    existing = await act(officer, press=warning, label="Mở hồ sơ 1")
    assert "Nguyễn Văn Đức" in existing.text and "Thôn: Thôn Đông" in existing.text
    assert len(await children(bot)) == 1
    # Another child after all: saved on the second press.
    card = await act(officer, press=warning, label="Vẫn thêm")
    assert "Đã thêm vào danh sách" in card.text and "Thôn: Thôn Trung" in card.text
    assert len(await children(bot)) == 2
    # The collaborator of Thôn Đoài is warned without seeing the other village's record.
    minh = people["doai"]
    warning = await add_child(minh, "Nguyễn Văn Đức", "2014")
    assert "thôn khác: bạn hỏi cán bộ xã" in warning.text
    assert "Mở hồ sơ" not in " ".join(b["text"] for b in warning.buttons)


async def test_the_officer_sees_every_village_and_records_a_move(bot, people):
    lan, officer = people["dong"], people["officer"]
    await add_child(lan, "Đỗ Minh Khoa", "12/12/2012")
    villages = await act(officer, "/tre")
    assert "Danh sách của xã có 1 trẻ" in villages.text
    assert "Thôn Đông (1)" in " ".join(b["text"] for b in villages.buttons)
    listing = await act(officer, press=villages, label="Tất cả các thôn")
    assert "Đỗ Minh Khoa" in listing.text and "Thôn Đông" in listing.text
    card = await act(officer, press=listing, label="Đỗ Minh Khoa")
    reasons = await act(officer, press=card, label="Ra khỏi danh sách")
    assert "đủ 16 tuổi, mình tự ghi nhận" in reasons.text
    deceased = reasons.button("Đã mất")["callback_data"]
    prompt = await act(officer, press=reasons, label="Chuyển đi xã khác")
    assert "xã (và huyện)" in prompt.text
    empty = await act(officer, "   ")
    assert "không có chữ nào nhìn thấy được" in empty.text
    card = await act(officer, "Xã Yên Mạc, huyện Yên Mô")
    assert "Đã ra khỏi danh sách ngày 23/11/2026: chuyển đi xã khác – Xã Yên Mạc" in card.text
    assert "Ra khỏi danh sách" not in " ".join(b["text"] for b in card.buttons)
    # The old reasons message pressed again: nothing more happens.
    again = await act(officer, press=card, data=deceased)
    assert "vừa thay đổi" in again.text
    (child,) = await children(bot)
    assert child.status == "left" and child.leave_reason == "moved_away"
    listing = await act(lan, "/tre")
    assert "Đỗ Minh Khoa" not in listing.text


async def test_a_child_turning_16_leaves_on_the_birthday_once(bot, people):
    lan, officer = people["dong"], people["officer"]
    await add_child(lan, "Vũ Thị Mai", "24/11/2010")
    assert await run_register_jobs(bot.application) == 0  # 15 today
    lan.mark()
    officer.mark()
    bot.clock.advance(DAY)
    assert await run_register_jobs(bot.application) == 1
    told_lan, told_officer = await lan.reply(), await officer.reply()
    for told in (told_lan, told_officer):
        assert "Vũ Thị Mai" in told.text and "đủ 16 tuổi vào ngày 24/11/2026" in told.text
    assert await run_register_jobs(bot.application) == 0  # once
    async with bot.db.session() as session:
        notices = (await session.exec(select(Delivery).where(Delivery.kind == "register"))).all()
        events = (await session.exec(select(RegisterEvent))).all()
    assert len(notices) == 2
    assert [e.kind for e in events if e.kind == "turned_16"] == ["turned_16"]
    (child,) = await children(bot)
    assert child.status == "left" and child.left_on == dt.date(2026, 11, 24)
    card = await act(lan, press=told_lan, label="Mở hồ sơ")
    assert "Đã ra khỏi danh sách ngày 24/11/2026: đủ 16 tuổi" in card.text


async def test_an_officer_moves_a_case_child_into_the_register(bot, people):
    officer = people["officer"]
    citizen = Reporter(bot.user(1001, "Lan"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    await officer.reply()  # the new-report notice
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Nhận xử lý", replies=2)
    card = await act(officer, f"/case {code}")
    question = await act(officer, press=card,
                         label="Thêm vào danh sách trẻ em có hoàn cảnh đặc biệt")
    assert "họ và tên" in question.text  # the report gave no name; the village it gave
    question = await act(officer, "Hoàng Gia Bảo")
    question = await act(officer, press=question, label="Nam")
    question = await act(officer, "2018")
    assert "Điều 10" in question.text  # no village question: the report said Thôn Đông
    question = await act(officer, press=question, label="Tổn hại nặng do bạo lực")
    question = await act(officer, press=question, label="Xong")
    question = await act(officer, press=question, label="Bỏ qua")
    record = await act(officer, press=question, label="Lưu")
    assert "Đã thêm vào danh sách" in record.text and "Thôn: Thôn Đông" in record.text
    assert f"Vụ việc: {code}" in record.text
    case_card = await act(officer, press=record, label="Mở vụ việc")
    assert code in case_card.text
    again = await act(officer, press=case_card, label="Thêm vào danh sách trẻ em")
    assert "đã có trong danh sách" in again.text and "Hoàng Gia Bảo" in again.text
    (child,) = await children(bot)
    assert child.source_case_id is not None and child.birth_date is None
    # The collaborator of that village sees the child, but not the case code.
    card = await act(people["dong"], "/tre")
    card = await act(people["dong"], press=card, label="Hoàng Gia Bảo")
    assert "Vụ việc" not in card.text and code not in card.text


async def test_the_quarterly_review_reaches_the_collaborator_and_no_change_is_one_tap(bot,
                                                                                       people):
    lan, minh = people["dong"], people["doai"]
    await add_child(lan, "Bùi Văn Long", "2016")
    await add_child(lan, "Đinh Thị Na", "2017")
    await add_child(minh, "Tạ Văn Phúc", "2018")  # another village: not in Lan's list
    (first, *_rest) = await children(bot)
    due = review_due(first.reviewed_on)
    assert first.review_due_on == due == dt.date(2027, 2, 23)
    # The day before: nothing. On the day, before 08:00: nothing. At 09:00: the list, once.
    lan.mark()
    bot.clock.set(dt.datetime.combine(due - DAY, dt.time(2, 0), tzinfo=dt.UTC))
    await run_register_jobs(bot.application)
    bot.clock.set(dt.datetime.combine(due, dt.time(0, 30), tzinfo=dt.UTC))  # 07:30 local
    await run_register_jobs(bot.application)
    assert lan.unread() == []
    bot.clock.set(dt.datetime.combine(due, dt.time(2, 0), tzinfo=dt.UTC))
    await run_register_jobs(bot.application)
    await run_register_jobs(bot.application)
    review = await lan.reply()
    assert "Rà soát định kỳ – Thôn Đông" in review.text and "2 trẻ đến hạn" in review.text
    assert "Bùi Văn Long" in review.text and "Tạ Văn Phúc" not in review.text
    stale = review.button("1. Không thay đổi")["callback_data"]
    after = await act(lan, press=review, label="1. Không thay đổi")
    assert "Đã ghi nhận: Bùi Văn Long, không thay đổi" in after.text
    assert "1 trẻ đến hạn" in after.text and "Đinh Thị Na" in after.text
    again = await act(lan, press=after, data=stale)
    assert "vừa được rà soát" in again.text
    done = await act(lan, press=again, label="1. Không thay đổi")
    assert "Tất cả trẻ của thôn Đông đến hạn rà soát đã được rà soát" in done.text
    await lan.settle()
    async with bot.db.session() as session:
        events = (await session.exec(select(RegisterEvent))).all()
        lists = (await session.exec(select(Delivery).where(Delivery.kind == "review"))).all()
    assert sum(e.kind == "reviewed" for e in events) == 2
    assert sorted(d.chat_id for d in lists) == [4001, 4002]  # one list per village, once
    (long_,) = [c for c in await children(bot) if c.full_name == "Bùi Văn Long"]
    assert long_.reviewed_on == due and long_.review_due_on > due
    # The record says when the next review is due.
    card = await act(lan, "/tre")
    card = await act(lan, press=card, label="Bùi Văn Long")
    assert "Lần rà soát tiếp theo" in card.text


async def test_an_officer_orders_an_ad_hoc_review_of_one_village(bot, people):
    officer, minh, lan = people["officer"], people["doai"], people["dong"]
    await add_child(minh, "Tạ Văn Phúc", "2018")
    villages = await act(officer, "/tre")
    listing = await act(officer, press=villages, label="Thôn Đoài")
    minh.mark()
    lan.mark()
    sent = await act(officer, press=listing, label="Rà soát đột xuất")
    assert "đã được gửi tới 1 cộng tác viên của thôn Đoài" in sent.text
    review = await minh.reply()
    assert "Rà soát định kỳ – Thôn Đoài" in review.text and "Tạ Văn Phúc" in review.text
    done = await act(minh, press=review, label="1. Không thay đổi")
    assert "đã được rà soát" in done.text
    await lan.settle()
    assert lan.unread() == []
    # A collaborator cannot order one (a forged press).
    async with bot.db.session() as session:
        doai = (await session.exec(select(Unit).where(Unit.name == "Thôn Đoài"))).one()
    refused = await act(minh, press=done, data=cb.build("tre", "or", doai.id))
    assert "không có quyền" in refused.text


async def test_lists_narrowed_to_children_without_bhyt_or_birth_papers(bot, people):
    lan, officer = people["dong"], people["officer"]
    card = await add_child(lan, "Mai Văn Tâm", "2015")
    await add_child(lan, "Lý Thị Yến", "2016")
    card = await act(lan, press=card, label="BHYT")  # chưa có → đang làm hồ sơ
    card = await act(lan, press=card, label="BHYT")  # → đã có
    assert "BHYT: đã có" in " ".join(b["text"] for b in card.buttons)
    listing = await act(lan, "/tre")
    narrowed = await act(lan, press=listing, label="Chưa có BHYT")
    assert "Chưa có BHYT" in narrowed.text and "(1)" in narrowed.text
    assert "Lý Thị Yến" in narrowed.text and "Mai Văn Tâm" not in narrowed.text
    # Nothing recorded about birth papers counts as missing: nobody is left out.
    narrowed = await act(lan, press=narrowed, label="Danh sách")
    narrowed = await act(lan, press=narrowed, label="Chưa có giấy khai sinh")
    assert "(2)" in narrowed.text
    villages = await act(officer, "/tre")
    late = await act(officer, press=villages, label="Quá hạn rà soát")
    assert "Không có trẻ nào trong danh sách này" in late.text
