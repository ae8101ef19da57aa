"""/stats through the chat: the figures, the chart, the XLSX and CSV an officer hands in,
the 📊 button of the 20/5 reminder, a province's side-by-side view, refusals."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from sqlmodel import select

from bot.jobs import plan_calendar, run_calendar_jobs
from domain.cases import CaseStatus, RiskLevel, SpecialGroup
from domain.reports import AgeGroup, Category
from domain.roles import Role
from domain.stats import CHANNELS
from handlers import stats as stats_handlers
from handlers.stats import channel_name, number, plain, special_group_name
from handlers.texts import age_name, category_name, risk_name, status_name
from services import stats as stats_service
from storage.models import Agency, AuditEntry, Member, Report, Unit
from tests.stats_seed import (
    HANOI,
    NOW,
    PERIOD_HI,
    PERIOD_LO,
    SECRET_NAME,
    SECRET_STORY,
    _working_days,
    expected,
    seed,
)


@pytest.fixture
async def world(bot, commune):
    async with bot.db.session() as session:
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
    return await seed(bot.db, province_id, commune.commune_id)


async def _member(bot, user_id: int, name: str, role: Role, unit_id: int,
                  agency_id: int | None = None):
    async with bot.db.session() as session:
        session.add(Member(telegram_user_id=user_id, display_name=name, role=role,
                           unit_id=unit_id, agency_id=agency_id, joined_at=bot.clock.now()))
    person = bot.user(user_id, name)
    person.mark()
    await person.start()
    await person.settle()
    return person


async def _until(user, predicate, timeout: float = 30.0) -> list:
    """Everything the bot sends or edits until a message matches `predicate`."""
    collected = []
    while not any(predicate(m) for m in collected):
        collected += await user.replies(1, timeout=timeout)
    return collected


def _has_photo(message) -> bool:
    return "photo" in message.raw


def _done(message) -> bool:
    return "Đã xong tệp số liệu" in message.text


def _bot_messages(bot, user) -> list[dict]:
    return [m for _mid, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id]


def _documents(bot, user) -> dict[str, bytes]:
    return {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
            for m in _bot_messages(bot, user) if "document" in m}


def _rows(xlsx: bytes, sheet: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return list(book[sheet].iter_rows(values_only=True))


def _expected_rows(world, names: dict[int, str], commune_ids: list[int], lo, hi, now,
                   agency_names: dict[int, str]) -> dict[str, list]:
    """Indicator label → the value per commune column (then the total if several)."""
    per = [expected(world, cid, lo, hi, now) for cid in commune_ids]
    if len(commune_ids) > 1:
        per.append(expected(world, None, lo, hi, now))
    want: dict[str, list] = {}

    def put(label: str, get) -> None:
        want[label] = [get(e) for e in per]

    put("Tổng số tin báo tiếp nhận", lambda e: e["reports"])
    for k in Category:
        put(plain(category_name(k)), lambda e, k=str(k): e["by_category"].get(k, 0))
    for k in AgeGroup:
        put(age_name(k).capitalize(), lambda e, k=str(k): e["by_age"].get(k, 0))
    put("Khẩn cấp (trẻ em đang gặp nguy hiểm)", lambda e: e["by_urgency"].get(True, 0))
    put("Không khẩn cấp", lambda e: e["by_urgency"].get(False, 0))
    for k in CHANNELS:
        put(channel_name(k), lambda e, k=k: e["by_channel"].get(k, 0))
    for k in CaseStatus:
        put(status_name(k), lambda e, k=str(k): e["cases_by_status"].get(k, 0))
    for k in [*RiskLevel, None]:
        put(risk_name(k).capitalize(),
            lambda e, k=str(k) if k else "none": e["cases_by_risk"].get(k, 0))
    put("Vụ việc đang xử lý đã quá hạn bước hiện tại", lambda e: e["overdue"])
    put("Tin báo khẩn cấp", lambda e: e["urgent"])
    put("Tin báo khẩn cấp được đánh giá trong 12 giờ", lambda e: e["urgent_in_time"])
    put("Tỷ lệ tin báo khẩn cấp được đánh giá trong 12 giờ",
        lambda e: round(100 * e["urgent_in_time"] / e["urgent"], 1) if e["urgent"] else None)
    put("Vụ việc đã có kế hoạch hỗ trợ", lambda e: e["plans"])
    put("Thời gian từ khi nhận tin đến khi có kế hoạch hỗ trợ (trung vị)",
        lambda e: e["median_plan_days"])
    put("Kế hoạch hỗ trợ lập trong 5 ngày làm việc", lambda e: e["plans_in_time"])
    put("Lượt chuyển gửi đến cơ quan, đơn vị", lambda e: sum(e["referrals"].values()))
    for agency_id, name in agency_names.items():
        if any(agency_id in e["referrals"] for e in per):
            put(name, lambda e, a=agency_id: e["referrals"].get(a, 0))
    put("Vụ việc có trẻ em thuộc nhóm hoàn cảnh đặc biệt",
        lambda e: e["special_groups"].get(None, 0))
    for k in SpecialGroup:
        put(special_group_name(k), lambda e, k=str(k): e["special_groups"].get(k, 0))
    return want


def _check_totals(rows: list[tuple], want: dict[str, list], columns: list[str]) -> None:
    header = next(r for r in rows if r and r[0] == "STT")
    assert list(header[3:]) == columns
    by_label = {r[1]: list(r[3:]) for r in rows if r and r[1] and r[0] != "STT"}
    for label, values in want.items():
        got = by_label[label]
        for g, w in zip(got, values, strict=True):
            if isinstance(w, float):
                assert g == pytest.approx(w), label
            else:
                assert g == w, (label, got, values)


async def test_officer_gets_figures_chart_and_files(bot, officer, world, monkeypatch):
    bot.clock.set(NOW)  # 19/5/2027: the last day of the 6-month report ("trước ngày 20/5")
    commune_id = next(iter(world.communes))
    want = expected(world, commune_id)
    officer.mark()
    await officer.send("/stats")
    messages = await _until(officer, _has_photo)
    texts = [m for m in messages if "photo" not in m.raw]
    (photo,) = [m for m in messages if "photo" in m.raw]
    text = "\n".join(m.text for m in texts)
    assert all(len(m.text) <= 4096 for m in texts)
    assert "Số liệu cho báo cáo 6 tháng năm 2027" in text
    assert "Xã Minh Tân, 15/11/2026 – 14/05/2027" in text
    assert f"Tổng số tin báo tiếp nhận: {want['reports']}" in text
    for category, count in want["by_category"].items():
        assert f"• {plain(category_name(category))}: {count}" in text
    for village_id, count in want["by_village"].items():
        if village_id:
            async with bot.db.session() as session:
                name = (await session.get(Unit, village_id)).name
            assert f"• {name}: {count}" in text
    assert f"Vụ việc đang xử lý đã quá hạn bước hiện tại: {want['overdue']}" in text
    share = number(round(100 * want["urgent_in_time"] / want["urgent"], 1))
    assert f"Tỷ lệ tin báo khẩn cấp được đánh giá trong 12 giờ: {share}%" in text
    assert (f"Thời gian từ khi nhận tin đến khi có kế hoạch hỗ trợ (trung vị): "
            f"{number(want['median_plan_days'])}") in text
    assert SECRET_NAME not in text and "0912" not in text
    png = bot.fake.files[photo.raw["photo"][0]["file_id"]][1]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000

    # Small pages and no wait between progress edits, so a small export shows progress.
    monkeypatch.setattr(stats_service, "PAGE", 10)
    monkeypatch.setattr(stats_handlers, "PROGRESS_INTERVAL", 0)
    officer.mark()
    await officer.press(photo, "Tải tệp XLSX và CSV")
    calls = len(bot.fake.calls)
    await _until(officer, _done)
    progress = [c.params.get("text", "") for c in bot.fake.calls[calls:]
                if c.method.lower() == "editmessagetext" and c.status == 200]
    assert any("vụ việc (" in p and "%" in p for p in progress), progress
    assert "Đã xong tệp số liệu" in progress[-1]
    files = _documents(bot, officer)
    name = "so-lieu-minh-tan-20261115-20270514"
    assert set(files) == {f"{name}.xlsx", f"{name}.csv"}

    async with bot.db.session() as session:
        agencies = dict((await session.exec(select(Agency.id, Agency.name))).all())
    totals = _rows(files[f"{name}.xlsx"], "Tổng hợp")
    assert totals[0][0] == "PHỤ LỤC: SỐ LIỆU CÔNG TÁC BẢO VỆ TRẺ EM"
    assert totals[1][0] == "Báo cáo 6 tháng năm 2027, 15/11/2026 – 14/05/2027"
    assert totals[2][0] == "Đơn vị: Xã Minh Tân"
    _check_totals(totals, _expected_rows(world, world.communes, [commune_id], PERIOD_LO,
                                         PERIOD_HI, NOW, agencies), ["Xã Minh Tân"])

    cases = _rows(files[f"{name}.xlsx"], "Danh sách vụ việc")
    header, body = cases[0], cases[1:]
    seeded = sorted((c for c in world.cases if c.commune_id == commune_id
                     and PERIOD_LO <= c.created_at < PERIOD_HI), key=lambda c: c.case_id)
    assert [r[1] for r in body] == [c.case_id for c in seeded]
    column = {h: i for i, h in enumerate(header)}
    for row, case in zip(body, seeded, strict=True):
        assert row[column["Khẩn cấp"]] == ("Có" if case.urgent else "Không")
        assert row[column["Tình trạng"]] == status_name(case.status)
        days = row[column["Số ngày làm việc đến khi có kế hoạch"]]
        assert days == (_working_days(case.created_at, min(case.plan_events))
                        if case.plan_events else None)
        assert row[column["Ngày tiếp nhận"]] == case.created_at.astimezone(HANOI).strftime(
            "%d/%m/%Y %H:%M")
    everything = repr(totals) + repr(cases) + files[f"{name}.csv"].decode("utf-8-sig")
    assert SECRET_NAME not in everything and SECRET_STORY not in everything
    assert "Nhà số 12" not in everything

    table = list(csv.reader(io.StringIO(files[f"{name}.csv"].decode("utf-8-sig"))))
    reports_row = next(r for r in table if len(r) > 3 and r[1] == "Tổng số tin báo tiếp nhận")
    assert reports_row[3] == str(want["reports"])
    async with bot.db.session() as session:
        actions = (await session.exec(select(AuditEntry.action).where(
            AuditEntry.actor_user_id == officer.id))).all()
    assert "stats_viewed" in actions and "stats_exported" in actions


async def test_other_periods_and_an_unreadable_one(bot, officer, world):
    bot.clock.set(NOW)
    officer.mark()
    await officer.send("/stats tháng trước")
    messages = await _until(officer, _has_photo)
    want = expected(world, next(iter(world.communes)),
                    dt.datetime(2027, 4, 1, tzinfo=HANOI), dt.datetime(2027, 5, 1, tzinfo=HANOI))
    text = "\n".join(m.text for m in messages)
    assert "Số liệu cho tháng 04/2027" in text and "01/04/2027 – 30/04/2027" in text
    assert f"Tổng số tin báo tiếp nhận: {want['reports']}" in text
    officer.mark()
    await officer.send("/stats hôm qua")
    assert "Không đọc được khoảng thời gian này" in (await officer.reply()).text


async def test_the_20_5_reminder_button_exports_that_report(bot, officer, world):
    officer.mark()
    await officer.send("/subscribe")
    await officer.reply()
    # "trước ngày 20/5": the last day is 19/5/2027; its 14-day reminder goes out on 5/5.
    now = dt.datetime(2027, 5, 5, 8, 0, tzinfo=HANOI)
    bot.clock.set(now)
    await plan_calendar(bot.runtime)
    officer.mark()
    await run_calendar_jobs(bot.application)
    deadline = next(m for m in officer.unread() if "Báo cáo 6 tháng" in m.text)
    assert "còn 14 ngày" in deadline.text
    officer.mark()
    calls = len(bot.fake.calls)
    await officer.press(deadline, "Số liệu cho báo cáo này")
    await _until(officer, _done)
    first = next(c for c in bot.fake.calls[calls:] if c.method.lower() == "sendmessage")
    assert "Đang chuẩn bị tệp số liệu cho báo cáo 6 tháng năm 2027" in first.params["text"]
    files = _documents(bot, officer)
    xlsx = files["so-lieu-minh-tan-20261115-20270514.xlsx"]
    commune_id = next(iter(world.communes))
    async with bot.db.session() as session:
        agencies = dict((await session.exec(select(Agency.id, Agency.name))).all())
    totals = _rows(xlsx, "Tổng hợp")
    assert totals[1][0] == "Báo cáo 6 tháng năm 2027, 15/11/2026 – 14/05/2027"
    _check_totals(totals, _expected_rows(world, world.communes, [commune_id], PERIOD_LO,
                                         PERIOD_HI, now.astimezone(dt.UTC), agencies),
                  ["Xã Minh Tân"])


async def test_province_admin_sees_communes_side_by_side_without_cases(bot, world):
    admin = await _member(bot, 4001, "Thảo", Role.ADMIN, world.province_id)
    bot.clock.set(NOW)
    admin.mark()
    await admin.send("/stats")
    messages = await _until(admin, _has_photo)
    text = "\n".join(m.text for m in messages)
    first, second = (expected(world, cid) for cid in world.communes)
    assert "So sánh các xã" in text and "Tỉnh Ninh Bình" in text
    assert f"Xã Minh Tân: {first['reports']} tin báo" in text
    assert f"Xã Xuân Trường: {second['reports']} tin báo" in text
    assert f"Tổng số tin báo tiếp nhận: {first['reports'] + second['reports']}" in text
    assert SECRET_NAME not in text
    photo = next(m for m in messages if "photo" in m.raw)
    admin.mark()
    await admin.press(photo, "Tải tệp XLSX và CSV")
    await _until(admin, _done)
    files = _documents(bot, admin)
    xlsx = files["so-lieu-ninh-binh-20261115-20270514.xlsx"]
    # No case list; the register's aggregate figures are a sheet of their own.
    assert openpyxl.load_workbook(io.BytesIO(xlsx)).sheetnames == ["Tổng hợp", "Trẻ em HCĐB"]
    ids = sorted(world.communes, key=lambda c: world.communes[c])
    async with bot.db.session() as session:
        agencies = dict((await session.exec(select(Agency.id, Agency.name))).all())
    _check_totals(_rows(xlsx, "Tổng hợp"),
                  _expected_rows(world, world.communes, ids, PERIOD_LO, PERIOD_HI, NOW, agencies),
                  [world.communes[c] for c in ids] + ["Tổng cộng"])
    assert SECRET_NAME not in repr(_rows(xlsx, "Tổng hợp"))


async def test_citizens_and_agency_members_are_refused_and_audited(bot, officer, world):
    commune_id = next(iter(world.communes))
    citizen = bot.user(1001, "Lan")
    agency_member = await _member(bot, 5001, "Bình", Role.AGENCY_MEMBER, commune_id,
                                  agency_id=world.agencies[commune_id][0])
    for person in (citizen, agency_member):
        person.mark()
        await person.send("/stats")
        assert "không có quyền" in (await person.reply()).text
    # A forged export button for the commune: refused too, nothing sent.
    citizen.mark()
    await citizen.send("/stats")
    refusal = await citizen.reply()
    citizen.mark()
    await citizen.press_data(refusal, f"1:st:x:{commune_id}:6m:20261115:20270514")
    assert "không có quyền" in (await citizen.reply()).text
    # An officer of one commune cannot export another's.
    officer.mark()
    await officer.send("/stats")
    photo = next(m for m in await _until(officer, _has_photo) if _has_photo(m))
    other = list(world.communes)[1]
    officer.mark()
    await officer.press_data(photo, f"1:st:x:{other}:6m:20261115:20270514")
    assert "không có quyền" in (await officer.reply()).text
    assert not _documents(bot, citizen) and not _documents(bot, officer)
    async with bot.db.session() as session:
        denied = (await session.exec(select(AuditEntry.actor_user_id).where(
            AuditEntry.action == "denied"))).all()
    assert {citizen.id, agency_member.id, officer.id} <= set(denied)


async def test_a_report_sent_and_assessed_through_the_bot_is_counted(bot, officer):
    """No seed: a citizen's report and the officer's first risk level, through the chat."""
    from tests.e2e.flows import Reporter, shortest_report

    await shortest_report(Reporter(bot.user(1016, "Thu")))
    await officer.reply()  # the new-report notice
    async with bot.db.session() as session:
        report_code = (await session.exec(select(Report.code))).one()
    officer.mark()
    await officer.send(f"/case {report_code}")
    card = await officer.reply()
    officer.mark()
    await officer.press(card, "Xác minh, đánh giá nguy cơ")
    await officer.press(await officer.reply(), "Có, chuyển")
    card = await officer.reply()
    officer.mark()
    await officer.press(card, "⚠️ Cao")
    confirm = await officer.reply()
    officer.mark()
    await officer.press(confirm, "Có, ghi nhận")
    assert "Mức nguy cơ: Cao" in (await officer.reply()).text
    officer.mark()
    await officer.send("/stats")
    text = "\n".join(m.text for m in await _until(officer, _has_photo))
    assert "Tổng số tin báo tiếp nhận: 1" in text
    assert "• Bị đánh, bạo lực: 1" in text and "• Thôn Đông: 1" in text
    assert "• Báo tin qua trợ lý: 1" in text and "• Xác minh, đánh giá nguy cơ: 1" in text
    assert "• Cao: 1" in text and "• Tin báo khẩn cấp:" not in text  # zero lines left out
