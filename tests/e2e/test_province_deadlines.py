"""The province's own deadlines up (seed 004: the Sở Y tế reports to the UBND tỉnh and the Bộ
Y tế "trước 20/5" and "trước 20/11"): Bình Thuận's administrators are reminded of them once,
on the usual lead days, with jobs run twice; its communes are not; the province's /deadlines
shows its own deadlines and when its communes send their reports (15/5, 15/11)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.fakeapi import FakeGroup
from bot.jobs import plan_calendar, run_calendar_jobs
from domain.invites import deep_link_payload
from domain.roles import Role
from services.setup import create_invite_by_codes
from storage.models import CalendarEvent, Delivery, Reminder
from tests.e2e.flows import outbox_drained
from tests.e2e.test_province_calendar import EXAMPLES, HANOI, _admin_of, _ask, _file, _import


async def _province_admin(bot, clock, user_id: int, name: str):
    created = await create_invite_by_codes(bot.db, province="binh-thuan", commune=None,
                                           role=Role.ADMIN, agency=None, village=None,
                                           ttl=dt.timedelta(days=2), now=clock.now())
    person = bot.user(user_id, name)
    person.mark()
    await person.start(deep_link_payload(created.code))
    _welcome, menu = await person.replies(2)
    await person.settle()
    return person, menu


def _province_own(text: str) -> bool:
    return "Báo cáo 6 tháng của tỉnh" in text or "Báo cáo năm của tỉnh" in text


async def _days(bot, clock, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
        await run_calendar_jobs(bot.application)
        await run_calendar_jobs(bot.application)  # a second run sends nothing twice
        day += dt.timedelta(days=1)


async def test_the_province_is_reminded_of_its_own_deadlines_and_sees_the_communes(
        bot, clock, tmp_path):
    clock.set(dt.datetime(2027, 4, 1, 9, 0, tzinfo=HANOI))
    await _import(bot, EXAMPLES / "binh-thuan.toml", clock.now())
    await _import(bot, _file(tmp_path, "ham-kiem", "Xã Hàm Kiệm", ""), clock.now())
    commune_admin = await _admin_of(bot, clock, "ham-kiem", 4201, "Tùng")
    so_y_te, menu = await _province_admin(bot, clock, 4301, "Hương")
    away, _menu = await _province_admin(bot, clock, 4302, "Minh")
    # one administrator does not want the reminders in the chat, before any was sent
    assert "Đã dừng nhắc" in await _ask(away, "/unsubscribe")
    # the Sở Y tế's group: the province's own deadlines, no agency to choose; twice is once
    group = FakeGroup(bot.fake, -100700, "Phòng Bảo trợ xã hội - Sở Y tế")
    for _ in range(2):
        group.mark()
        await group.send(so_y_te, "/subscribe")
        assert "Nhóm này sẽ nhận lời nhắc các hạn báo cáo của tỉnh" in (await group.reply()).text

    # /deadlines: the province's own deadlines, then when the communes send theirs
    shown = await _ask(so_y_te, "/deadlines")
    assert "Báo cáo 6 tháng của tỉnh" in shown and "19/05/2027" in shown
    assert "về Ủy ban nhân dân tỉnh và Bộ Y tế" in shown
    assert "kế hoạch ghi “trước 20/5”, nên ngày 20/05/2027 là đã muộn" in shown
    assert "Báo cáo năm của tỉnh" in shown
    assert "Các xã gửi báo cáo: Báo cáo 6 tháng công tác trẻ em" in shown
    assert "14/05/2027" in shown and "kế hoạch ghi “trước 15/5”" in shown
    assert "Báo cáo từ các xã" in shown
    assert shown.index("Báo cáo 6 tháng của tỉnh") < shown.index("Các xã gửi báo cáo")
    # the menu's button shows the same (it used to refuse a province's administrator)
    so_y_te.mark()
    await so_y_te.press(menu, "📅 Hạn báo cáo và sự kiện")
    assert (await so_y_te.reply()).text == shown
    # the commune's /deadlines has its own report, not the province's
    theirs = await _ask(commune_admin, "/deadlines")
    assert "Báo cáo 6 tháng công tác trẻ em" in theirs and not _province_own(theirs)
    year = await _ask(so_y_te, "/calendar 2027")
    assert "19/05/2027 · Báo cáo 6 tháng của tỉnh (tinh-bao-cao-6-thang) · hạn của tỉnh" in year
    assert "19/11/2027 · Báo cáo năm của tỉnh (tinh-bao-cao-nam)" in year
    assert "tinh-bao-cao" not in await _ask(commune_admin, "/calendar 2027")

    # 20/4–21/5/2027, every day's jobs run twice
    clock.set(dt.datetime(2027, 4, 20, 7, 0, tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    await plan_calendar(bot.runtime)
    for chat in (so_y_te, away, commune_admin, group):
        chat.mark()
    await _days(bot, clock, dt.date(2027, 4, 20), dt.date(2027, 5, 21))
    await outbox_drained(bot)
    got = so_y_te.unread()
    own = [m.text for m in got if "Báo cáo 6 tháng của tỉnh" in m.text]
    # 14, 7, 3, 1 and 0 days before 19/5 (3 days before is a Sunday: Friday 14/5), once each
    assert len(own) == 5 and len(set(own)) == 5
    assert all("19/05/2027" in t and "Ủy ban nhân dân tỉnh và Bộ Y tế" in t for t in own)
    assert all("các xã gửi “trước 15/5”" in t for t in own)
    assert "còn 14 ngày" in own[0] and "hôm nay" in own[-1]
    # the province's administrator is not sent the communes' reminders; the commune's is
    # not sent the province's
    assert not any("Báo cáo 6 tháng công tác trẻ em" in m.text for m in got)
    theirs = [m.text for m in commune_admin.unread()]
    assert any("Báo cáo 6 tháng công tác trẻ em" in t for t in theirs)
    assert not any(_province_own(t) for t in theirs)
    assert not any(_province_own(m.text) for m in away.unread())

    async with bot.db.session() as session:
        province_events = (await session.exec(select(CalendarEvent.id).where(
            CalendarEvent.code.like("tinh-%")))).all()
        released = (await session.exec(select(Reminder).where(
            Reminder.event_id.in_(province_events), Reminder.status == "released"))).all()
        rows = (await session.exec(select(Delivery).where(
            Delivery.reminder_id.in_([r.id for r in released])))).all()
    assert len(province_events) == 2 and len(released) == 5
    assert sorted(r.chat_id for r in rows) == [-100700] * 5 + [4301] * 5
    in_group = [m.text for m in group.unread()]
    assert sorted(in_group) == sorted(own)

    # The province's file imported again with the 6-month deadline "trước 18/5": its next
    # year's reminders follow; the sent ones stay sent
    moved = tmp_path / "binh-thuan.toml"
    moved.write_text((EXAMPLES / "binh-thuan.toml").read_text("utf-8").replace(
        'report_6m_by = "trước 20/5"', 'report_6m_by = "trước 18/5"'), "utf-8")
    await _import(bot, moved, clock.now())
    await _import(bot, moved, clock.now())
    await plan_calendar(bot.runtime)
    shown = await _ask(so_y_te, "/deadlines")
    assert "17/05/2028" in shown and "kế hoạch ghi “trước 18/5”" in shown
    async with bot.db.session() as session:
        kept = (await session.exec(select(Reminder).where(
            Reminder.event_id.in_(province_events), Reminder.year.in_([2027, 2028]),
            Reminder.starts_on < dt.date(2028, 1, 1)))).all()
        planned = (await session.exec(select(Reminder).where(
            Reminder.event_id.in_(province_events), Reminder.year == 2028,
            Reminder.status == "planned"))).all()
    assert sum(r.status == "released" for r in kept) == 5  # sent stay sent
    assert {r.starts_on for r in planned if r.starts_on.month == 5} == {dt.date(2028, 5, 17)}
