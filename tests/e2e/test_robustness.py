"""Odd and hostile input gets a clear Vietnamese answer; stale and forged buttons are refused;
a restart keeps everything; a crash inside a handler apologises without losing anything."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app import stop_application
from bot.fakeapi.driver import wait_until
from handlers import callback_data as cb
from storage.models import AuditEntry, Delivery, Member
from tests.conftest import ADMIN_ID, start_bot
from tests.e2e.flows import answer_skipping_notices, create_invite, join, open_menu


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
    queries = bot.fake.callback_queries.values()
    assert queries and all(q["answered"] for q in queries)


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
    await root.press(await answer_skipping_notices(root), "Xã Minh Tân")
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
        assert "Bạn là người làm công tác bảo vệ trẻ em của xã Minh Tân" in menu.text
    finally:
        await stop_application(second.application)
    assert fake.violations == []


async def test_crash_in_a_handler_apologises_and_keeps_going(bot):
    async def boom(update, context):
        raise RuntimeError("simulated failure with secret words")

    bot.application.add_handler(CommandHandler("boom", boom), group=-1)
    citizen = bot.user(1001, "Lan")
    citizen.mark()
    await citizen.send("/boom")
    answers = [m.text for m in await citizen.replies(2)]  # the apology, and group 0 still runs
    # A handler outside the unit of work may have failed before saving: no false promise.
    assert any("hệ thống vừa gặp sự cố" in t and "chưa được lưu" in t for t in answers), answers
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
    await admin.press(await answer_skipping_notices(admin), "Thu hồi quyền: Hùng")
    await admin.press(await admin.reply(), "Có, thu hồi quyền")
    done = await admin.replies(2)
    assert "Đã thu hồi" in done[0].text
    try:
        await wait_until(lambda: bot.fake.forbidden)  # the notice to the blocked officer
    except AssertionError:
        async with bot.db.session() as session:  # what the outbox holds for that chat
            rows = (await session.exec(select(Delivery.id, Delivery.kind, Delivery.status,
                                              Delivery.due_at, Delivery.last_error).where(
                Delivery.chat_id == officer.id))).all()
        raise AssertionError(f"no notice to the blocked officer; outbox: {rows}") from None
    assert [c.method for c in bot.fake.forbidden] == ["sendMessage"]


# --- every press is answered; absurd numbers are out-of-date buttons ------------------------

# One button of each kind the bot builds, with its number arguments replaced by a 25-digit
# id (too long to parse at all) or by 2**63 (parses, but no row can have it).
FORGED_ACTIONS = [
    ("cs", a, n) for a in ("as", "aso", "card", "cl", "clo", "go", "hist", "msg", "nt", "ok",
                           "rf", "rfo", "rk", "rkc", "rko", "rkr", "rr", "sg", "sgt", "take",
                           "view", "x")
    for n in ("{n}", "{n}:1:1")
] + [
    ("inv", "c", "{n}"), ("inv", "cp", "{n}"), ("inv", "r", "{n}:officer"), ("inv", "a", "1:{n}"),
    ("inv", "v", "{n}:{n}"), ("inv", "x", "{n}"), ("mem", "p", "{n}"), ("mem", "rv", "{n}"),
    ("mem", "ry", "{n}"), ("rp", "x", "{n}"), ("rp", "v", "{n}:{n}"), ("rp", "n", "{n}:{n}"),
    ("rp", "cm", "{n}:{n}"), ("rp", "add", "{n}"), ("rp", "addok", "{n}"), ("rp", "st", "{n}"),
    ("cl", "v", "mine:{n}:0:-:-"), ("cl", "v", "mine:0:{n}:-:-"), ("nc", "a", "village:{n}"),
    ("sub", "a", "{n}"), ("bc", "x", "{n}"), ("bc", "ok", "{n}:all"), ("st", "x", "{n}:6m:1:1"),
]


@pytest.mark.parametrize("number", ["9" * 25, str(2**63)], ids=["25 digits", "2**63"])
async def test_presses_with_absurd_ids_are_answered_as_out_of_date(bot, officer, number):
    menu = await open_menu(officer)
    refusals = set()
    for feature, action, args in FORGED_ACTIONS:
        data = f"1:{feature}:{action}:{args.format(n=number)}"
        officer.mark()
        await officer.press_data(menu, data)
        answer = await officer.reply()
        # "out of date", "no permission", "already sent": a refusal, never the apology.
        assert answer.text and "sự cố" not in answer.text, (data, answer)
        refusals.add(answer.text.split(".")[0])
    assert any("Nút này đã cũ" in r for r in refusals), refusals
    queries = bot.fake.callback_queries.values()
    assert queries and all(q["answered"] for q in queries)


async def test_a_press_is_answered_even_when_its_handler_crashes(bot):
    async def boom(update, context):
        raise RuntimeError("simulated failure")

    bot.application.add_handler(CallbackQueryHandler(boom), group=-1)
    citizen = bot.user(1001, "Lan")
    menu = await open_menu(citizen)
    citizen.mark()
    await citizen.press(menu, "Số điện thoại khẩn cấp")
    texts = [m.text for m in await citizen.replies(2)]  # the apology and the hotlines
    assert any("chưa được lưu" in t for t in texts), texts
    queries = bot.fake.callback_queries.values()
    assert queries and all(q["answered"] for q in queries)  # answered once: no refused call


async def test_poster_link_with_an_absurd_village_opens_the_menu(bot):
    citizen = bot.user(1001, "Lan")
    for payload in ("r_" + "1" * 30, "r_" + str(2**63), "r_²", "r_-5x"):
        citizen.mark()
        await citizen.start(payload)
        answer = await citizen.reply()
        assert "Chào Lan" in answer.text and "sự cố" not in answer.text, payload


async def test_updates_without_a_chat_are_handled_quietly(bot, caplog):
    """Inline queries, poll answers and presses on inline-mode messages carry no chat."""
    caplog.set_level(logging.INFO)
    citizen = bot.user(1001, "Lan")
    await citizen.start()
    await citizen.reply()
    await bot.fake.push_update("inline_query", {"id": "q1", "from": citizen.user, "query": "a",
                                                "offset": ""})
    await bot.fake.push_update("poll_answer", {"poll_id": "p1", "user": citizen.user,
                                               "option_ids": [0], "option_persistent_ids": ["0"]})
    citizen.mark()
    await citizen.press_inline("1:menu:hotline")  # answered in the person's private chat
    assert "113" in (await citizen.reply()).text
    await citizen.press_inline("1:cs:take:" + "9" * 30)
    assert "Nút này đã cũ" in (await citizen.reply()).text
    await wait_until(lambda: all(q["answered"] for q in bot.fake.callback_queries.values()))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_crash_on_a_press_without_a_chat_apologises_privately(bot):
    async def boom(update, context):
        raise RuntimeError("simulated failure")

    bot.application.add_handler(CallbackQueryHandler(boom), group=-1)
    citizen = bot.user(1001, "Lan")
    await citizen.start()
    await citizen.reply()
    citizen.mark()
    await citizen.press_inline("1:menu:hotline")
    texts = [m.text for m in await citizen.replies(2)]
    assert any("sự cố" in t for t in texts), texts
    assert all(q["answered"] for q in bot.fake.callback_queries.values())


async def test_a_failure_after_the_commit_says_the_input_was_saved(bot):
    """The transaction committed, then sending the answer failed: the apology says so."""
    from handlers.common import Reply, handles

    @handles
    async def too_long(request):
        return Reply("x" * 5000)  # Telegram refuses it, after the commit

    bot.application.add_handler(CommandHandler("toolong", too_long), group=-1)
    citizen = bot.user(1001, "Lan")
    citizen.mark()
    await citizen.send("/toolong")
    texts = [m.text for m in await citizen.replies(2)]
    assert any("đã được lưu" in t for t in texts), texts
    assert [c.method for c in bot.fake.violations] == ["sendMessage"]
    bot.fake.violations.clear()  # the refusal was the point of this test


async def test_forged_new_case_answers_are_out_of_date(bot, officer):
    officer.mark()
    await officer.send("/newcase")
    question = await officer.reply()
    for data in ("1:nc:a:channel:carrier_pigeon", "1:nc:a:village:" + str(2**60), "1:nc:a"):
        officer.mark()
        await officer.press_data(question, data)
        answer = await officer.reply()
        assert "sự cố" not in answer.text, (data, answer)
    assert all(q["answered"] for q in bot.fake.callback_queries.values())
