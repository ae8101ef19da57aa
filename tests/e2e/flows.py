"""Steps several tests share, played through the chat like a person would."""

from __future__ import annotations

import re

from bot.fakeapi import FakeUser, SentMessage
from bot.fakeapi.driver import wait_until
from tests.conftest import ADMIN_ID

CODE = re.compile(r"Mã theo dõi: ([A-Z2-9]{4}-[A-Z2-9]{4})")
INVITE_LINK = re.compile(r"https://t\.me/\w+\?start=(i_[A-Za-z0-9_-]+)")


async def open_menu(user: FakeUser) -> SentMessage:
    user.mark()
    await user.start()
    return (await user.replies(1))[-1]


INVITE_USED = "đã dùng lời mời của bạn"


async def answer_skipping_notices(person: FakeUser) -> SentMessage:
    """The next message that answers what `person` did: "X used your invitation" notices
    (outbox rows, sent a moment after the join they report) may arrive in between."""
    while INVITE_USED in (message := await person.reply()).text:
        pass
    return message


async def create_invite(admin: FakeUser, role_label: str, choice: str | None = None) -> str:
    """The administrator walks /invite → role (→ agency/village) and gets a link's payload."""
    admin.mark()
    await admin.send("/invite")
    message = await answer_skipping_notices(admin)
    await admin.press(message, role_label)
    message = await answer_skipping_notices(admin)
    if choice is not None:
        await admin.press(message, choice)
        message = await answer_skipping_notices(admin)
    match = INVITE_LINK.search(message.text)
    assert match, message.text
    return match.group(1)


OFFICER_ROLE = "Người làm công tác bảo vệ trẻ em"
COMMUNE_ADMIN_ROLE = "Quản trị viên của xã"
AGENCY_ROLE = "Thành viên cơ quan"
COLLABORATOR_ROLE = "Cộng tác viên bảo vệ trẻ em (thôn)"


async def joined(bot, user_id: int, name: str, role_label: str,
                 choice: str | None = None) -> FakeUser:
    """A person of the example commune with that role (and agency or village, `choice`),
    joined through a real invitation from the installation's administrator (Mai)."""
    (person,) = await join_all(bot, (user_id, name, role_label, choice))
    return person


async def join_all(bot, *people: tuple) -> list[FakeUser]:
    """Each (user id, name, role label[, agency or village]) joins through a real invitation
    from Mai, one after the other; then everyone, Mai too, has had their notices."""
    root = bot.user(ADMIN_ID, "Mai")
    users = []
    for user_id, name, role_label, *choice in people:
        user = bot.user(user_id, name)
        await join(user, await create_invite(root, role_label, *choice))
        users.append(user)
    for person in (*users, root):
        await person.settle()
    return users


def _invite_notices(server, name: str) -> int:
    """How many "<name> used your invitation" notices the bot has sent, in any chat."""
    return sum(INVITE_USED in (text := message.get("text") or "") and name in text
               for chat in server.chats.values() for message in chat.messages.values())


async def join(user: FakeUser, payload: str) -> list[SentMessage]:
    """`user` opens an invitation link; returns once the inviter has been told too, so that
    the notice (an outbox row sent a moment later) never lands in the middle of a later step."""
    notices = _invite_notices(user.server, user.user["first_name"])
    user.mark()
    await user.start(payload)
    replies = await user.replies(2)
    await wait_until(lambda: _invite_notices(user.server, user.user["first_name"]) > notices,
                     timeout=10.0)
    return replies

CITIZEN_COMMANDS = ["start", "baotin", "status", "huy", "hotline", "help", "xoathongtin"]
MEMBER_COMMANDS = ["deadlines", "calendar", "subscribe", "unsubscribe", "cases", "case",
                   "baocao"]
COLLABORATOR_COMMANDS = [*MEMBER_COMMANDS, "tre"]
OFFICER_COMMANDS = [*MEMBER_COMMANDS, "tre", "newcase"]


