"""Steps several tests share, played through the chat like a person would."""

from __future__ import annotations

import re

from bot.fakeapi import FakeUser, SentMessage

INVITE_LINK = re.compile(r"https://t\.me/\w+\?start=(i_[A-Za-z0-9_-]+)")


async def open_menu(user: FakeUser) -> SentMessage:
    user.mark()
    await user.start()
    return (await user.replies(1))[-1]


async def create_invite(admin: FakeUser, role_label: str, choice: str | None = None) -> str:
    """The administrator walks /invite → role (→ agency/village) and gets a link's payload."""
    admin.mark()
    await admin.send("/invite")
    message = await admin.reply()
    await admin.press(message, role_label)
    message = await admin.reply()
    if choice is not None:
        await admin.press(message, choice)
        message = await admin.reply()
    match = INVITE_LINK.search(message.text)
    assert match, message.text
    return match.group(1)


async def join(user: FakeUser, payload: str) -> list[SentMessage]:
    user.mark()
    await user.start(payload)
    return await user.replies(2)

CITIZEN_COMMANDS = ["start", "baotin", "status", "huy", "hotline", "help"]
MEMBER_COMMANDS = ["deadlines", "calendar", "subscribe", "unsubscribe"]
