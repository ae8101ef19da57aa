# ruff: noqa: F811  (the `people` fixture comes from test_approval)
"""The commune leader's approval as people really use it: Approve pressed twice at once,
Approve after the officer went to emergency (the request withdrawn), a return with an empty
comment or one of 5.000 characters (Telegram delivers it in two pieces), a revoked leader
pressing an old request, the plan itself too long."""

from __future__ import annotations

from tests.e2e.flows import answer_skipping_notices
from tests.e2e.test_approval import (
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


async def test_approve_pressed_twice_at_once(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    data = notice.button("Phê duyệt")["callback_data"]
    leader.mark()
    await leader.press_data(notice, data)
    await leader.press_data(notice, data)
    said = [m.text for m in await leader.replies(2)]
    await leader.settle()
    assert sum("Đã phê duyệt kế hoạch hỗ trợ" in s for s in said) == 1, said
    assert (await _kinds(bot, code)).count("approved") == 1
    assert (await case_row(bot, code)).status == "supporting"


async def test_approve_after_the_officer_went_to_emergency(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    card, notice = await submit_plan(officer, leader, code, PLAN)
    confirm = await act(officer, press=card, label="Can thiệp khẩn cấp")
    moved = await act(officer, press=confirm, label="Có")
    assert "Can thiệp khẩn cấp" in moved.text
    assert "approval_pulled" in await _kinds(bot, code)
    _kept, late = await act(leader, press=notice, label="Phê duyệt", replies=2)
    assert "không còn chờ quyết định" in late.text, late.text
    assert "chuyển sang can thiệp khẩn cấp" in late.text, late.text
    # The request stays on screen with its plan; no Approve/Return left to press.
    kept = leader.message(notice.message_id)
    assert PLAN in kept.text and "Chờ phê duyệt" in kept.text
    labels = [b["text"] for b in kept.buttons]
    assert not any("Phê duyệt" in x or "Trả lại" in x for x in labels), labels
    assert (await case_row(bot, code)).status == "emergency"
    assert "approved" not in await _kinds(bot, code)


async def test_return_with_an_empty_then_a_very_long_comment(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    prompt = await act(leader, press=notice, label="Trả lại kèm ý kiến")
    assert "gõ ý kiến" in prompt.text
    empty = await act(leader, "   \u200b ")
    assert "không có chữ" in empty.text, empty.text
    # 5.000 characters: Telegram delivers 4.096 + 904. Neither piece is the comment.
    comment = ("Cần ghi rõ ai phụ trách, lịch thăm và kinh phí. " * 110)[:5000]
    first = await act(leader, comment[:4096])
    assert "quá dài" in first.text, first.text
    second = await act(leader, comment[4096:])
    assert "Đã trả lại" not in second.text, second.text
    case = await case_row(bot, code)
    assert case.approval == "plan" and "returned" not in await _kinds(bot, code)
    officer.mark()
    done = await act(leader, "Cần ghi rõ ai phụ trách. 🙏 <b>gấp</b>")
    assert "Đã trả lại kế hoạch hỗ trợ" in done.text
    told = await officer.reply()
    assert "Cần ghi rõ ai phụ trách. 🙏 <b>gấp</b>" in told.text  # as typed, not as markup


async def test_a_plan_of_five_thousand_characters(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Trình kế hoạch")
    plan = ("Thăm gia đình hằng tuần, tư vấn tâm lý, hỗ trợ học phí. " * 100)[:5000]
    leader.mark()
    first = await act(officer, plan[:4096])
    second = await act(officer, plan[4096:])
    said = first.text + second.text
    assert "Đã trình" not in said, said
    assert "tối đa 3.000 ký tự" in first.text, first.text
    assert (await case_row(bot, code)).approval is None
    assert not [m for m in await leader.settle() if "Chờ phê duyệt" in m.text]


async def test_a_revoked_leader_presses_an_old_request(bot, people):
    officer, leader, root = people["officer"], people["leader"], people["root"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code, PLAN)
    root.mark()
    await root.send("/members")
    await root.press(await answer_skipping_notices(root), "Thu hồi quyền: Thảo")
    await root.press(await root.reply(), "Có, thu hồi quyền")
    await root.settle()
    await leader.settle()
    for label in ("Phê duyệt", "Trả lại kèm ý kiến", "Mở vụ việc"):
        refused = await act(leader, press=notice, data=notice.button(label)["callback_data"])
        assert "vai trò của bạn đã thay đổi" in refused.text, refused.text
        assert PLAN not in refused.text
    case = await case_row(bot, code)
    assert case.approval == "plan" and case.status == "planning"

