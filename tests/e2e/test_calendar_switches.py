"""/event beyond the date: an administrator switches an event off and on, changes its
reminder days, audience and message, sets a monthly rule; others are refused, bad input is
explained. A switched-off event sends nothing; the others still go out exactly once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from sqlmodel import select

from bot.jobs import plan_calendar, run_calendar_jobs
from storage.models import CalendarEvent, Delivery, Reminder, Unit
from tests.conftest import ADMIN_ID
from tests.e2e.flows import (
    COMMUNE_ADMIN_ROLE,
    OFFICER_ROLE,
    join_all,
)

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def people(bot):
    admin, officer = await join_all(bot, (3001, "Quang", COMMUNE_ADMIN_ROLE),
                                    (2001, "Hùng", OFFICER_ROLE))
    return bot.user(ADMIN_ID, "Mai"), admin, officer


async def _event(bot, code: str) -> CalendarEvent:
    async with bot.db.session() as session:
        return (await session.exec(select(CalendarEvent).where(
            CalendarEvent.code == code))).one()


async def _say(person, text: str) -> str:
    person.mark()
    await person.send(text)
    return (await person.reply()).text


async def test_admin_switches_an_event_off_and_it_is_never_sent(bot, people, clock):
    _root, admin, officer = people
    assert "không có quyền" in await _say(officer, "/event quoc-te-thieu-nhi tắt")
    assert (await _event(bot, "quoc-te-thieu-nhi")).active
    assert "Không có sự kiện nào mang mã “khong-co”" in await _say(admin, "/event khong-co tắt")
    assert "“bật” để bật lại" in await _say(admin, "/event")  # the help
    done = await _say(admin, "/event quoc-te-thieu-nhi Tắt")
    assert "đã tắt “Ngày Quốc tế thiếu nhi”" in done
    assert not (await _event(bot, "quoc-te-thieu-nhi")).active
    year = await _say(officer, "/calendar 2027")
    assert "Đang tắt (không nhắc): quoc-te-thieu-nhi" in year
    assert "01/06/2027 · Ngày Quốc" not in year
    await _say(officer, "/subscribe")
    # 18/5/2027: 14 days before 1/6; the children's day (7 days before) would be due 25/5.
    for day in (18, 25, 26):
        clock.set(dt.datetime(2027, 5, day, 8, 0, tzinfo=HANOI))
        await plan_calendar(bot.runtime)
        await run_calendar_jobs(bot.application)
        await run_calendar_jobs(bot.application)  # a second run sends nothing twice
    texts = [m.text for m in officer.unread()]
    assert not any("Quốc tế thiếu nhi" in t for t in texts)
    action_month = [t for t in texts if "Tháng hành động vì trẻ em" in t]
    assert len(action_month) == 2  # 14 days and 7 days before 1/6, each once
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(
            Delivery.reminder_id.is_not(None)))).all()
    assert len(rows) == len({(r.reminder_id, r.chat_id) for r in rows})
    # Switched on again: its reminders are planned and the next one goes out.
    assert "đã bật lại" in await _say(admin, "/event quoc-te-thieu-nhi bật")
    officer.mark()
    clock.set(dt.datetime(2027, 6, 1, 8, 0, tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    await run_calendar_jobs(bot.application)
    assert sum("Quốc tế thiếu nhi" in m.text for m in officer.unread()) == 1


async def test_admin_changes_reminder_days_audience_message_and_rule(bot, people, clock):
    _root, admin, officer = people
    assert "không có quyền" in await _say(officer, "/event bao-cao-nam nhắc 3 0")
    assert "tối đa 10 số nguyên" in await _say(admin, "/event bao-cao-nam nhắc ba ngày")
    assert "tối đa 10 số nguyên" in await _say(admin, "/event bao-cao-nam nhắc 99")
    done = await _say(admin, "/event bao-cao-nam nhắc 10, 3 0")
    assert "trước 10, 3, 0 ngày" in done
    assert (await _event(bot, "bao-cao-nam")).lead_days == [10, 3, 0]
    assert "loại cơ quan" in await _say(admin, "/event bao-cao-nam gửi cho <b>benh-vien</b>")
    done = await _say(admin, "/event bao-cao-nam gửi cho culture_social officer")
    assert "được gửi tới: Văn hóa - Xã hội, Cán bộ làm công tác bảo vệ trẻ em" in done
    assert (await _event(bot, "bao-cao-nam")).audience == ["culture_social", "officer"]
    assert "sau chữ “nội dung”" in await _say(admin, "/event bao-cao-nam nội dung")
    too_long = await _say(admin, "/event bao-cao-nam nội dung " + "rất dài " * 250)
    assert "tối đa 1.500 ký tự" in too_long
    done = await _say(admin, "/event bao-cao-nam nội dung Gửi báo cáo năm <b>về</b> {report_to}.")
    # the admin's text is shown as typed (escaped), with the commune's recipient filled in
    assert "Gửi báo cáo năm <b>về</b> Sở Y tế tỉnh Ninh Bình." in done
    assert "<b>về</b>" in (await _event(bot, "bao-cao-nam")).message
    assert "Không đọc được ngày này" in await _say(admin, "/event bao-cao-nam ngày mai")
    assert "cuối tháng N âm lịch" in await _say(admin, "/event trung-thu 30/8 âm lịch")
    done = await _say(admin, "/event trung-thu cuối tháng 8 âm lịch")
    assert "Xong" in done
    # Hà Trung's reading: the commune's recipient, by 01/12.
    async with bot.db.session() as session:
        commune = await session.get(Unit, (await _event(bot, "bao-cao-nam")).commune_id)
        commune.report_to = "Phòng Lao động - Thương binh và Xã hội huyện Hà Trung"
        session.add(commune)
        await session.commit()
    await _say(admin, "/event bao-cao-nam trước 1/12")
    await _say(officer, "/subscribe")
    clock.set(dt.datetime(2027, 11, 20, 8, 0, tzinfo=HANOI))  # 10 days before 30/11/2027
    await plan_calendar(bot.runtime)
    officer.mark()
    await run_calendar_jobs(bot.application)
    (reminder,) = [m for m in officer.unread() if "Báo cáo năm" in m.text]
    assert "Thứ Ba, ngày 30/11/2027" in reminder.text and "còn 10 ngày" in reminder.text
    assert "Phòng Lao động - Thương binh và Xã hội huyện Hà Trung" in reminder.text
    assert "Sở Y tế" not in reminder.text


async def test_a_monthly_check_goes_out_each_month_once(bot, people, clock):
    _root, admin, officer = people
    assert "Xong" in await _say(admin, "/event gia-dinh-viet-nam ngày 25 hằng tháng")
    assert "Xong" in await _say(admin, "/event gia-dinh-viet-nam nhắc 0")
    await _say(officer, "/subscribe")
    officer.mark()
    for month in (1, 2, 3):
        clock.set(dt.datetime(2027, month, 25, 9, 0, tzinfo=HANOI))
        await plan_calendar(bot.runtime)
        await run_calendar_jobs(bot.application)
        await run_calendar_jobs(bot.application)
    texts = [m.text for m in officer.unread() if "Ngày Gia đình Việt Nam" in m.text]
    # 25/1/2027 (Mon), 25/2 (Thu), 25/3 (Thu): one each
    assert len(texts) == 3, texts
    async with bot.db.session() as session:
        event = await _event(bot, "gia-dinh-viet-nam")
        seqs = (await session.exec(select(Reminder.seq).where(
            Reminder.event_id == event.id, Reminder.year == 2027))).all()
    assert sorted(seqs) == list(range(1, 13))
