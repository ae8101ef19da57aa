"""The fake Bot API refuses what Telegram refuses, seen through PTB's own Bot client."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.fakeapi import FakeGroup, FakeUser
from bot.fakeapi.driver import wait_until
from bot.fakeapi.server import SANDBOX_TOKEN


@pytest.fixture
async def api(fake):
    fake.limits.enabled = False  # each test below but the rate test is about one rule
    bot = Bot(SANDBOX_TOKEN, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")
    async with bot:
        yield bot


@pytest.fixture
async def lan(fake):
    user = FakeUser(fake, 1001, "Lan")
    fake.chats[1001].started = True
    return user


async def test_text_limits(api, lan):
    await api.send_message(lan.id, "x" * 4096)
    await api.send_message(lan.id, "😀" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await api.send_message(lan.id, "😀" * 2049)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await api.send_message(lan.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await api.send_message(lan.id, "   ")
    # Markup does not count: 4096 visible characters inside <b> is fine.
    await api.send_message(lan.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)


async def test_malformed_html(api, lan):
    for text in ("a < b", "<div>x</div>", "<b>x", "<b>x</i>", "AT&T"):
        with pytest.raises(BadRequest, match=r"(?i)parse entities"):
            await api.send_message(lan.id, text, parse_mode=ParseMode.HTML)
    await api.send_message(lan.id, "a &lt; b &amp; <i>c</i>", parse_mode=ParseMode.HTML)


async def test_buttons(api, lan):
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
    await api.send_message(lan.id, "ok", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="đ" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await api.send_message(lan.id, "66 bytes", reply_markup=too_long)
    tel = InlineKeyboardMarkup([[InlineKeyboardButton("Gọi 111", url="tel:111")]])
    with pytest.raises(BadRequest, match=r"(?i)unsupported url protocol"):
        await api.send_message(lan.id, "call", reply_markup=tel)
    hundred = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(100)]
    await api.send_message(lan.id, "100 buttons", reply_markup=InlineKeyboardMarkup(hundred))
    one_more = [*hundred, [InlineKeyboardButton("101", callback_data="101")]]
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await api.send_message(lan.id, "101 buttons", reply_markup=InlineKeyboardMarkup(one_more))


async def test_chats_users_and_blocking(api, fake, lan):
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await api.send_message(424242, "who?")
    stranger = FakeUser(fake, 1002, "Nam")  # never pressed Start
    with pytest.raises(Forbidden, match=r"(?i)initiate conversation"):
        await api.send_message(stranger.id, "hello")
    lan.block()
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await api.send_message(lan.id, "hello")
    assert len(fake.forbidden) == 2


async def test_edits(api, lan):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    message = await api.send_message(lan.id, "one", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await api.edit_message_text("one", lan.id, message.message_id, reply_markup=markup)
    await api.edit_message_text("two", lan.id, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await api.edit_message_text("three", lan.id, 9999)
    assert lan.message(message.message_id).text == "two"


async def test_callback_answers_once(api, fake, lan):
    message = await api.send_message(
        lan.id, "q",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]))
    await lan.press(lan.message(message.message_id), "a")
    query_id = next(iter(fake.callback_queries))
    await api.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await api.answer_callback_query(query_id)


async def test_rate_limits(api, fake):
    fake.limits.enabled = True
    # Windows ten times longer (10 s overall, 10 min per group): the counts are what is
    # tested, and a busy machine may take more than a second for 30 sends.
    fake.limits.time_scale = 0.1
    group = FakeGroup(fake, -100123, "Trạm Y tế xã")
    for _ in range(20):
        await api.send_message(group.id, "tin")
    with pytest.raises(RetryAfter) as caught:
        await api.send_message(group.id, "one too many")
    assert caught.value.retry_after > 0
    users = [FakeUser(fake, 5000 + i, f"U{i}") for i in range(31)]
    for user in users:
        fake.chats[user.id].started = True
    fake._sends.clear()  # start the one-second window afresh
    for user in users[:30]:
        await api.send_message(user.id, "tin")
    with pytest.raises(RetryAfter):
        await api.send_message(users[30].id, "tin")


async def test_long_polling_and_conflict(api, fake, lan):
    first = asyncio.create_task(api.get_updates(timeout=5))
    await wait_until(lambda: fake.long_polling)
    await lan.send("xin chào")
    updates = await first
    assert [u.message.text for u in updates] == ["xin chào"]
    assert await api.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    # A second instance of the bot polling at the same time: the first one is cut off.
    other = Bot(SANDBOX_TOKEN, base_url=f"{fake.url}/bot")
    async with other:
        waiting = asyncio.create_task(api.get_updates(timeout=5))
        await wait_until(lambda: fake.long_polling)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Exception, match=r"(?i)terminated by other getupdates"):
            await waiting
        await second
    await api.set_webhook("https://example.invalid/hook")
    with pytest.raises(Exception, match=r"(?i)webhook is active"):
        await api.get_updates()
    await api.delete_webhook()


async def test_files_round_trip(api, fake, lan):
    sent = await api.send_photo(lan.id, b"\xff\xd8photo-bytes\xff\xd9", caption="ảnh")
    file = await api.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"\xff\xd8photo-bytes\xff\xd9"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await api.send_photo(lan.id, b"x", caption="c" * 1025)
    await lan.send_photo(b"from-user")
    (update,) = await api.get_updates()
    got = await (await api.get_file(update.message.photo[-1].file_id)).download_as_bytearray()
    assert bytes(got) == b"from-user"


async def test_commands_per_scope(api, fake, lan):
    from telegram import BotCommand, BotCommandScopeChat

    await api.set_my_commands([BotCommand("start", "Menu")])
    await api.set_my_commands([BotCommand("start", "Menu"), BotCommand("invite", "Mời")],
                              scope=BotCommandScopeChat(lan.id))
    assert lan.commands() == ["start", "invite"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await api.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await api.set_my_commands([BotCommand("start", "x")], scope=BotCommandScopeChat(777))
    fake.violations.clear()
