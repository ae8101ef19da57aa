"""The outbox: messages to other people are rows written with what caused them, sent once,
in order per chat, by whichever instance claims them first; a relay to a reporter who
blocked the bot tells the officer."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlmodel import select
from telegram.ext import CommandHandler

from bot.leader import Leadership
from bot.sender import Sender
from domain.errors import InvalidInput
from handlers.common import Reply, handles
from storage import outbox
from storage.models import Delivery, ProcessedUpdate
from tests.conftest import ADMIN_ID
from tests.e2e.flows import Reporter, shortest_report
from tests.e2e.test_cases import act, reported_case, staff, take_and_open  # noqa: F401 - fixture

OFFICER = 2001


async def _rows(bot, **where) -> list[Delivery]:
    """The outbox rows matching `where`; the command menus owed when members joined are
    left out unless asked for by kind."""
    async with bot.db.session() as session:
        stmt = select(Delivery).order_by(Delivery.id)
        if "kind" not in where:
            stmt = stmt.where(Delivery.kind != "commands")
        for name, value in where.items():
            stmt = stmt.where(getattr(Delivery, name) == value)
        return list((await session.exec(stmt)).all())


async def test_relay_to_a_reporter_who_blocked_the_bot_tells_the_officer(bot, staff):  # noqa: F811
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    await act(officer, press=card, label="Nhắn người báo tin")
    citizen.user.block()
    preview = await act(officer, "Chào bạn, cán bộ đã đến nhà.")
    officer.mark()
    await officer.press(preview, "Gửi")
    sent, warning = await officer.replies(2)
    assert "Đã gửi tin nhắn" in sent.text  # saved on the case; delivery is the outbox's job
    assert "Không gửi được tin nhắn" in warning.text and "vẫn được lưu" in warning.text
    await officer.settle(quiet=0.5)
    relay = await _rows(bot, kind="relay")
    failure = await _rows(bot, kind="failure")
    assert [r.status for r in relay] == ["deactivated"]
    assert [(f.status, f.chat_id) for f in failure] == [("sent", OFFICER)]
    assert [c.method for c in bot.fake.forbidden] == ["sendMessage"]
    # The message stays on the case (the reporter sees it in /status once back).
    citizen.user.unblock()
    status = await act(citizen.user, f"/status {code}")
    assert "cán bộ đã đến nhà" in status.text


async def test_a_handler_that_fails_leaves_no_message_behind(bot, officer):
    """Outbox rows are written in the handler's transaction: when it fails, they are
    rolled back with everything else, and nobody is told of what did not happen."""

    async def refused(request) -> Reply:
        await outbox.add_messages([Delivery(kind="notice", chat_id=OFFICER, text="Vụ việc mới",
                                            due_at=request.now)], session=request.session)
        raise InvalidInput("choose_button")

    async def fails_at_commit(request) -> Reply:
        request.session.add(ProcessedUpdate(update_id=request.update.update_id,
                                            received_at=request.now))
        request.session.add(ProcessedUpdate(update_id=request.update.update_id,
                                            received_at=request.now))  # the same key twice
        return [Reply("Đã lưu", chat_id=None), Reply("Vụ việc mới", chat_id=OFFICER)]

    bot.application.add_handler(CommandHandler("refused", handles(refused)), group=-2)
    bot.application.add_handler(CommandHandler("broken", handles(fails_at_commit)), group=-2)
    admin = bot.user(ADMIN_ID, "Mai")
    officer.mark()
    admin.mark()
    await admin.send("/refused")
    answers = await admin.settle(quiet=0.5)
    assert any("trả lời bằng các nút" in m.text for m in answers)
    admin.mark()
    await admin.send("/broken")
    answers = await admin.settle(quiet=0.5)
    assert any("sự cố" in m.text for m in answers)  # the apology, not "Đã lưu"
    assert not any("Đã lưu" in m.text for m in answers)
    await asyncio.sleep(0.5)
    assert officer.unread() == []
    assert await _rows(bot, chat_id=OFFICER) == []
    bot.fake.violations.clear()


async def test_two_senders_send_each_row_once_and_in_order_per_chat(bot, officer):
    """Two instances' senders (their own instance ids, one database) work the same
    outbox at once: every row goes out exactly once, and one chat's rows in row order."""
    if bot.db.backend != "postgresql":
        pytest.skip("several instances need PostgreSQL; SQLite runs one")
    people = [bot.user(5000 + i, f"P{i}") for i in range(6)]
    for person in people:
        bot.fake.chats[person.id].started = True
    now = bot.clock.now()
    async with bot.db.session() as session:
        await outbox.add_messages([Delivery(kind="alert", chat_id=person.id, text=f"tin {n}",
                                            due_at=now)
                                   for n in range(5) for person in people], session=session)
    runtime = bot.runtime
    second_instance = Leadership(bot.db)  # alive: holds its own lock, standby
    await second_instance.start()
    try:
        assert runtime.leadership.active and not second_instance.active
        other = Sender(bot.application.bot, runtime, instance=second_instance.instance,
                       dead_claimers=second_instance.dead, concurrency=2)
        first, second = await asyncio.gather(runtime.outbox.run(), other.run())
    finally:
        await second_instance.stop()
    assert first.sent + second.sent == 30 and first.uncertain == second.uncertain == 0
    for person in people:
        texts = [m["text"] for m in person.chat.messages.values()]
        assert texts == [f"tin {n}" for n in range(5)], texts
    assert {r.status for r in await _rows(bot, kind="alert")} == {"sent"}


