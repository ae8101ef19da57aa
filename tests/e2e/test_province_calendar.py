"""A province's calendar reaches its communes: Bình Thuận's plan (seed 004) sets 15/5 and 15/11
for its communes; xã Phú Long moves the 6-month report to "trước 10/5", xã Hàm Kiệm switches the
annual report off. Each commune's administrator gets what their commune's calendar says, once,
also after the province's file and a commune's file are imported again."""

from __future__ import annotations

import datetime as dt
import pathlib
import zoneinfo

from sqlmodel import select

from bot.jobs import plan_calendar, run_calendar_jobs
from domain.invites import deep_link_payload
from domain.roles import Role
from domain.setup_file import load_any_setup_file
from services.setup import create_invite_by_codes
from storage.models import Delivery
from storage.setup_import import import_province, import_setup
from tests.e2e.flows import outbox_drained

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
COMMUNE = """
[province]
code = "binh-thuan"
name = "Tỉnh Bình Thuận"

[commune]
code = "{code}"
name = "{name}"
on_duty_phone = "0252 3 800 000"
{events}
"""
# Phú Long names its recipient; Hàm Kiệm names none and sends to the province's
PHU_LONG = ('report_to = "Sở Y tế tỉnh Bình Thuận (Phòng Bảo trợ)"\n'
            '[[events]]\ncode = "bao-cao-6-thang"\ndate = "trước 10/5"\n')
HAM_KIEM = '[[events]]\ncode = "bao-cao-nam"\nactive = false\n'


async def _import(bot, path: pathlib.Path, now: dt.datetime) -> None:
    setup = load_any_setup_file(path)
    run = import_setup if hasattr(setup, "commune") else import_province
    async with bot.db.session() as session:
        await run(setup, session=session, now=now)


def _file(tmp_path, code: str, name: str, events: str) -> pathlib.Path:
    path = tmp_path / f"{code}.toml"
    path.write_text(COMMUNE.format(code=code, name=name, events=events), "utf-8")
    return path


async def _admin_of(bot, clock, commune: str, user_id: int, name: str):
    created = await create_invite_by_codes(bot.db, province="binh-thuan", commune=commune,
                                           role=Role.ADMIN, agency=None, village=None,
                                           ttl=dt.timedelta(days=2), now=clock.now())
    person = bot.user(user_id, name)
    person.mark()
    await person.start(deep_link_payload(created.code))
    await person.replies(2)  # the welcome and the menu
    await person.settle()
    person.mark()
    await person.send("/subscribe")
    await person.reply()
    await person.settle()
    return person


async def _ask(person, text: str) -> str:
    person.mark()
    await person.send(text)
    return (await person.reply()).text


