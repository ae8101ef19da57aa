"""The province's own deadlines in the database: events of the province unit written by its
file's import (idempotent, switched off when the file drops one), never in its communes'
calendars, released once to its active administrators and subscribed groups."""

from __future__ import annotations

import datetime as dt
import pathlib
import zoneinfo

from sqlmodel import select

from domain.setup_file import load_any_setup_file
from services import calendar as calendar_service
from storage.models import CalendarEvent, Delivery, Member, Reminder, Subscription, Unit
from storage.setup_import import import_province, import_setup
from tests.storage.test_province_calendar import commune_file

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
OWN = ("tinh-bao-cao-6-thang", "tinh-bao-cao-nam")


async def _import(db, path, now):
    setup = load_any_setup_file(path)
    run = import_setup if setup.__class__.__name__ == "CommuneSetupFile" else import_province
    async with db.session() as session:
        return await run(setup, session=session, now=now)


async def _province(session) -> Unit:
    return (await session.exec(select(Unit).where(Unit.code == "binh-thuan"))).one()


async def test_the_import_writes_the_provinces_own_deadlines_once(db, clock, tmp_path):
    now = clock.now()
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long"), now)
    assert not (await _import(db, EXAMPLES / "binh-thuan.toml", now)).changed
    async with db.session() as session:
        province = await _province(session)
        rows = (await session.exec(select(CalendarEvent).where(
            CalendarEvent.commune_id == province.id))).all()
        elsewhere = (await session.exec(select(CalendarEvent).where(
            CalendarEvent.commune_id != province.id, CalendarEvent.code.in_(OWN)))).all()
    assert {r.code: (r.date_rule, r.origin, r.active) for r in rows} == {
        "tinh-bao-cao-6-thang": ("trước 20/5", "province_own", True),
        "tinh-bao-cao-nam": ("trước 20/11", "province_own", True)}
    assert elsewhere == []

    # a file without the annual deadline switches that event off, and its planned reminders
    # go; importing it again changes nothing
    text = (EXAMPLES / "binh-thuan.toml").read_text("utf-8").replace(
        'report_year_by = "trước 20/11"\n', "")
    dropped = tmp_path / "binh-thuan.toml"
    dropped.write_text(text, "utf-8")
    async with db.session() as session:
        await calendar_service.plan_reminders(session=session, years=[2027], tz=HANOI, hour=8)
        await session.commit()
    summary = await _import(db, dropped, now)
    assert summary.deactivated == ["event:tinh-bao-cao-nam"]
    assert not (await _import(db, dropped, now)).changed
    async with db.session() as session:
        year = (await session.exec(select(CalendarEvent).where(
            CalendarEvent.code == "tinh-bao-cao-nam"))).one()
        left = (await session.exec(select(Reminder).where(Reminder.event_id == year.id))).all()
    assert not year.active and left == []


def _render(event, reminder, today, report_to):
    return f"{event.code} {reminder.lead_days} {report_to}"


async def _release(db, when: dt.datetime):
    async with db.session() as session:
        released = await calendar_service.release_due(session=session, now=when, tz=HANOI,
                                                      render=_render)
        await session.commit()
    return released


async def test_released_once_to_active_administrators_and_groups(db, clock):
    now = dt.datetime(2027, 4, 1, 9, 0, tzinfo=HANOI)
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    async with db.session() as session:
        province = await _province(session)
        for user_id, name in ((5101, "Hương"), (5102, "Minh")):
            session.add(Member(telegram_user_id=user_id, display_name=name, role="admin",
                               unit_id=province.id, joined_at=now))
        session.add(Subscription(chat_id=-100900, commune_id=province.id, kind="group",
                                 created_by=5101, created_at=now))
        await calendar_service.plan_reminders(session=session, years=[2027], tz=HANOI, hour=8)
        await session.commit()
        province_id = province.id

    first = dt.datetime(2027, 5, 5, 8, 0, tzinfo=HANOI)  # 14 days before 19/5
    (done,) = await _release(db, first)
    assert done.deliveries == 3 and done.reminder.text == (
        "tinh-bao-cao-6-thang 14 Ủy ban nhân dân tỉnh và Bộ Y tế")
    assert await _release(db, first) == []  # a second run, another instance: nothing

    # Minh is no longer an administrator of the province: the next reminder skips him
    async with db.session() as session:
        minh = (await session.exec(select(Member).where(Member.telegram_user_id == 5102))).one()
        minh.active = False
        await session.commit()
    (done,) = await _release(db, dt.datetime(2027, 5, 12, 8, 0, tzinfo=HANOI))
    assert done.deliveries == 2
    async with db.session() as session:
        rows = (await session.exec(select(Delivery).where(
            Delivery.reminder_id.is_not(None)))).all()
        subs = (await session.exec(select(Subscription).where(
            Subscription.commune_id == province_id))).all()
    assert sorted(r.chat_id for r in rows) == [-100900, -100900, 5101, 5101, 5102]
    assert len(subs) == 3  # one row per administrator, made once
