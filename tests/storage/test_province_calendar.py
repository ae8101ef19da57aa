"""A province's calendar in the database: its communes inherit it, keep their own changes
across re-imports of either file, and the province's figures count to its own deadlines."""

from __future__ import annotations

import datetime as dt
import pathlib

from sqlmodel import select

from domain.periods import PeriodKind
from domain.roles import Actor, Role, UnitKind, UnitScope
from domain.setup_file import load_any_setup_file
from services import calendar as calendar_service
from services import stats as stats_service
from storage.models import CalendarEvent, Unit
from storage.setup_import import import_province, import_setup

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def commune_file(tmp_path: pathlib.Path, code: str, name: str, events: str = "") -> pathlib.Path:
    path = tmp_path / f"{code}.toml"
    path.write_text(f"""
[province]
code = "binh-thuan"
name = "Tỉnh Bình Thuận"

[commune]
code = "{code}"
name = "{name}"
on_duty_phone = "0252 3 800 000"
report_to = "Sở Y tế tỉnh Bình Thuận"
{events}
""", "utf-8")
    return path


PHU_LONG_OWN = """
[[events]]
code = "bao-cao-6-thang"
date = "trước 10/5"
"""
HAM_KIEM_OFF = """
[[events]]
code = "bao-cao-nam"
active = false
"""


async def _import(db, path, now):
    setup = load_any_setup_file(path)
    run = import_setup if setup.__class__.__name__ == "CommuneSetupFile" else import_province
    async with db.session() as session:
        return await run(setup, session=session, now=now)


async def _events(db, code: str) -> dict[str, CalendarEvent]:
    async with db.session() as session:
        commune = (await session.exec(select(Unit).where(Unit.code == code))).one()
        rows = (await session.exec(select(CalendarEvent).where(
            CalendarEvent.commune_id == commune.id))).all()
    return {row.code: row for row in rows}


async def _unit(db, code: str) -> Unit:
    async with db.session() as session:
        return (await session.exec(select(Unit).where(Unit.code == code))).one()


async def test_communes_inherit_override_and_switch_off(db, clock, tmp_path):
    now = clock.now()
    # a commune imported before its province's calendar exists gets it when it comes
    await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG_OWN), now)
    assert (await _events(db, "phu-long"))["bao-cao-nam"].date_rule == "trước 15/11"
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    await _import(db, commune_file(tmp_path, "ham-kiem", "Xã Hàm Kiệm", HAM_KIEM_OFF), now)
    phu_long, ham_kiem = await _events(db, "phu-long"), await _events(db, "ham-kiem")
    six = phu_long["bao-cao-6-thang"]
    assert (six.date_rule, six.origin, six.own) == ("trước 10/5", "commune",
                                                    {"file": {"date": "trước 10/5"}})
    assert "để Sở Y tế tổng hợp" in six.message  # the province's message, the commune's date
    assert phu_long["bao-cao-nam"].origin == "province"
    assert phu_long["trung-thu"].origin == "province" and phu_long["sua-me"].origin == "default"
    assert ham_kiem["bao-cao-6-thang"].date_rule == "trước 15/5"
    assert not ham_kiem["bao-cao-nam"].active and ham_kiem["bao-cao-nam"].origin == "commune"
    # importing each file again changes nothing
    assert not (await _import(db, EXAMPLES / "binh-thuan.toml", now)).changed
    again = await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG_OWN),
                          now)
    assert not again.changed