class Reporter:
    """A citizen walking the report path; counts what they had to do."""

    def __init__(self, user: FakeUser) -> None:
        self.user = user
        self.actions = 0

    async def say(self, text: str, replies: int = 1) -> list[SentMessage]:
        self.user.mark()
        self.actions += 1
        await self.user.send(text)
        return await self.user.replies(replies)

    async def tap(self, message: SentMessage, label: str, replies: int = 1) -> list[SentMessage]:
        self.user.mark()
        self.actions += 1
        await self.user.press(message, label)
        return await self.user.replies(replies)


async def shortest_report(reporter: Reporter, *, urgent: bool = False) -> SentMessage:
    """The fewest actions from nothing to a sent report (typed story, anonymous)."""
    intro, danger = await reporter.say("/baotin", replies=2)
    assert "Cảm ơn bạn đã lên tiếng" in intro.text
    assert "đang gặp nguy hiểm ngay lúc này" in danger.text
    (what,) = await reporter.tap(danger, "Không, nhưng", replies=1)
    assert "Chuyện gì đang xảy ra" in what.text
    (where,) = await reporter.tap(what, "Bị đánh")
    assert "Việc này xảy ra ở đâu" in where.text
    (age,) = await reporter.tap(where, "Thôn Đông")
    (count,) = await reporter.tap(age, "6–10 tuổi")
    (name,) = await reporter.tap(count, "1 em")
    assert "không bắt buộc" in name.text.lower()
    (story,) = await reporter.tap(name, "Bỏ qua")
    (more,) = await reporter.say("Em bé nhà bên bị bố đánh mỗi tối, khóc rất to.")
    assert "đã dùng 46/3.000 ký tự" in more.text, more.text
    (identity,) = await reporter.tap(more, "Tiếp tục")
    assert "Chỉ cán bộ trực tiếp xử lý" in identity.text
    (relation,) = await reporter.tap(identity, "Ẩn danh")
    (review,) = await reporter.tap(relation, "Hàng xóm")
    assert "Kiểm tra lại tin báo" in review.text and "Thôn Đông" in review.text
    assert "Bạn bấm <b>Gửi tin báo</b>" not in review.text  # rendered, not escaped
    replies = await reporter.tap(review, "Gửi tin báo", replies=1)
    return replies[0]




async def act(user: FakeUser, send: str | None = None, *, press: SentMessage | None = None,
              label: str | None = None, data: str | None = None, replies: int = 1):
    """One action of a person (type `send`, press the button `label` of `press`, or send
    the callback `data` from it) and the replies it brings (the last one, or a list)."""
    user.mark()
    if send is not None:
        await user.send(send)
    elif data is not None:
        await user.press_data(press, data)
    else:
        await user.press(press, label)
    got = await user.replies(replies)
    return got if replies > 1 else got[0]


async def outbox_drained(bot, timeout: float = 20.0) -> None:
    """Wait until every outbox row is delivered (a chart or file owed by the last command
    arrives after its text answer; a test reading replies one by one must let it land)."""
    import asyncio
    import time

    from sqlmodel import select

    from storage.models import Delivery

    deadline = time.monotonic() + timeout
    while True:
        async with bot.db.session() as session:
            waiting = (await session.exec(select(Delivery.id).where(
                Delivery.status.in_(("pending", "sending")),
                Delivery.due_at <= bot.runtime.clock.now()))).all()
        if not waiting:
            return
        assert time.monotonic() < deadline, f"outbox rows still owed: {len(waiting)}"
        await asyncio.sleep(0.05)


async def say(user: FakeUser, text: str) -> SentMessage:
    """Type `text`; the bot's first answer."""
    return await act(user, text)


async def tap(user: FakeUser, message: SentMessage, label: str) -> SentMessage:
    """Press the button `label` of `message`; the bot's first answer."""
    return await act(user, press=message, label=label)


async def tap_data(user: FakeUser, message: SentMessage, data: str) -> SentMessage:
    """Send the callback `data` from `message` (an old or forged button); the first answer."""
    return await act(user, press=message, data=data)
