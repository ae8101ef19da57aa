"""/event as administrators really type it: a full stop or "đi" after “tắt”, the code in
capitals, a reminder day out of range among good ones, “tất cả” for everyone, a message
with HTML, braces and several lines. Each is understood, or refused with the right help;
nothing typed is silently dropped."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import CalendarEvent
from tests.e2e.flows import (
    COMMUNE_ADMIN_ROLE,
    joined,
)


@pytest.fixture
async def admin(bot):
    return await joined(bot, 3001, "Quang", COMMUNE_ADMIN_ROLE)


async def _say(person, text: str) -> str:
    person.mark()
    await person.send(text)
    return "\n".join(m.text for m in [await person.reply(), *await person.settle()])


async def _event(bot, code: str = "bao-cao-nam") -> CalendarEvent:
    async with bot.db.session() as session:
        return (await session.exec(select(CalendarEvent).where(
            CalendarEvent.code == code))).one()


async def test_switches_typed_loosely_are_understood(bot, admin):
    for text, active in (("/event bao-cao-nam tắt.", False), ("/event bao-cao-nam Bật lại", True),
                         ("/event BAO-CAO-NAM Tắt đi!", False), ("/event bao-cao-nam bật", True)):
        said = await _say(admin, text)
        assert "Không đọc được ngày" not in said and "Không có sự kiện" not in said, text
        assert (await _event(bot)).active is active, text


async def test_nothing_typed_is_silently_dropped(bot, admin):
    before = list((await _event(bot)).lead_days)
    for text in ("/event bao-cao-nam nhắc 14 7 1000", "/event bao-cao-nam nhắc 14 7 và 1",
                 "/event bao-cao-nam nhắc 61", "/event bao-cao-nam nhắc " + "9" * 40):
        said = await _say(admin, text)
        assert "từ 0 (đúng ngày) đến 60" in said, (text, said)
        assert list((await _event(bot)).lead_days) == before, text
    said = await _say(admin, "/event bao-cao-nam nhắc 14, 7; 0 0")
    assert "14, 7, 0 ngày" in said
    said = await _say(admin, "/event bao-cao-nam gửi cho tất cả")
    assert (await _event(bot)).audience == ["all"], said
    said = await _say(admin, "/event bao-cao-nam gửi cho cảnh sát")
    assert "“all” (tất cả)" in said and (await _event(bot)).audience == ["all"]


async def test_a_message_with_html_braces_and_lines_is_kept_as_typed(bot, admin):
    said = await _say(admin, "/event bao-cao-nam nội dung <b>Hạn</b> {x}\nGửi {report_to}.")
    assert "<b>Hạn</b> {x}" in said and "{report_to}" not in said
    assert (await _event(bot)).message == "<b>Hạn</b> {x}\nGửi {report_to}."
    said = await _say(admin, "/event bao-cao-nam nội dung " + "đ" * 1501)
    assert "1,500" in said or "1.500" in said
    assert (await _event(bot)).message == "<b>Hạn</b> {x}\nGửi {report_to}."
