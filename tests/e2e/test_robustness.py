"""Odd and hostile input gets a clear Vietnamese answer; stale and forged buttons are refused;
a restart keeps everything; a crash inside a handler apologises without losing anything."""

from __future__ import annotations

from sqlmodel import select
from telegram.ext import CommandHandler

from bot.app import stop_application
from bot.fakeapi.driver import wait_until
from handlers import callback_data as cb
from storage.models import AuditEntry, Member
from tests.conftest import ADMIN_ID, start_bot
from tests.e2e.flows import create_invite, join, open_menu


async def test_hostile_and_odd_messages_get_a_clear_answer(bot):
    citizen = bot.user(1001, "<b>Lan</b> & co")
    menu = await open_menu(citizen)
    assert "Chào <b>Lan</b> & co!" in menu.text  # shown literally, escaped in HTML
    for text in ("<", "<b>", "a & b", "&nbsp;", "😀😀😀", "x" * 10_000, "/unknown_command"):
        citizen.mark()
        await citizen.send(text)
        answer = await citizen.reply()
        assert "Xin lỗi" in answer.text and answer.buttons, text
    citizen.mark()
    await citizen.send_sticker()
    assert "chưa hiểu" in (await citizen.reply()).text
    citizen.mark()
    await citizen.send_document(b"%PDF-1.4", "giay-to.pdf")
    assert "chưa hiểu" in (await citizen.reply()).text
    # The conftest fixture fails the test if any call above broke a Telegram rule.


async def test_stale_button_gets_current_menu(bot):
    citizen = bot.user(1001, "Lan")
    menu = await open_menu(citizen)
    citizen.mark()
    await citizen.press_data(menu, "0:old:format")  # a button from an older version
    answer = await citizen.reply()
    assert "Nút này đã cũ" in answer.text and answer.buttons
    assert bot.fake.callback_queries and all(q["answered"] for q in bot.fake.callback_queries.values())


async def test_forged_callback_for_admin_action_is_denied_and_audited(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    officer = bot.user(2001, "Hùng")
    await join(officer, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    colleague = bot.user(2002, "Tuấn")
    await join(colleague, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    async with bot.db.session() as session:
        target = (await session.exec(select(Member).where(Member.telegram_user_id == 2002))).one()
    menu = await open_menu(officer)
    officer.mark()
    await officer.press_data(menu, cb.build("mem", "ry", target.id))  # "revoke" forged
    assert "không có quyền" in (await officer.reply()).text
    async with bot.db.session() as session:
        still = await session.get(Member, target.id)
        denied = (await session.exec(select(AuditEntry).where(AuditEntry.action == "denied"))).all()
    assert still.active
    assert [(d.actor_user_id, d.details["attempted"]) for d in denied] == [(2001, "revoke_member")]


async def test_other_communes_admin_cannot_touch_our_members(bot, db, clock):
    """Two communes: an administrator of one cannot revoke a member of the other."""
    from domain.setup_file import load_setup_file
    from storage.setup_import import import_setup
    from tests.conftest import EXAMPLE_SETUP

    other = load_setup_file(EXAMPLE_SETUP).model_copy(deep=True)
    other = other.model_validate({**other.model_dump(), "commune": {
        **other.commune.model_dump(), "code": "xuan-truong", "name": "Xã Xuân Trường"}})
    async with db.session() as session:
        await import_setup(other, session=session, now=clock.now())
    root = bot.user(ADMIN_ID, "Mai")
    # The install admin sees two communes now and picks one per invitation.
    root.mark()
    await root.send("/invite")
    pick = await root.reply()
    assert {b["text"] for b in pick.buttons} >= {"Xã Minh Tân", "Xã Xuân Trường"}
    await root.press(pick, "Xã Xuân Trường")
    roles = await root.reply()
    await root.press(roles, "Quản trị viên của xã")
    link = (await root.reply()).text.split("start=")[1].split()[0]
    other_admin = bot.user(3002, "Quang")
    await join(other_admin, link)
    root.mark()
    await root.send("/invite")
    await root.press(await root.reply(), "Xã Minh Tân")
    await root.press(await root.reply(), "Người làm công tác bảo vệ trẻ em")
    ours = bot.user(2001, "Hùng")
    await join(ours, (await root.reply()).text.split("start=")[1].split()[0])

    other_admin.mark()
    await other_admin.send("/members")
    listing = await other_admin.reply()
    assert "Hùng" not in listing.text and "Quang" in listing.text
    async with bot.db.session() as session:
        hung = (await session.exec(select(Member).where(Member.telegram_user_id == 2001))).one()
    other_admin.mark()
    await other_admin.press_data(listing, cb.build("mem", "ry", hung.id))
    assert "không có quyền" in (await other_admin.reply()).text
    async with bot.db.session() as session:
        assert (await session.get(Member, hung.id)).active


async def test_restart_keeps_members(fake, db, clock, commune):
    first = await start_bot(fake, db, clock)
    admin = first.user(ADMIN_ID, "Mai")
    officer = first.user(2001, "Hùng")
    await join(officer, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    await stop_application(first.application)

    second = await start_bot(fake, db, clock)
    try:
        menu = await open_menu(officer)
        assert "Bạn là người làm công tác bảo vệ trẻ em của Xã Minh Tân" in menu.text
    finally:
        await stop_application(second.application)
    assert fake.violations == []


async def test_crash_in_a_handler_apologises_and_keeps_going(bot):
    async def boom(update, context):  # noqa: ANN001
        raise RuntimeError("simulated failure with secret words")

    bot.application.add_handler(CommandHandler("boom", boom), group=-1)
    citizen = bot.user(1001, "Lan")
    citizen.mark()
    await citizen.send("/boom")
    answers = [m.text for m in await citizen.replies(2)]  # the apology, and group 0 still runs
    assert any("hệ thống vừa gặp sự cố" in t and "không bị mất" in t for t in answers), answers
    assert not any("secret words" in t for t in answers)
    menu = await open_menu(citizen)
    assert "Chào Lan" in menu.text


async def test_blocked_user_does_not_break_revocation(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    officer = bot.user(2001, "Hùng")
    await join(officer, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    officer.block()
    admin.mark()
    await admin.send("/members")
    await admin.press(await admin.reply(), "Thu hồi quyền: Hùng")
    await admin.press(await admin.reply(), "Có, thu hồi quyền")
    done = await admin.replies(2)
    assert "Đã thu hồi" in done[0].text
    await wait_until(lambda: bot.fake.forbidden)  # the notice to the blocked officer
    assert [c.method for c in bot.fake.forbidden] == ["sendMessage"]