async def test_reimports_keep_what_belongs_to_the_other_file(db, clock, tmp_path):
    now = clock.now()
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    phu_long_file = commune_file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG_OWN)
    await _import(db, phu_long_file, now)
    await _import(db, commune_file(tmp_path, "ham-kiem", "Xã Hàm Kiệm", HAM_KIEM_OFF), now)
    province, commune = await _unit(db, "binh-thuan"), await _unit(db, "phu-long")
    admin = Actor(user_id=7, role=Role.ADMIN, scope=UnitScope((province.id, commune.id)))
    async with db.session() as session:
        await calendar_service.edit_event(admin, "trung-thu", session=session, now=now,
                                          lead_days=[30, 7])
    # the commune's file again: its /event change stays, the inherited events too
    await _import(db, phu_long_file, now)
    phu_long = await _events(db, "phu-long")
    assert phu_long["trung-thu"].lead_days == [30, 7]
    assert phu_long["trung-thu"].own == {"admin": {"lead_days": [30, 7]}}
    assert phu_long["bao-cao-nam"].date_rule == "trước 15/11"
    # the province moves both deadlines and rewrites Trung thu's message
    text = (EXAMPLES / "binh-thuan.toml").read_text("utf-8")
    text = text.replace('date = "trước 15/5"', 'date = "trước 14/5"').replace(
        'date = "trước 15/11"', 'date = "trước 12/11"').replace(
        "Tổ chức Tết Trung thu cho trẻ em an toàn", "Tết Trung thu mới")
    changed = tmp_path / "binh-thuan.toml"
    changed.write_text(text, "utf-8")
    summary = await _import(db, changed, now)
    assert "event:bao-cao-nam" in summary.updated
    phu_long, ham_kiem = await _events(db, "phu-long"), await _events(db, "ham-kiem")
    assert phu_long["bao-cao-6-thang"].date_rule == "trước 10/5"  # its own date stays
    assert phu_long["bao-cao-nam"].date_rule == "trước 12/11"  # inherited: follows
    assert phu_long["trung-thu"].lead_days == [30, 7]  # its /event change stays
    assert phu_long["trung-thu"].message.startswith("Tết Trung thu mới")  # not written: follows
    assert ham_kiem["bao-cao-6-thang"].date_rule == "trước 14/5"
    assert not ham_kiem["bao-cao-nam"].active  # switched off stays off
    assert ham_kiem["bao-cao-nam"].date_rule == "trước 12/11"
    # "/event trung-thu theo tỉnh": the /event change goes, the province's calendar comes back
    async with db.session() as session:
        event, dropped = await calendar_service.follow_inherited(admin, "trung-thu",
                                                                 session=session, now=now)
    assert dropped
    trung_thu = (await _events(db, "phu-long"))["trung-thu"]
    assert trung_thu.origin == "province" and trung_thu.own is None
    assert trung_thu.lead_days == [14, 3]


async def test_a_legacy_commune_keeps_its_own_dates_when_the_province_comes(db, clock, tmp_path):
    """Rows written before origins were kept: what differs from the default is the commune's."""
    now = clock.now()
    await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG_OWN), now)
    async with db.session() as session:
        for row in (await session.exec(select(CalendarEvent))).all():
            row.origin, row.own = "legacy", None
            session.add(row)
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    phu_long = await _events(db, "phu-long")
    assert phu_long["bao-cao-6-thang"].date_rule == "trước 10/5"
    assert phu_long["bao-cao-6-thang"].origin == "commune"
    assert phu_long["bao-cao-nam"].origin == "province"


async def test_province_figures_count_to_the_province_deadlines(db, clock, tmp_path):
    now = clock.now()
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long", PHU_LONG_OWN), now)
    province, commune = await _unit(db, "binh-thuan"), await _unit(db, "phu-long")
    async with db.session() as session:
        of_province = await stats_service.deadlines_of(stats_service.Scope(
            province.id, province.name, province.code, (commune.id,), True), session=session)
        of_commune = await stats_service.deadlines_of(stats_service.Scope(
            commune.id, commune.name, commune.code, (commune.id,), False), session=session)
        everyone = await stats_service.deadlines_of(stats_service.Scope(
            stats_service.ALL_COMMUNES, None, "all", (commune.id,), True), session=session)
    assert of_province(PeriodKind.SIX_MONTH, 2027) == dt.date(2027, 5, 19)
    assert of_province(PeriodKind.ANNUAL, 2027) == dt.date(2027, 11, 19)
    assert of_commune(PeriodKind.SIX_MONTH, 2027) == dt.date(2027, 5, 9)
    assert of_commune(PeriodKind.ANNUAL, 2027) == dt.date(2027, 11, 14)
    assert everyone(PeriodKind.ANNUAL, 2027) == dt.date(2027, 11, 15)  # no province: defaults
    assert province.kind is UnitKind.PROVINCE and province.province_calendar["report_to"]


async def test_a_commune_without_its_own_recipient_reports_to_the_provinces(db, clock, tmp_path):
    now = clock.now()
    await _import(db, EXAMPLES / "binh-thuan.toml", now)
    await _import(db, commune_file(tmp_path, "phu-long", "Xã Phú Long"), now)
    path = commune_file(tmp_path, "ham-kiem", "Xã Hàm Kiệm")
    path.write_text(path.read_text("utf-8").replace('report_to = "Sở Y tế tỉnh Bình Thuận"\n',
                                                    ""), "utf-8")
    await _import(db, path, now)
    phu_long, ham_kiem = await _unit(db, "phu-long"), await _unit(db, "ham-kiem")
    async with db.session() as session:
        assert await calendar_service.recipient_of(phu_long.id, session=session) == \
            "Sở Y tế tỉnh Bình Thuận"
        assert await calendar_service.recipient_of(ham_kiem.id, session=session) == \
            "Sở Y tế tỉnh Bình Thuận"
        ham_kiem_row = await session.get(Unit, ham_kiem.id)
        ham_kiem_row.report_to = "Phòng Văn hóa - Xã hội"
        assert await calendar_service.recipient_of(ham_kiem.id, session=session) == \
            "Phòng Văn hóa - Xã hội"
