"""The terminal sandbox: attachments are labelled, messages that arrive while the person is
not typing show at once, and a button of an earlier message can be pressed (#M.N)."""

from __future__ import annotations

import asyncio
import io
import os

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.fakeapi import FakeUser
from bot.fakeapi.server import SANDBOX_TOKEN
from bot.sandbox import _target, read_line_showing_arrivals, render


@pytest.fixture
async def api(fake):
    bot = Bot(SANDBOX_TOKEN, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")
    async with bot:
        yield bot


@pytest.fixture
def lan(fake) -> FakeUser:
    user = FakeUser(fake, 1001, "Lan")
    fake.chats[1001].started = True
    return user


def _buttons(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=label)]
                                 for label in labels])


async def test_photos_documents_and_charts_are_labelled(api, lan):
    lan.mark()
    await api.send_photo(lan.id, b"\x89PNG-chart", caption="📈 Báo cáo năm 2026",
                         reply_markup=_buttons("Tải tệp"))
    await api.send_document(lan.id, b"xlsx", filename="bao-cao.xlsx")
    out = io.StringIO()
    for message in await lan.replies(2):
        render(message, out)
    text = out.getvalue()
    assert "[ảnh] 📈 Báo cáo năm 2026" in text and "[1] Tải tệp" in text
    assert "🤖 [tệp] bao-cao.xlsx" in text


async def test_a_message_arriving_while_idle_shows_without_waiting_for_input(api, lan):
    read_end, write_end = os.pipe()
    source = os.fdopen(read_end, "r")
    out = io.StringIO()
    lan.mark()
    waiting = asyncio.ensure_future(read_line_showing_arrivals(lan, source, out, "\n[citizen] > "))
    await asyncio.sleep(0.1)
    await api.send_message(lan.id, "⏰ Hạn: Báo cáo năm công tác trẻ em")
    for _ in range(50):  # the person has typed nothing yet
        if "Báo cáo năm công tác trẻ em" in out.getvalue():
            break
        await asyncio.sleep(0.1)
    assert not waiting.done()
    assert "🤖 ⏰ Hạn: Báo cáo năm công tác trẻ em" in out.getvalue()
    assert out.getvalue().endswith("[citizen] > ")  # the prompt again
    os.write(write_end, "xin chào\n".encode())
    assert await asyncio.wait_for(waiting, 5) == "xin chào"
    os.close(write_end)
    source.close()


async def test_a_button_of_an_earlier_message_can_be_pressed(api, lan):
    first = await api.send_message(lan.id, "Chọn thôn",
                                   reply_markup=_buttons("Thôn Bắc", "Thôn Nam"))
    await api.send_message(lan.id, "Không có nút")
    last = await api.send_message(lan.id, "Chọn tuổi", reply_markup=_buttons("Dưới 6", "6–10"))
    out = io.StringIO()
    render(lan.message(first.message_id), out)
    assert out.getvalue().startswith(f"\n🤖 [#{first.message_id}] Chọn thôn")
    message, index = _target(lan, f"#{first.message_id}.2")
    assert message.message_id == first.message_id and message.buttons[index]["text"] == "Thôn Nam"
    message, index = _target(lan, "#2")  # the last message with buttons
    assert message.message_id == last.message_id and message.buttons[index]["text"] == "6–10"
    assert _target(lan, "#999.1")[0] is None
