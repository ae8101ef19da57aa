# ruff: noqa: F811  (the `people` fixture comes from test_approval)
"""Taking a request back from the commune leader, and what the leader sees of requests,
as people really use them: the officer withdraws a plan (and presses the confirmation
twice), the leader then presses the old request's Approve or types a comment begun before;
a closing proposal withdrawn and proposed again; someone else trying to withdraw; two
leaders pressing Approve at once; the leaders' morning digest of requests waiting."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.jobs import run_case_jobs
from storage.models import AuditEntry, Delivery
from tests.e2e.flows import create_invite, join
from tests.e2e.test_approval import (
    LEADER_LABEL,
    act,
    case_in_planning,
    case_row,
    people,  # noqa: F401
    submit_plan,
)
from tests.e2e.test_approval import (
    event_kinds as _kinds,
)

PLAN = "Chị Hà (Hội Phụ nữ) thăm gia đình thứ Hai hằng tuần."
WITHDRAW = "Rút đề nghị phê duyệt"


async def test_officer_withdraws_a_plan_and_the_leader_presses_the_old_request(bot, people):
    officer, leader, root = people["officer"], people["leader"], people["root"]
    code = await case_in_planning(bot, people)
    before = (await case_row(bot, code)).due_at  # the plan step's own deadline
    submitted, notice = await submit_plan(officer, leader, code, PLAN)
    assert (await case_row(bot, code)).due_at != before  # the leader's deadline now
    # Only the officer who submitted it sees the button; the leader does not.
    assert f"↩️ {WITHDRAW}" in [b["text"] for b in submitted.buttons]
    ask_data = submitted.button(WITHDRAW)["callback_data"]
    leader_card = await act(leader, f"/case {code}")
    assert not any(WITHDRAW in b["text"] for b in leader_card.buttons)
    # Another officer of the commune (not the submitter) has no such button; forging the
    # press is refused, nothing changes.
    other = bot.user(2002, "Tuấn")
    await join(other, await create_invite(root, "Người làm công tác bảo vệ trẻ em"))
    await other.settle()
    await root.settle()
    other_card = await act(other, f"/case {code}")
    assert not any(WITHDRAW in b["text"] for b in other_card.buttons)
    for data in (ask_data, ask_data.replace(":wd:", ":wdo:")):
        forged = await act(other, press=other_card, data=data)
        assert "Chỉ người đã trình đề nghị này mới rút được" in forged.text, forged.text
    assert (await case_row(bot, code)).approval == "plan"
    # The officer asks, wanders off to /cases, then comes back and confirms.
    confirm = await act(officer, press=submitted, label=WITHDRAW)
    assert "Rút đề nghị phê duyệt kế hoạch hỗ trợ của vụ việc" in confirm.text
    assert "Lập kế hoạch hỗ trợ" in confirm.text
    yes = confirm.button("Có, rút đề nghị")["callback_data"]
    await act(officer, "/cases")
    leader.mark()
    officer.mark()
    await officer.press(confirm, "Có, rút đề nghị")
    done = await officer.reply()
    assert "Đã rút đề nghị phê duyệt kế hoạch hỗ trợ" in done.text
    assert "Tình trạng: Lập kế hoạch hỗ trợ" in done.text and "⏳" not in done.text
    assert "📤 Trình kế hoạch để phê duyệt" in [b["text"] for b in done.buttons]
    told = await leader.reply()
    assert f"Hùng đã rút đề nghị phê duyệt kế hoạch hỗ trợ của vụ việc {code}" in told.text
    assert PLAN not in told.text
    case = await case_row(bot, code)
    assert (case.status, case.approval, case.due_at) == ("planning", None, before)
    # The confirmation pressed twice: said so, nothing more (the leader hears nothing).
    again = await act(officer, press=done, data=yes)
    assert "Bạn đã rút đề nghị phê duyệt kế hoạch hỗ trợ" in again.text and "rồi" in again.text
    # The old card's "Withdraw": nothing left to withdraw.
    old = await act(officer, press=done, data=ask_data)
    assert "Đề nghị này đã được rút rồi" in old.text
    assert (await _kinds(bot, code)).count("approval_back") == 1
    # The leader presses the old request's Approve: the request keeps its plan, loses its
    # decision buttons, and a new message says it was withdrawn.
    _kept, late = await act(leader, press=notice, label="Phê duyệt", replies=2)
    assert "không còn chờ quyết định" in late.text
    assert "Hùng đã rút đề nghị này" in late.text and "Không có gì thay đổi" in late.text
    kept = leader.message(notice.message_id)
    assert PLAN in kept.text and [b["text"] for b in kept.buttons] == ["📁 Mở vụ việc"]
    opened = await act(leader, press=kept, label="Mở vụ việc")  # a new message: request stays
    assert opened.message_id != notice.message_id and "Tình trạng: Lập kế hoạch" in opened.text
    assert PLAN in leader.message(notice.message_id).text
    case = await case_row(bot, code)
    assert (case.status, case.approval) == ("planning", None)
    kinds = await _kinds(bot, code)
    assert "approved" not in kinds and kinds[-1] == "approval_back"
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert actions.count("case_approval_withdrawn") == 1
    history = await act(officer, press=done, label="Lịch sử")
    assert "cán bộ rút đề nghị phê duyệt: kế hoạch hỗ trợ" in history.text
    # The approval step's alerts stop: on Wednesday 17:00 (the leader's due-soon time) the
    # leader gets nothing.
    leader.mark()
    bot.clock.set(dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC))
    await run_case_jobs(bot.application)
    assert leader.unread() == []
    await officer.settle()
    # Submitted again: a fresh request, which the leader approves.
    _card, notice = await submit_plan(officer, leader, code, PLAN + " Thêm lịch cụ thể.")
    approved = await act(leader, press=notice, label="Phê duyệt")
    assert "Đã phê duyệt kế hoạch hỗ trợ" in approved.text


async def test_withdrawn_while_the_leader_types_a_comment(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    submitted, notice = await submit_plan(officer, leader, code, PLAN)
    prompt = await act(leader, press=notice, label="Trả lại kèm ý kiến")
    assert "gõ ý kiến" in prompt.text
    confirm = await act(officer, press=submitted, label=WITHDRAW)
    leader.mark()
    await act(officer, press=confirm, label="Có, rút đề nghị")
    await leader.reply()  # told it was withdrawn
    officer.mark()
    late = await act(leader, "Cần ghi rõ ai phụ trách.")
    assert "không còn chờ quyết định" in late.text and "rút" in late.text, late.text
    assert "Đã trả lại" not in late.text
    assert "returned" not in await _kinds(bot, code)
    # The comment went nowhere: the officer hears nothing, the next message is no comment.
    assert not [m for m in await officer.settle() if "trả lại" in m.text]
    follow = await act(leader, "và thêm lịch cụ thể")
    assert "Đã trả lại" not in follow.text
    # Mid-way through a return, a command drops the comment; the old button then says so.
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    await act(leader, press=notice, label="Trả lại kèm ý kiến")
    await leader.send("/cases")
    await leader.settle(first=10)
    after = await act(leader, "Cần thêm lịch.")
    assert "Đã trả lại" not in after.text
    case = await case_row(bot, code)
    assert case.approval == "plan" and "returned" not in await _kinds(bot, code)
    # The request's buttons still work after the command.
    approved = await act(leader, press=notice, label="Phê duyệt")
    assert "Đã phê duyệt kế hoạch hỗ trợ" in approved.text


async def test_a_closing_proposal_withdrawn_and_proposed_again(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    officer.mark()
    await act(leader, press=notice, label="Phê duyệt")
    await officer.reply()  # told of the approval
    card = await act(officer, f"/case {code}")
    confirm = await act(officer, press=card, label="Theo dõi, đánh giá")
    card = await act(officer, press=confirm, label="Có, chuyển")
    reviewing_due = (await case_row(bot, code)).due_at
    reasons = await act(officer, press=card, label="Đề xuất kết thúc")
    leader.mark()
    submitted = await act(officer, press=reasons, label="Trẻ đã an toàn")
    closing = await leader.reply()
    assert "Chờ phê duyệt: kết thúc vụ việc" in closing.text
    confirm = await act(officer, press=submitted, label=WITHDRAW)
    leader.mark()
    officer.mark()
    # A double tap: two presses of "Yes" at once withdraw it once, and the leader hears once.
    yes = confirm.button("Có, rút đề nghị")["callback_data"]
    await asyncio.gather(officer.press_data(confirm, yes), officer.press_data(confirm, yes))
    await officer.settle(first=10)
    back = officer.message(confirm.message_id)  # "Đã rút …" or, pressed second, "… rồi"
    assert "rút đề nghị phê duyệt kết thúc vụ việc" in back.text, back.text
    assert "Tình trạng: Theo dõi, đánh giá" in back.text
    told = [m for m in await leader.settle(first=10) if "đã rút đề nghị" in m.text]
    assert len(told) == 1 and "kết thúc vụ việc" in told[0].text
    assert (await _kinds(bot, code)).count("approval_back") == 1
    case = await case_row(bot, code)
    assert (case.status, case.approval, case.due_at) == ("reviewing", None, reviewing_due)
    # The leader's Return on the withdrawn proposal: said so, no comment asked for.
    _kept, late = await act(leader, press=closing, label="Trả lại", replies=2)
    assert "rút" in late.text and "gõ ý kiến" not in late.text
    # Proposed again, approved; the reporter is told it is closed.
    reasons = await act(officer, press=back, label="Đề xuất kết thúc")
    leader.mark()
    await act(officer, press=reasons, label="Trẻ đã an toàn")
    closing = await leader.reply()
    closed = await act(leader, press=closing, label="Phê duyệt", replies=1)
    assert "Đã kết thúc" in closed.text
    assert (await case_row(bot, code)).status == "closed"


async def test_two_leaders_press_approve_at_once(bot, people):
    officer, leader, root = people["officer"], people["leader"], people["root"]
    deputy = bot.user(2202, "Quang")  # a Phó Chủ tịch, by delegation
    await join(deputy, await create_invite(root, LEADER_LABEL))
    await deputy.settle()
    await root.settle()
    code = await case_in_planning(bot, people)
    deputy.mark()
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    deputy_notice = await deputy.reply()
    assert "Chờ phê duyệt: kế hoạch hỗ trợ" in deputy_notice.text
    leader.mark()
    deputy.mark()
    await asyncio.gather(leader.press(notice, "Phê duyệt"),
                         deputy.press(deputy_notice, "Phê duyệt"))
    said = [m.text for m in await leader.settle(first=10) + await deputy.settle(first=10)]
    assert sum("Đã phê duyệt kế hoạch hỗ trợ" in s for s in said) == 1, said
    assert sum("không còn chờ quyết định" in s and "phê duyệt lúc" in s for s in said) == 1, said
    assert (await _kinds(bot, code)).count("approved") == 1
    assert (await case_row(bot, code)).status == "supporting"
    # Both requests keep their plan.
    assert PLAN in leader.message(notice.message_id).text
    assert PLAN in deputy.message(deputy_notice.message_id).text


async def test_leaders_morning_digest_lists_requests_waiting(bot, people):
    officer, leader = people["officer"], people["leader"]
    first = await case_in_planning(bot, people)
    await submit_plan(officer, leader, first, PLAN)  # Mon 23/11: decide by Thu 26/11 17:00
    bot.clock.set(dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC))  # Thu 10:00
    second = await case_in_planning(bot, people, user_id=1002)
    await submit_plan(officer, leader, second, "Kế hoạch thứ hai.")
    leader.mark()
    # Friday 27/11 07:30: one digest to the leader, oldest first, the first overdue.
    bot.clock.set(dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.UTC))
    await run_case_jobs(bot.application)
    # (The overdue alert of the first request comes in the same run.)
    digest = next(m for m in await leader.settle(first=10) if "Chào buổi sáng" in m.text)
    assert "Chào buổi sáng, Thảo" in digest.text
    assert "Chờ bạn phê duyệt (2) · 1 quá hạn" in digest.text, digest.text
    lines = digest.text.splitlines()
    one = next(x for x in lines if first in x)
    two = next(x for x in lines if second in x)
    assert lines.index(one) < lines.index(two)
    assert "kế hoạch hỗ trợ · đã chờ 3 ngày" in one and "quá hạn" in one, one
    assert "đã chờ" in two and "hạn quyết định" in two, two
    assert PLAN not in digest.text  # a list, not the plans
    assert [b["text"] for b in digest.buttons] == [f"📁 {first}", f"📁 {second}"]
    # Its button opens the case as a new message: the digest stays.
    card = await act(leader, press=digest, label=second)
    assert card.message_id != digest.message_id and "⏳ Chờ lãnh đạo UBND xã" in card.text
    assert "Chờ bạn phê duyệt (2)" in leader.message(digest.message_id).text
    # Once a day.
    leader.mark()
    bot.clock.advance(dt.timedelta(minutes=5))
    await run_case_jobs(bot.application)
    assert leader.unread() == []
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.chat_id == leader.id,
                                                          Delivery.kind == "digest"))).all()
    assert len(rows) == 1
    # Both decided: Monday's run has nothing for the leader.
    for code in (first, second):
        card = await act(leader, f"/case {code}")
        await act(leader, press=card, label="Phê duyệt")
    leader.mark()
    bot.clock.set(dt.datetime(2026, 11, 30, 0, 30, tzinfo=dt.UTC))
    await run_case_jobs(bot.application)
    assert not [m for m in await leader.settle() if "Chào buổi sáng" in m.text]