async def test_rows_left_sending_by_a_dead_instance_are_uncertain_and_never_resent(bot, officer):
    now = bot.clock.now()
    async with bot.db.session() as session:
        await outbox.add_messages([
            Delivery(kind="broadcast", chat_id=OFFICER, text="đang gửi khi bị tắt",
                     status="sending", claimed_by=12345, claimed_at=now, due_at=now),
            Delivery(kind="notice", chat_id=OFFICER, text="tin sau", due_at=now)],
            session=session)
    officer.mark()
    summary = await bot.runtime.outbox.run()
    assert summary.uncertain == 1 and summary.sent == 1
    assert [m.text for m in await officer.settle(quiet=0.3)] == ["tin sau"]
    statuses = [r.status for r in await _rows(bot, chat_id=OFFICER)]
    assert statuses == ["uncertain", "sent"]


async def test_a_notice_waits_for_older_messages_to_the_same_chat(bot, officer):
    """A notice poked at once still goes out after an older row of that chat."""
    now = bot.clock.now()
    async with bot.db.session() as session:
        older = await outbox.add_messages([Delivery(kind="digest", chat_id=OFFICER,
                                                    text="cũ", due_at=now + dt.timedelta(
                                                        seconds=1))], session=session)
        newer = await outbox.add_messages([Delivery(kind="notice", chat_id=OFFICER,
                                                    text="mới", due_at=now)], session=session)
    officer.mark()
    sender = bot.runtime.outbox
    poke = asyncio.create_task(sender.deliver(newer))
    await asyncio.sleep(0.3)
    assert officer.unread() == []  # "mới" waits behind "cũ"
    bot.clock.advance(dt.timedelta(seconds=2))
    await sender.deliver(older)
    await poke
    if (await _rows(bot, id=newer[0]))[0].status == "pending":
        # A very busy machine: the poke's patience ran out first; the periodic run (the
        # active instance's) sends it, still after the older row.
        await sender.deliver(newer)
    assert [m.text for m in await officer.replies(2)] == ["cũ", "mới"]


async def test_the_officer_is_told_within_a_second_of_the_citizens_send(bot, officer):
    """The notice is a row committed with the report, then sent at once by this
    instance: the officer hears of it as soon as the citizen has the tracking code."""
    officer.mark()
    thanks = await shortest_report(Reporter(bot.user(1001, "Lan")))
    answered = time.monotonic()
    notice = await officer.reply(timeout=1.0)
    assert "Mã theo dõi" in thanks.text and "Tin báo mới" in notice.text
    assert time.monotonic() - answered < 1.0
    await bot.runtime.outbox.wait_idle()  # the outcome is recorded just after the answer
    (row,) = await _rows(bot, chat_id=OFFICER)
    assert (row.kind, row.status) == ("notice", "sent")
