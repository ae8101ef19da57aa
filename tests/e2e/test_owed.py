"""What an update owes besides its replies (a case's photos, the /stats chart, the export
files, a command menu) is an outbox row written with the change: the application stopped
after the commit and before delivery, the next start delivers it, once.

To stop between the commit and the delivery for certain, each person's chat already has
an older message waiting for its retry time (as after a 429): messages to one chat go out
in row order, so the owed rows wait behind it; its time comes while the bot is down.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import select, update

from bot import sender
from bot.app import stop_application
from bot.fakeapi.driver import SentMessage, wait_until
from storage.models import Delivery, Report, ReportMedia
from tests.conftest import ADMIN_ID, start_bot
from tests.e2e.flows import (
    CITIZEN_COMMANDS,
    CODE,
    OFFICER_COMMANDS,
    Reporter,
    answer_skipping_notices,
    create_invite,
    join,
    shortest_report,
)

OFFICER, OTHER = 2001, 2002
BLOCKER = "Tin nhắn trước"


async def _block(bot, *chat_ids: int) -> None:
    """An older message to each chat, due in an hour: what comes after it waits."""
    async with bot.db.session() as session:
        for chat_id in chat_ids:
            session.add(Delivery(kind="notice", chat_id=chat_id, text=BLOCKER,
                                 due_at=bot.clock.now() + dt.timedelta(hours=1)))


async def _unblock(bot) -> None:
    # By its due time: the text is encrypted at rest, so SQL cannot compare it.
    async with bot.db.session() as session:
        await session.exec(update(Delivery).where(
            Delivery.due_at > bot.clock.now() + dt.timedelta(minutes=30),
            Delivery.status == "pending").values(due_at=bot.clock.now()))


OWED = ("media", "chart", "export", "commands")


async def _owed(bot, after: int) -> list[tuple[str, int, str]]:
    """(kind, chat, status) of the owed rows queued after row `after`."""
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.id > after)
                                   .order_by(Delivery.id))).all()
    return [(r.kind, r.chat_id, r.status) for r in rows if r.kind in OWED]


async def _last_row(bot) -> int:
    async with bot.db.session() as session:
        return max((await session.exec(select(Delivery.id))).all(), default=0)


def _sent(bot, user, key: str) -> list[dict]:
    return [m for _mid, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id and key in m]


async def test_owed_media_chart_menu_and_export_arrive_after_a_restart(bot, monkeypatch):
    # A poke gives up on a chat whose older message is not due (the stop waits for pokes).
    monkeypatch.setattr(sender, "POKE_PATIENCE", 0.5)
    root = bot.user(ADMIN_ID, "Mai")
    officer, other = bot.user(OFFICER, "Hùng"), bot.user(OTHER, "Tuấn")
    for person in (officer, other):
        await join(person, await create_invite(root, "Người làm công tác bảo vệ trẻ em"))
        await person.settle()
    await wait_until(lambda: other.commands() == CITIZEN_COMMANDS + OFFICER_COMMANDS
                     + ["stats"])
    thanks = await shortest_report(Reporter(bot.user(1001, "Lan")))
    code = CODE.search(thanks.text).group(1)
    photo_id = bot.fake.store_file(b"photo-of-the-place")
    async with bot.db.session() as session:
        report = (await session.exec(select(Report))).one()
        session.add(ReportMedia(report_id=report.id, kind="photo", file_id=photo_id,
                                added_at=bot.clock.now()))
    await officer.settle(quiet=0.3)
    await other.settle(quiet=0.3)

    await _block(bot, OFFICER, OTHER)
    start = await _last_row(bot)
    # The officer takes the case (the card, then its photo), asks for /stats (the figures,
    # then the chart); the administrator revokes the other officer (told, menu reset).
    officer.mark()
    await officer.send(f"/case {code}")
    (card,) = await officer.replies(1, timeout=30)
    officer.mark()
    await officer.press(card, "Nhận xử lý")
    await officer.replies(2, timeout=30)
    officer.mark()
    await officer.send("/stats")
    figures = []
    while not any("Tổng số tin báo tiếp nhận" in m.text for m in figures):
        figures += await officer.replies(1, timeout=30)
    await officer.settle(quiet=0.5)
    root.mark()
    await root.send("/members")
    await root.press(await answer_skipping_notices(root), "Thu hồi quyền: Tuấn")
    await root.press(await root.reply(), "Có, thu hồi quyền")
    assert "Đã thu hồi" in (await root.replies(2))[0].text
    owed = await _owed(bot, start)
    assert owed == [("media", OFFICER, "pending"), ("chart", OFFICER, "pending"),
                    ("commands", OTHER, "pending")], owed

    await stop_application(bot.application)  # committed, not delivered
    assert _sent(bot, officer, "photo") == []
    assert other.commands() != CITIZEN_COMMANDS  # still the officer's menu
    await _unblock(bot)

    second = await start_bot(bot.fake, bot.db, bot.clock)
    try:
        await wait_until(lambda: len(_sent(bot, officer, "photo")) == 2, timeout=30)
        await wait_until(lambda: other.commands() == CITIZEN_COMMANDS, timeout=30)
        media, chart = _sent(bot, officer, "photo")
        assert media["photo"][0]["file_id"] == photo_id
        assert f"1/1 – vụ việc {code}" in media["caption"]
        png = bot.fake.files[chart["photo"][0]["file_id"]][1]
        assert png.startswith(b"\x89PNG")
        told = [m["text"] for m in _sent(bot, other, "text")]
        assert any("thu hồi" in t for t in told)

        # The export button under the chart; stopped again before the files were made.
        await _block(second, OFFICER)
        officer.mark()
        await officer.press(SentMessage(OFFICER, chart["message_id"], chart), "Tải tệp XLSX")
        await officer.settle(quiet=0.5)
        assert [k for k, _c, s in await _owed(bot, start) if s == "pending"] == ["export"]
    finally:
        await stop_application(second.application)
    assert _sent(bot, officer, "document") == []
    await _unblock(bot)

    third = await start_bot(bot.fake, bot.db, bot.clock)
    try:
        await wait_until(lambda: len(_sent(bot, officer, "document")) == 2, timeout=60)
        await third.runtime.outbox.wait_idle()
        await officer.settle(quiet=0.5)
    finally:
        await stop_application(third.application)
    names = sorted(m["document"]["file_name"] for m in _sent(bot, officer, "document"))
    assert names[0].endswith(".csv") and names[1].endswith(".xlsx")
    # Each once: nothing owed was sent twice, nothing left.
    assert len(_sent(bot, officer, "photo")) == 2
    assert [(k, s) for k, _c, s in await _owed(bot, start)] == [
        ("media", "sent"), ("chart", "sent"), ("commands", "sent"), ("export", "sent")]
