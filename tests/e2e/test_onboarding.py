"""Administrators invite people; invitations are single-use and expire; menus follow roles."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.fakeapi.driver import wait_until
from storage.models import AuditEntry, Delivery, Member
from tests.conftest import ADMIN_ID
from tests.e2e.flows import (
    CITIZEN_COMMANDS,
    OFFICER_COMMANDS,
    answer_skipping_notices,
    create_invite,
    join,
    open_menu,
)


async def test_citizen_sees_hotlines_and_no_admin_buttons(bot):
    citizen = bot.user(1001, "Lan")
    menu = await open_menu(citizen)
    assert "Chào Lan" in menu.text
    assert "111" in menu.text and "113" in menu.text and "115" in menu.text
    assert "0229 3 800 000" in menu.text  # the commune's on-duty phone from the set-up file
    labels = [b["text"] for b in menu.buttons]
    assert not any("Mời thành viên" in label for label in labels)
    assert citizen.commands() == CITIZEN_COMMANDS


async def test_admin_invites_officer_who_joins_with_role_menu(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    menu = await open_menu(admin)
    assert "quản trị viên" in menu.text
    assert any("Mời thành viên" in b["text"] for b in menu.buttons)

    payload = await create_invite(admin, "Người làm công tác bảo vệ trẻ em")
    officer = bot.user(2001, "Hùng", last_name="Nguyễn")
    welcome, officer_menu = await join(officer, payload)
    assert "Chào mừng bạn" in welcome.text and "người làm công tác bảo vệ trẻ em" in welcome.text
    assert "của xã Minh Tân" in welcome.text  # lower case inside a sentence
    assert "Bạn là người làm công tác bảo vệ trẻ em của xã Minh Tân" in officer_menu.text
    # The menu is set right after the join's commit: wait for it rather than a fixed time.
    await wait_until(lambda: officer.commands() == CITIZEN_COMMANDS + OFFICER_COMMANDS + ["stats"])

    # The same link a second time, by someone else: refused, nobody else joins.
    intruder = bot.user(2002, "Tuấn")
    intruder.mark()
    await intruder.start(payload)
    refused = await intruder.reply()
    assert "đã được sử dụng" in refused.text
    async with bot.db.session() as session:
        members = (await session.exec(select(Member))).all()
        assert [m.telegram_user_id for m in members] == [2001]
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert "invite_created" in actions and "member_joined" in actions


async def test_agency_member_and_collaborator_invites(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    police_link = await create_invite(admin, "Thành viên cơ quan", "Công an xã")
    village_link = await create_invite(admin, "Cộng tác viên bảo vệ trẻ em (thôn)", "Thôn Đông")
    police = bot.user(2101, "Dũng")
    welcome, _menu = await join(police, police_link)
    assert "thành viên cơ quan" in welcome.text and "Công an xã" in welcome.text
    helper = bot.user(2102, "Hoa")
    welcome, _menu = await join(helper, village_link)
    assert "cộng tác viên bảo vệ trẻ em (thôn) của thôn Đông" in welcome.text


async def test_expired_and_unknown_invites(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    payload = await create_invite(admin, "Người làm công tác bảo vệ trẻ em")
    bot.clock.advance(dt.timedelta(hours=73))
    late = bot.user(2003, "Bình")
    late.mark()
    await late.start(payload)
    assert "đã hết hạn" in (await late.reply()).text
    late.mark()
    await late.start("i_" + "x" * 20)
    assert "không hợp lệ" in (await late.reply()).text
    async with bot.db.session() as session:
        assert (await session.exec(select(Member))).all() == []


async def test_officer_cannot_use_admin_commands_and_attempt_is_audited(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    officer = bot.user(2001, "Hùng")
    await join(officer, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    for command in ("/members", "/invite", "/invites"):
        officer.mark()
        await officer.send(command)
        assert "không có quyền" in (await officer.reply()).text
    async with bot.db.session() as session:
        denied = (await session.exec(
            select(AuditEntry).where(AuditEntry.action == "denied"))).all()
    assert len(denied) == 3 and all(d.actor_user_id == 2001 for d in denied)


async def test_admin_revokes_member_who_is_told_and_loses_access(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    officer = bot.user(2001, "Hùng")
    await join(officer, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    await officer.settle()
    admin.mark()
    await admin.send("/members")
    listing = await answer_skipping_notices(admin)  # "Hùng used your invitation" may come first
    assert "Thành viên (1)" in listing.text and "Hùng" in listing.text
    await admin.press(listing, "Thu hồi quyền: Hùng")
    confirm = await admin.reply()
    assert "Thu hồi quyền truy cập của" in confirm.text
    officer.mark()
    await admin.press(confirm, "Có, thu hồi quyền")
    done = await admin.replies(2)
    assert "Đã thu hồi" in done[0].text
    try:
        told = await officer.reply()
    except AssertionError as missing:
        async with bot.db.session() as session:  # what the outbox holds for that chat
            rows = (await session.exec(select(Delivery.id, Delivery.kind, Delivery.status,
                                              Delivery.due_at, Delivery.last_error).where(
                Delivery.chat_id == officer.id))).all()
        raise AssertionError(f"{missing}; outbox: {rows}; now {bot.clock.now()}") from None
    assert "đã được quản trị viên thu hồi" in told.text
    # The message and the menu change are both outbox rows of the revocation.
    await wait_until(lambda: officer.commands() == CITIZEN_COMMANDS)
    officer.mark()
    await officer.send("/start")
    assert "Chào Hùng! Mình là trợ lý" in (await officer.reply()).text  # a citizen again


async def test_pending_invites_can_be_cancelled(bot):
    admin = bot.user(ADMIN_ID, "Mai")
    payload = await create_invite(admin, "Người làm công tác bảo vệ trẻ em")
    admin.mark()
    await admin.send("/invites")
    listing = await admin.reply()
    assert "Lời mời chưa sử dụng" in listing.text
    await admin.press(listing, "Hủy lời mời 1")
    assert "Đã hủy lời mời" in (await admin.reply()).text
    late = bot.user(2004, "Cúc")
    late.mark()
    await late.start(payload)
    assert "đã bị quản trị viên hủy" in (await late.reply()).text
