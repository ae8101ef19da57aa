"""Deadlines and reminders: officers ask, agencies subscribe, a year of reminders goes out
on the right days exactly once, broadcasts survive 429s and blocked chats."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from sqlmodel import col, select

from bot.fakeapi import FakeGroup
from bot.fakeapi.driver import wait_until
from bot.jobs import plan_calendar, run_calendar_jobs
from domain.calendar import DateRule, EventKind, EventSpec, Recipient, matches, reminder_days
from domain.roles import AgencyKind
from storage.models import Agency, CalendarEvent, Delivery, Subscription
from tests.conftest import ADMIN_ID
from tests.e2e.flows import (
    COMMUNE_ADMIN_ROLE,
    OFFICER_ROLE,
    join_all,
)

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def people(bot):
    """The install admin, a commune admin and an officer, all joined through invitations."""
    admin, officer = await join_all(bot, (3001, "Quang", COMMUNE_ADMIN_ROLE),
                                    (2001, "Hùng", OFFICER_ROLE))
    return bot.user(ADMIN_ID, "Mai"), admin, officer


async def test_deadlines_in_the_next_60_days(bot, people):
    _root, _admin, officer = people
    officer.mark()
    await officer.send("/deadlines")
    (answer,) = await officer.replies(1)
    assert "Hạn báo cáo và sự kiện trong 60 ngày tới" in answer.text
    # 23/11/2026: the gender-equality month is under way, micronutrient day 2 on 1/12.
    assert "bình đẳng giới" in answer.text and "đang diễn ra đến 15/12/2026" in answer.text
    assert "Thứ Ba, ngày 01/12/2026" in answer.text and "còn 8 ngày" in answer.text
    # 14/11/2026 is past: the next annual report is a year away and still shown, first.
    # "Báo cáo năm trước ngày 15/11": the last day is 14/11/2027, a Sunday, so the message
    # names the Friday before as the last working day.
    assert answer.text.index("Hạn báo cáo sắp tới") < answer.text.index("Báo cáo 6 tháng")
    assert "Chủ nhật, ngày 14/11/2027" in answer.text
    assert "ngày 15/11/2027 là đã muộn" in answer.text and "Thứ Sáu, ngày 12/11/2027" in answer.text
    citizen = bot.user(1001, "Lan")
    citizen.mark()
    await citizen.send("/deadlines")
    assert "không có quyền" in (await citizen.reply()).text


async def test_deadlines_always_show_the_next_report_deadlines(bot, people, clock):
    """On 2 December both reports are months away; they still come first, then the events
    of the next 60 days (the gender-equality month, the micronutrient days…)."""
    _root, _admin, officer = people
    clock.set(dt.datetime(2026, 12, 2, 9, 0, tzinfo=HANOI))
    officer.mark()
    await officer.send("/deadlines")
    (answer,) = await officer.replies(1)
    text = answer.text
    six_months = text.index("Báo cáo 6 tháng công tác trẻ em")
    annual = text.index("Báo cáo năm công tác trẻ em")
    window = text.index("Hạn báo cáo và sự kiện trong 60 ngày tới")
    assert six_months < annual < window < text.index("bình đẳng giới")
    # "trước ngày 20/5" and "trước ngày 15/11": the last days are 19/5 and 14/11.
    assert "Thứ Tư, ngày 19/05/2027 · còn 168 ngày" in text
    assert "Chủ nhật, ngày 14/11/2027" in text
    assert text.count("Báo cáo năm công tác trẻ em") == 1


async def test_year_calendar_and_event_change_by_admin_only(bot, people):
    _root, admin, officer = people
    officer.mark()
    await officer.send("/calendar 2027")
    (year,) = await officer.replies(1)
    assert "Lịch năm 2027" in year.text and "25/09/2027" not in year.text
    assert "15/09/2027 · Tết Trung thu" in year.text  # 15/8 âm lịch 2027
    officer.mark()
    await officer.send("/event bao-cao-nam 20/11")
    assert "không có quyền" in (await officer.reply()).text
    admin.mark()
    await admin.send("/event bao-cao-nam ngày mai")
    assert "Không đọc được ngày này" in (await admin.reply()).text
    admin.mark()
    await admin.send("/event bao-cao-nam 20/11")
    done = await admin.reply()
    assert "nay vào ngày 20/11" in done.text and "Thứ Bảy, ngày 20/11/2027" in done.text
    async with bot.db.session() as session:
        event = (await session.exec(select(CalendarEvent).where(
            CalendarEvent.code == "bao-cao-nam"))).one()
    assert event.date_rule == "20/11"


async def test_subscribe_a_group_for_an_agency(bot, people):
    _root, _admin, officer = people
    group = FakeGroup(bot.fake, -100500, "Trạm Y tế xã Minh Tân")
    stranger = bot.user(1002, "Nam")
    group.mark()
    await group.send(stranger, "/subscribe")
    assert "không có quyền" in (await group.reply()).text
    group.mark()
    await group.send(officer, "/subscribe")
    choose = await group.reply()
    assert "Nhóm này của cơ quan nào" in choose.text
    group.mark()
    await officer.press(choose, "Trạm Y tế xã")
    done = await group.reply()
    assert "Trạm Y tế xã" in done.text
    async with bot.db.session() as session:
        sub = (await session.exec(select(Subscription))).one()
    assert sub.chat_id == -100500 and sub.agency_kind == "health" and sub.kind == "group"
    group.mark()
    await group.send(officer, "/unsubscribe")
    assert "Đã dừng" in (await group.reply()).text


def _expected_days(spec: EventSpec, first: dt.date, last: dt.date) -> set[dt.date]:
    """Days a reminder of `spec` goes out between first and last (one per day at most)."""
    days = set()
    for year in range(first.year - 1, last.year + 1):
        for _lead, day in reminder_days(spec, year):
            if first <= day <= last:  # a reminder due before one subscribed never comes
                days.add(day)
    return days


@pytest.mark.time_scale(50)
async def test_a_year_of_reminders_on_the_right_days_exactly_once(bot, people, clock):
    _root, _admin, officer = people
    # Subscribed before the first day's 08:00 reminders (older ones never come).
    clock.set(dt.datetime.combine(clock.now().astimezone(HANOI).date(), dt.time(7, 0),
                                  tzinfo=HANOI))
    officer.mark()
    await officer.send("/subscribe")
    await officer.reply()
    group = FakeGroup(bot.fake, -100600, "Trạm Y tế")
    await group.send(officer, "/subscribe")
    choose = await group.reply()
    await officer.press(choose, "Trạm Y tế xã")
    await group.reply()
    officer.mark()
    group.mark()

    async with bot.db.session() as session:
        events = (await session.exec(select(CalendarEvent))).all()
    specs = {e.code: EventSpec(e.code, e.name, EventKind(e.kind), DateRule.parse(e.date_rule),
                               tuple(e.lead_days), tuple(e.audience)) for e in events}
    first = clock.now().astimezone(HANOI).date()
    last = first + dt.timedelta(days=365)
    expected = {"officer": set(), "group": set()}
    for code, spec in specs.items():
        for who, recipient in (("officer", Recipient(role="officer")),
                               ("group", Recipient(agency_kind="health"))):
            if matches(spec.audience, recipient):
                expected[who] |= {(code, day) for day in _expected_days(spec, first, last)}

    got = {"officer": [], "group": []}
    by_name = {e.name: e.code for e in events}
    day = first
    clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    while day <= last:
        clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
        if day.month == 1 and day.day == 1:
            await plan_calendar(bot.runtime)  # the hourly job does this in production
        await run_calendar_jobs(bot.application)
        await run_calendar_jobs(bot.application)  # a second run the same day sends nothing
        for who, chat in (("officer", officer), ("group", group)):
            for message in chat.unread():
                name = message.text.splitlines()[0].removeprefix("⏰ Hạn: ").removeprefix("📅 ")
                got[who].append((by_name[name], day))
        day += dt.timedelta(days=1)

    for who in ("officer", "group"):
        assert len(got[who]) == len(set(got[who])), f"duplicates for {who}"
        assert set(got[who]) == expected[who], who
    assert len(got["officer"]) > 20 and len(got["group"]) > 20
    async with bot.db.session() as session:
        statuses = {d.status for d in (await session.exec(select(Delivery))).all()}
    assert statuses == {"sent"}


async def test_deadline_reminder_button_shows_the_report_figures(bot, people, clock):
    _root, _admin, officer = people
    officer.mark()
    await officer.send("/subscribe")
    await officer.reply()
    # "trước ngày 20/5": the last day is 19/5/2027; its 14-day reminder goes out on 5/5.
    clock.set(dt.datetime(2027, 5, 5, 8, 0, tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    officer.mark()
    await run_calendar_jobs(bot.application)
    reminders = officer.unread()
    deadline = next(m for m in reminders if "Báo cáo 6 tháng" in m.text)
    assert "Thứ Tư, ngày 19/05/2027" in deadline.text and "còn 14 ngày" in deadline.text
    assert "Hạn cuối để gửi: Thứ Tư, ngày 19/05/2027" in deadline.text
    assert "gửi Sở Y tế tỉnh Ninh Bình" in deadline.text  # the commune's report_to
    officer.mark()
    await officer.press(deadline, "Số liệu cho báo cáo này")
    sent = officer.chat.messages.values
    await wait_until(lambda: sum("document" in m for m in sent()) >= 2
                     and any("Đã xong" in (m.get("text") or "") for m in sent()), timeout=30)
    messages = officer.unread()
    # The report appendix for that report's period (tests/e2e/test_stats.py checks its cells).
    assert "Đã xong tệp số liệu" in messages[0].text
    names = [m.raw["document"]["file_name"] for m in messages if "document" in m.raw]
    assert names == ["so-lieu-minh-tan-20261115-20270514.xlsx",
                     "so-lieu-minh-tan-20261115-20270514.csv"]


@pytest.mark.time_scale(1)  # real windows: the bot must really outpace the fake's 5/s
async def test_broadcast_with_429_and_a_blocked_chat(bot, people):
    _root, admin, _officer = people
    subscribers = []
    for i in range(25):
        person = bot.user(7000 + i, f"Người {i}")
        subscribers.append(person)
    async with bot.db.session() as session:
        commune = (await session.exec(select(CalendarEvent))).first().commune_id
        for person in subscribers:
            session.add(Subscription(chat_id=person.id, commune_id=commune, kind="person",
                                     role="officer", created_by=ADMIN_ID,
                                     created_at=bot.clock.now()))
            bot.fake.chats[person.id].started = True
    subscribers[3].block()
    # Telegram allows 30/s; here only 5/s so the bot meets 429s and must wait them out (at
    # 10/s a CI machine at half its usual speed sent no faster than that: no 429, and the
    # test did not test what it is for).
    bot.fake.limits.global_per_second = 5
    admin.mark()
    await admin.send("/broadcast")
    await admin.reply()
    admin.mark()
    await admin.send("Họp giao ban công tác trẻ em lúc 14h thứ Sáu tại hội trường xã <b>")
    (audience,) = await admin.replies(1)
    await admin.press(audience, "Tất cả nơi đã đăng ký")
    preview, ask = await admin.replies(2)
    assert preview.text.endswith("<b>") and "25 cuộc trò chuyện" in ask.text
    admin.mark()
    await admin.press(ask, "Gửi ngay")

    def summary() -> str:  # the outbox's summary row (the progress message ends "25/25")
        return next((admin.message(mid).text for mid in admin.chat.messages
                     if "thành công" in admin.message(mid).text), "")

    await wait_until(lambda: summary(), timeout=60)
    assert "Đã gửi xong: 24 thành công" in summary() and "1 nơi đã chặn" in summary()
    await wait_until(lambda: "Đã gửi xong: 25/25" in admin.message(ask.message_id).text)
    for i, person in enumerate(subscribers):
        texts = [m["text"] for m in person.chat.messages.values()
                 if m.get("from", {}).get("id") == bot.fake.bot_id]
        assert len(texts) == (0 if i == 3 else 1), (i, texts)
    assert any(c.status == 429 for c in bot.fake.violations)  # the limit was really hit
    bot.fake.violations.clear()
    async with bot.db.session() as session:
        blocked = (await session.exec(select(Subscription).where(
            Subscription.chat_id == subscribers[3].id))).one()
    assert not blocked.active and blocked.deactivated_reason == "forbidden"


async def test_a_new_subscriber_gets_no_reminder_older_than_itself(bot, people, clock):
    """The gender-equality month began on 15/11; a group subscribing on 2/12 is not sent
    that reminder 17 days late, but gets the next one when it is due."""
    _root, _admin, officer = people
    clock.set(dt.datetime(2026, 12, 2, 9, 0, tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    group = FakeGroup(bot.fake, -100700, "Trạm Y tế")
    await group.send(officer, "/subscribe")
    await officer.press(await group.reply(), "Trạm Y tế xã")
    await group.reply()
    group.mark()
    await run_calendar_jobs(bot.application)
    assert group.unread() == []
    async with bot.db.session() as session:
        skipped = (await session.exec(select(Delivery).where(
            col(Delivery.reminder_id).is_not(None)))).all()
    assert skipped == []
    clock.set(dt.datetime(2027, 5, 18, 8, 0, tzinfo=HANOI))  # 14 days before 1/6
    await plan_calendar(bot.runtime)
    await run_calendar_jobs(bot.application)
    assert any("Tháng hành động vì trẻ em" in m.text for m in group.unread())


async def test_a_group_chooses_among_many_agencies_on_short_buttons(bot, people):
    """Long agency names get short numbered buttons with the full names in the message;
    more agencies than fit come a page at a time, in Vietnamese order."""
    _root, _admin, officer = people
    async with bot.db.session() as session:
        commune_id = (await session.exec(select(CalendarEvent))).first().commune_id
        for i in range(1, 26):
            session.add(Agency(commune_id=commune_id, code=f"truong-{i}", kind=AgencyKind.SCHOOL,
                               name=f"Trường Tiểu học và Trung học cơ sở số {i}"))
    group = FakeGroup(bot.fake, -100800, "Trường số 12")
    group.mark()
    await group.send(officer, "/subscribe")
    choose = await group.reply()
    labels = [b["text"] for b in choose.buttons]
    assert all(len(label) <= 30 for label in labels), labels
    assert labels[0].startswith("1. Các cơ sở giáo dục")  # "Các" before "Công an" before "Ủy"
    assert "Ủy ban Mặt trận Tổ quốc Việt Nam xã" not in choose.text  # on a later page
    assert "1. Các cơ sở giáo dục trên địa bàn" in choose.text
    texts, page = [choose.text], choose
    while any("Trang sau" in b["text"] for b in page.buttons):
        group.mark()
        await officer.press(page, "Trang sau")
        page = await group.reply()
        texts.append(page.text)
    assert len(texts) == 4 and page.message_id == choose.message_id  # edited in place
    assert "33. Ủy ban Mặt trận Tổ quốc Việt Nam xã" in texts[-1]
    assert any("Trường Tiểu học và Trung học cơ sở số 12" in text for text in texts[1:3])
    group.mark()
    await officer.press(page, "Ủy ban Mặt trận")
    assert "Ủy ban Mặt trận Tổ quốc Việt Nam xã" in (await group.reply()).text