async def _days(bot, clock, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
        await run_calendar_jobs(bot.application)
        await run_calendar_jobs(bot.application)  # a second run sends nothing twice
        day += dt.timedelta(days=1)
    await outbox_drained(bot)


async def test_two_communes_follow_their_province_each_its_own_way(bot, clock, tmp_path):
    now = clock.now()
    await _import(bot, EXAMPLES / "binh-thuan.toml", now)
    phu_long_file = _file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG)
    await _import(bot, phu_long_file, now)
    await _import(bot, _file(tmp_path, "ham-kiem", "Xã Hàm Kiệm", HAM_KIEM), now)
    phu_long = await _admin_of(bot, clock, "phu-long", 4101, "Lan")
    ham_kiem = await _admin_of(bot, clock, "ham-kiem", 4102, "Tùng")

    # What each calendar says, and where each event comes from
    year = await _ask(phu_long, "/calendar 2027")
    assert "09/05/2027 · Báo cáo 6 tháng công tác trẻ em (bao-cao-6-thang) · riêng của xã" in year
    assert "14/11/2027 · Báo cáo năm công tác trẻ em (bao-cao-nam) · theo lịch tỉnh" in year
    year = await _ask(ham_kiem, "/calendar 2027")
    assert "14/05/2027 · Báo cáo 6 tháng công tác trẻ em (bao-cao-6-thang) · theo lịch tỉnh" in year
    assert "Đang tắt (không nhắc): bao-cao-nam" in year
    shown = await _ask(phu_long, "/event bao-cao-6-thang")
    assert "trước 10/5" in shown and "Xã tự đặt (tệp thiết lập của xã)" in shown
    shown = await _ask(ham_kiem, "/event bao-cao-6-thang")
    assert "Sự kiện này theo lịch của tỉnh" in shown and "Sở Y tế tổng hợp" in shown

    # The 6-month reports: Phú Long by 9/5 (its own date), Hàm Kiệm by 14/5 (the province's)
    clock.set(dt.datetime(2027, 4, 20, 7, 0, tzinfo=HANOI))
    await plan_calendar(bot.runtime)
    phu_long.mark()
    ham_kiem.mark()
    await _days(bot, clock, dt.date(2027, 4, 20), dt.date(2027, 5, 3))
    # the commune's file imported again in the middle: nothing planned twice, nothing lost
    await _import(bot, phu_long_file, clock.now())
    await plan_calendar(bot.runtime)
    await _days(bot, clock, dt.date(2027, 5, 4), dt.date(2027, 5, 16))
    phu_texts = [m.text for m in phu_long.unread() if "Báo cáo 6 tháng" in m.text]
    ham_texts = [m.text for m in ham_kiem.unread() if "Báo cáo 6 tháng" in m.text]
    assert phu_texts and ham_texts
    # 14, 7, 3, 1 and 0 days before, moved to working days; Phú Long's 9/5 is a Sunday, so
    # its 1-day and 0-day reminders fall on Friday 7/5 together and only the later goes out
    assert (len(phu_texts), len(ham_texts)) == (4, 5)
    assert all("09/05/2027" in t and "14/05/2027" not in t for t in phu_texts)
    assert all("14/05/2027" in t for t in ham_texts)
    assert all("về Sở Y tế tỉnh Bình Thuận (Phòng Bảo trợ)" in t for t in phu_texts)
    assert all("về Sở Y tế tỉnh Bình Thuận (kế hoạch" in t for t in ham_texts)
    assert len(set(phu_texts)) == len(phu_texts) and len(set(ham_texts)) == len(ham_texts)

    # The province moves the annual report to "trước 12/11": Phú Long follows it; Hàm Kiệm
    # switched it off and stays off
    text = (EXAMPLES / "binh-thuan.toml").read_text("utf-8").replace(
        'date = "trước 15/11"', 'date = "trước 12/11"')
    moved = tmp_path / "binh-thuan.toml"
    moved.write_text(text, "utf-8")
    await _import(bot, moved, clock.now())
    await plan_calendar(bot.runtime)
    phu_long.mark()
    ham_kiem.mark()
    await _days(bot, clock, dt.date(2027, 10, 25), dt.date(2027, 11, 15))
    phu_year = [m.text for m in phu_long.unread() if "Báo cáo năm" in m.text]
    assert phu_year and all("11/11/2027" in t for t in phu_year)
    assert len(phu_year) == 5
    assert len(set(phu_year)) == len(phu_year)
    assert not any("Báo cáo năm" in m.text for m in ham_kiem.unread())
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(
            Delivery.reminder_id.is_not(None)))).all()
    assert len(rows) == len({(r.reminder_id, r.chat_id) for r in rows})


async def test_an_admin_overrides_an_inherited_event_and_follows_the_province_again(
        bot, clock, tmp_path):
    now = clock.now()
    await _import(bot, EXAMPLES / "binh-thuan.toml", now)
    await _import(bot, _file(tmp_path, "phu-long", "Xã Phú Long", 'report_to = "UBND xã"'), now)
    admin = await _admin_of(bot, clock, "phu-long", 4101, "Lan")
    done = await _ask(admin, "/event bao-cao-nam trước 1/12")
    assert "nay vào ngày trước 1/12" in done
    assert "Sự kiện này lấy từ lịch của tỉnh" in done
    assert "riêng của xã" in await _ask(admin, "/calendar 2027")
    # the province's file again: the commune's own date stays
    await _import(bot, EXAMPLES / "binh-thuan.toml", clock.now())
    assert "trước 1/12" in await _ask(admin, "/event bao-cao-nam")
    done = await _ask(admin, "/event bao-cao-nam theo tỉnh")
    assert "trước 15/11" in done and "theo lịch của tỉnh" in done
    assert "không có thay đổi nào" in await _ask(admin, "/event bao-cao-nam theo tỉnh")
