"""Every word lands where the person meant it: specific answers to wrong codes, the admin's
menu, an inviter told of a used invitation, lists that open on what needs action."""

from __future__ import annotations

import pytest

from tests.e2e.flows import create_invite, join, joined


@pytest.fixture
async def admin(bot):
    """Quang, an administrator of the example commune, joined through an invitation."""
    return await joined(bot, 3001, "Quang", "Quản trị viên của xã")


async def ask(user, text: str) -> str:
    user.mark()
    await user.send(text)
    return (await user.reply()).text


async def test_wrong_codes_get_a_specific_answer(bot, admin):
    generic = "không tìm thấy nội dung này"
    answer = await ask(admin, "/case ZZZZ-ZZZZ")
    assert "Không có vụ việc nào mang mã ZZZZ-ZZZZ" in answer and generic not in answer
    answer = await ask(admin, "/case hello")
    assert "“hello” không phải là mã vụ việc" in answer and "ABCD-EFGH" in answer
    answer = await ask(admin, "/audit XXXX-YYYY")
    assert "Không có vụ việc nào mang mã XXXX-YYYY" in answer and generic not in answer
    answer = await ask(admin, "/event foo 30/2")
    assert "Không có sự kiện nào mang mã “foo”" in answer and "/calendar" in answer
    assert "“30/2” cũng không phải là một ngày" in answer
    answer = await ask(admin, "/event foo 20/11")
    assert "mã “foo”" in answer and "không phải là một ngày" not in answer
    answer = await ask(admin, "/calendar abc")
    assert "“abc” không phải là một năm" in answer and "/calendar 2027" in answer
    answer = await ask(admin, "/calendar 1800")
    assert "từ 2000 đến 2100" in answer and "năm 1800 nằm ngoài" in answer
    assert "Lịch năm 2027" in await ask(admin, "/calendar 2027")


async def test_a_broadcast_with_nobody_to_receive_it_says_so_and_explains_subscribe(bot, admin):
    answer = await ask(admin, "/broadcast")
    assert "chưa có nhóm hay người nào của xã đăng ký" in answer and "/subscribe" in answer
    assert "Hãy nhập nội dung thông báo" not in answer
    admin.mark()
    await admin.send("/subscribe")  # the administrator subscribes themselves
    await admin.reply()
    answer = await ask(admin, "/broadcast")
    assert "Hãy nhập nội dung thông báo" in answer
    admin.mark()
    await admin.send("Họp giao ban lúc 14h")
    audience = await admin.reply()
    admin.mark()
    await admin.press(audience, "Công an")  # no police group subscribed
    nobody, again = await admin.replies(2)
    assert "Chưa có nơi nào nhận thông báo dành cho “Công an”" in nobody.text
    assert "/subscribe" in nobody.text and "Gửi tới ai" in again.text
    admin.mark()
    await admin.press(again, "Tất cả nơi đã đăng ký")
    _preview, confirm = await admin.replies(2)
    assert "1 cuộc trò chuyện" in confirm.text


async def test_cases_opens_on_what_needs_action_and_the_audit_log_pages(bot, admin, officer):
    from tests.e2e.flows import CODE, Reporter, shortest_report

    thanks = await shortest_report(Reporter(bot.user(1001, "Lan")))
    code = CODE.search(thanks.text).group(1)
    await officer.settle()
    listing = await ask(officer, "/cases")  # Hùng handles nothing yet
    assert "Bạn chưa phụ trách vụ việc nào" in listing and "Chưa ai nhận (1)" in listing
    assert code in listing
    for _ in range(5):  # opening a card again and again…
        await ask(officer, f"/case {code}")
    log = await ask(admin, f"/audit {code}")
    assert "Hùng · xem vụ việc (5 lần, 09:00–09:00)" in log  # …is one line
    assert log.count("xem vụ việc") == 1
    for _ in range(15):  # views by two people in turn are not merged: the log pages
        await ask(officer, f"/case {code}")
        await ask(admin, f"/case {code}")
    admin.mark()
    await admin.send(f"/audit {code}")
    first = await admin.reply()
    assert "Trang 1/2" in first.text and "gửi tin báo" not in first.text
    admin.mark()
    await admin.press(first, "Trang sau")
    second = await admin.reply()
    assert second.message_id == first.message_id and "Trang 2/2" in second.text
    assert "người báo tin · gửi tin báo" in second.text
    assert "không có quyền" in await ask(officer, f"/audit {code}")


async def test_the_admin_menu_has_figures_and_broadcast_and_the_inviter_is_told(bot, admin):
    from tests.e2e.flows import open_menu

    menu = await open_menu(admin)
    labels = [b["text"] for b in menu.buttons]
    assert "📊 Số liệu báo cáo" in labels and "📨 Gửi thông báo" in labels
    admin.mark()
    await admin.press(menu, "Gửi thông báo")
    assert "chưa có nhóm hay người nào của xã đăng ký" in (await admin.reply()).text
    admin.mark()
    await admin.press(menu, "Số liệu báo cáo")
    messages = [await admin.reply()]
    while not any(b["text"] == "📥 Tải tệp XLSX và CSV" for b in messages[-1].buttons):
        messages.append(await admin.reply(timeout=30))  # the figures, then the chart
    assert "Số liệu cho" in messages[0].text
    # Quang invites an officer; when she joins, Quang is told.
    payload = await create_invite(admin, "Người làm công tác bảo vệ trẻ em")
    admin.mark()
    await join(bot.user(2005, "Thảo"), payload)
    told = await admin.reply()
    assert told.text == ("✅ Thảo đã dùng lời mời của bạn và tham gia với vai trò người làm "
                         "công tác bảo vệ trẻ em của xã Minh Tân.")
    citizen_menu = await open_menu(bot.user(1001, "Lan"))
    assert not any("Số liệu" in b["text"] or "Gửi thông báo" in b["text"]
                   for b in citizen_menu.buttons)
