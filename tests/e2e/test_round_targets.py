"""The plan's targets, as the commune and the province use them: a target with several rates
is asked part by part and shown one row per part in the compiled report (and values sent
before the parts existed stay readable); the commune's administrator changes targets in the
chat, with confirmations, refusals of bad values and a re-import that keeps those changes;
the province gets the targets of its communes side by side."""

from __future__ import annotations

import datetime as dt
import io

import docx
import openpyxl
from sqlmodel import select

from bot.fakeapi.driver import wait_until
from bot.jobs import run_round_jobs
from domain.roles import Role
from domain.setup_file import load_setup_file
from domain.targets import RoundSpec, collect_date, round_dates
from handlers import callback_data as cb
from storage.models import AuditEntry, Member, PlanTarget, ReportRound, RoundPart, Unit
from storage.setup_import import import_setup
from storage.units import find_agency
from tests.conftest import EXAMPLE_SETUP, ROOT
from tests.e2e.flows import say as _answer
from tests.e2e.flows import tap as _press
from tests.e2e.flows import tap_data as _press_data

HANOI = dt.timezone(dt.timedelta(hours=7))
XUAN_TRUONG = ROOT / "examples" / "xuan-truong.toml"


def _documents(bot, user) -> dict[str, bytes]:
    return {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
            for _mid, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id and "document" in m}


async def _at(bot, day: dt.date) -> None:
    bot.clock.set(dt.datetime.combine(day, dt.time(8, 0), tzinfo=HANOI))
    await run_round_jobs(bot.application)


async def _member(bot, user_id: int, name: str, role: Role, unit_id: int,
                  agency_id: int | None = None):
    async with bot.db.session() as session:
        session.add(Member(telegram_user_id=user_id, display_name=name, role=role,
                           unit_id=unit_id, agency_id=agency_id, joined_at=bot.clock.now()))
    return bot.user(user_id, name)


def _old_style(setup):
    """Xuân Trường's set-up as it was before parts: target 3 tracked its first rate only."""
    data = setup.model_dump()
    three = next(t for t in data["targets"] if t["code"] == "ct3")
    three.update(parts=(), unit="‰", rule="<", values={2026: 5.0, 2030: 4.8})
    return type(setup).model_validate(data)


async def test_a_target_with_several_rates_is_asked_and_reported_part_by_part(bot):
    setup = load_setup_file(XUAN_TRUONG)
    # The commune was set up before targets had parts, and sent target 3 in 2026.
    async with bot.db.session() as session:
        summary = await import_setup(_old_style(setup), session=session, now=bot.clock.now())
        commune_id = summary.commune_id
        vhxh = (await find_agency(commune_id, "vhxh", session=session)).id
        last = ReportRound(commune_id=commune_id, code="bao-cao-nam",
                           name="Báo cáo kết quả thực hiện Kế hoạch năm", year=2026,
                           collect_on=dt.date(2026, 11, 10), opens_on=dt.date(2026, 10, 27),
                           period="year", status="locked", opened_at=bot.clock.now())
        session.add(last)
        await session.flush()
        session.add(RoundPart(round_id=last.id, agency_id=vhxh, status="sent",
                              answers={"ct3": 4.6, "ct2": 89.0}, started_at=bot.clock.now(),
                              updated_at=bot.clock.now(), sent_at=bot.clock.now()))
    # The new file: target 3 has three parts; 3a takes over the old value.
    async with bot.db.session() as session:
        summary = await import_setup(setup, session=session, now=bot.clock.now())
        assert "target:ct3" in summary.updated and "target:ct3b" in summary.created
        part = (await session.exec(select(RoundPart))).one()
        assert part.answers == {"ct3a": 4.6, "ct2": 89.0}
        rows = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == commune_id, PlanTarget.active))).all()
    assert len(rows) == 35
    async with bot.db.session() as session:
        again = await import_setup(setup, session=session, now=bot.clock.now())
    assert not again.changed

    lan = await _member(bot, 3101, "Lan", Role.AGENCY_MEMBER, commune_id, vhxh)
    officer = await _member(bot, 3102, "Hương", Role.OFFICER, commune_id)
    for person in (lan, officer):  # they have talked to the bot before
        await _answer(person, "/baocao")
    spec = RoundSpec("bao-cao-nam", "Báo cáo năm", "10/11")
    lan.mark()
    await _at(bot, round_dates(collect_date(spec, 2027), 10).opens)
    request = await lan.reply()
    assert "<b>3a.</b> —" in request.html and "3b." in request.text and "3c." in request.text
    assert "&lt; 5‰ · kỳ trước 4,6‰" in request.html  # 3a: last year's value of target 3

    # The form: target 1 (yes/no), 2, then 3a, 3b, 3c each in ‰.
    question = await _press(lan, request, "Điền báo cáo")
    question = await _press(lan, question, "Có")
    question = await _answer(lan, "91")
    assert "Chỉ tiêu 3a." in question.text and "trẻ sơ sinh" in question.text
    assert "một trong các chỉ số của chỉ tiêu 3" in question.text
    assert "Kỳ trước: 4,6‰" in question.text and "từ 0 đến 1.000" in question.text
    question = await _answer(lan, "4,5")
    assert "Đã lưu: 4,5‰" in question.text and "Chỉ tiêu 3b." in question.text
    assert "dưới 1 tuổi" in question.text and "≤ 6‰" in question.text
    question = await _answer(lan, "6,2‰")
    assert "Chỉ tiêu 3c." in question.text
    wrong = await _answer(lan, "1.200")  # more than 1.000 per thousand
    assert "không dùng được" in wrong.text and "Chỉ tiêu 3c." in wrong.text
    question = await _answer(lan, "8,5")
    assert "Chỉ tiêu 4a." in question.text
    review = await _press(lan, question, "Xem lại")
    assert "3a.</b> 4,5‰" in review.html and "3b.</b> 6,2‰" in review.html
    officer.mark()
    await _press(lan, review, "Gửi")
    await officer.reply()

    # The officer locks: one row per part in the XLSX and the DOCX, each met or not.
    board = await _answer(officer, "/baocao")
    assert "🎯" not in str(board.buttons)  # the editor is the administrator's
    confirm = await _press(officer, board, "Khóa")
    officer.mark()
    await officer.press(confirm, "Có, khóa")
    await wait_until(lambda: len(_documents(bot, officer)) == 2, timeout=20.0)
    files = _documents(bot, officer)
    book = openpyxl.load_workbook(io.BytesIO(files["bao-cao-nam-2027.xlsx"]))
    table = list(book["Chỉ tiêu"].iter_rows(values_only=True))
    numbers = [row[0] for row in table[1:]]
    assert numbers[:12] == ["1", "2", "3", "3a", "3b", "3c", "4", "4a", "4b", "4c", "4d", "5"]
    by_number = {row[0]: row for row in table[1:]}
    assert by_number["3"][1].startswith("Giảm tỷ suất tử vong trẻ sơ sinh xuống <5,0‰")
    assert by_number["3"][2:] == (None,) * 6  # the whole target: a heading row
    assert by_number["3a"][2:] == ("‰", "< 5‰", 4.5, 4.6, "Phòng Văn hóa - Xã hội", "Đạt")
    assert by_number["3b"][2:] == ("‰", "≤ 6‰", 6.2, None, "Phòng Văn hóa - Xã hội",
                                   "Chưa đạt")
    assert by_number["3c"][3:] == ("< 9‰", 8.5, None, "Phòng Văn hóa - Xã hội", "Đạt")
    assert by_number["4a"][4:] == (None, None, "Phòng Văn hóa - Xã hội", "Chưa rõ")
    assert by_number["11b"][3] == "≤ 16/100.000"
    assert by_number["17b"][3:5] == ("< 0,12%", None)
    assert by_number["17b"][5:] == (None, "Các trường học trên địa bàn", "Chưa rõ")
    assert numbers.count("3") == 1  # the heading once
    assert sum(1 for n in numbers if n[-1].isalpha()) == 19  # every part has its row

    document = docx.Document(io.BytesIO(files["bao-cao-nam-2027.docx"]))
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    by_number = {row[0]: row for row in cells[1:]}
    assert by_number["3a"][2:] == ["< 5‰", "4,5‰", "4,6‰", "Đạt"]
    assert by_number["3b"][2:] == ["≤ 6‰", "6,2‰", "", "Chưa đạt"]
    assert by_number["3"][1].startswith("Giảm tỷ suất tử vong trẻ sơ sinh")


async def test_the_administrator_changes_targets_in_the_chat(bot, commune, officer):
    commune_id = commune.commune_id
    admin = await _member(bot, 3201, "Thảo", Role.ADMIN, commune_id)
    async with bot.db.session() as session:  # imported before the bot remembered the file
        target = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == commune_id, PlanTarget.code == "mt1"))).one()
        target.file_values = None
        session.add(target)

    # No round yet: the administrator still reaches the targets.
    said = await _answer(admin, "/baocao")
    targets = await _press(admin, said, "Chỉ tiêu")
    assert "Các chỉ tiêu của Kế hoạch, năm 2026" in targets.text
    assert "≥ 95% · Phòng Văn hóa - Xã hội" in targets.text
    item = await _press(admin, targets, "1")
    assert "Chỉ tiêu 1" in item.text and "2026: ≥ 95%" in item.text

    # A value: refused by unit, in Vietnamese, still waiting; then confirmed.
    asked = await _press(admin, item, "Mục tiêu năm 2026")
    assert "từ 0 đến 100" in asked.text
    wrong = await _answer(admin, "nhiều")
    assert "không dùng được làm mục tiêu của chỉ tiêu 1" in wrong.text
    assert "từ 0 đến 100" in wrong.text and "Chưa có gì thay đổi" in wrong.text
    wrong = await _answer(admin, "120%")
    assert "không dùng được" in wrong.text
    confirm = await _answer(admin, "97,5")
    assert "từ ≥ 95% thành ≥ 97,5%" in confirm.text
    done = await _press(admin, confirm, "Đồng ý đổi")
    assert "Đã đổi" in done.text and "≥ 97,5%" in done.text and "trước đây ≥ 95%" in done.text
    stray = await _answer(admin, "99")  # the input is over: not a new value
    assert "Đồng ý đổi" not in str(stray.buttons)

    # A command while typing a value drops it with a word.
    asked = await _press(admin, done, "Mục tiêu năm 2026")
    admin.mark()
    await admin.send("/hotline")
    said = " ".join(m.text for m in await admin.settle())
    assert "Đã bỏ mục tiêu bạn đang nhập" in said

    # The agency, with a confirmation; "No" changes nothing.
    item = await _answer(admin, "/baocao")
    item = await _press(admin, item, "Chỉ tiêu")
    item = await _press(admin, item, "1")
    choose = await _press(admin, item, "Đổi cơ quan")
    confirm = await _press(admin, choose, "Trạm Y tế xã")
    assert "Trạm Y tế xã báo cáo thay cho Phòng Văn hóa - Xã hội" in confirm.text
    back = await _press(admin, confirm, "Không")
    assert "Cơ quan báo cáo: Phòng Văn hóa - Xã hội" in back.text
    choose = await _press(admin, back, "Đổi cơ quan")
    confirm = await _press(admin, choose, "Trạm Y tế xã")
    done = await _press(admin, confirm, "Đồng ý đổi")
    assert "nay do Trạm Y tế xã báo cáo" in done.text

    # Off for this year, with a confirmation.
    confirm = await _press(admin, done, "Tắt trong năm 2026")
    done = await _press(admin, confirm, "Đồng ý")
    assert "Đã tắt chỉ tiêu 1 trong năm 2026" in done.text
    assert "Bật lại trong năm 2026" in str(done.buttons)

    # The officer (not the administrator) cannot: a forged press is refused.
    mine = await _answer(officer, "/baocao")
    refused = await _press_data(officer, mine, cb.build("bt", "oy", _target_id(done), 2026, 0))
    assert "không có quyền" in refused.text

    async with bot.db.session() as session:
        target = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == commune_id, PlanTarget.code == "mt1"))).one()
        health = (await find_agency(commune_id, "tram-y-te", session=session)).id
        audits = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "target_changed"))).all()
    assert target.target_values == {"2026": 97.5} and target.agency_id == health
    assert target.off_years == [2026] and target.edited_by == 3201
    assert [a.details.get("what") for a in audits] == ["value", "agency", "off"]

    # The set-up file imported again, unchanged: the chat's changes stay (and are named).
    setup = load_setup_file(EXAMPLE_SETUP)
    async with bot.db.session() as session:
        summary = await import_setup(setup, session=session, now=bot.clock.now())
    assert summary.kept == ["target:mt1"] and summary.overridden == []
    # The file changes mt1's value: the file wins for the value, the agency stays.
    data = setup.model_dump()
    next(t for t in data["targets"] if t["code"] == "mt1")["values"] = {2026: 96.0}
    async with bot.db.session() as session:
        summary = await import_setup(type(setup).model_validate(data), session=session,
                                     now=bot.clock.now())
        target = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == commune_id, PlanTarget.code == "mt1"))).one()
    assert summary.overridden == ["target:mt1"]
    assert target.target_values == {"2026": 96.0} and target.agency_id == health
    assert target.off_years == [2026]

    # Switched off for 2026: a 2026 round does not ask the health station about it.
    async with bot.db.session() as session:
        round_ = ReportRound(commune_id=commune_id, code="bao-cao-nam", name="Báo cáo năm",
                             year=2026, collect_on=dt.date(2026, 12, 4),
                             opens_on=dt.date(2026, 11, 20), period="year", status="open",
                             opened_at=bot.clock.now())
        session.add(round_)
    board = await _answer(admin, "/baocao")
    assert "Trạm Y tế xã" in board.text and "Phòng Văn hóa - Xã hội" not in board.text


def _target_id(message) -> int:
    for button in message.buttons:
        parsed = cb.parse(button.get("callback_data"))
        if parsed and parsed.feature == "bt" and parsed.action in ("e", "a", "o"):
            return parsed.int_arg(0)
    raise AssertionError("no target button")


async def test_a_province_gets_its_communes_targets_side_by_side(bot, commune):
    setup = load_setup_file(XUAN_TRUONG)
    async with bot.db.session() as session:
        xuan_truong = (await import_setup(setup, session=session,
                                          now=bot.clock.now())).commune_id
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
        vhxh = (await find_agency(xuan_truong, "vhxh", session=session)).id
        round_ = ReportRound(commune_id=xuan_truong, code="bao-cao-nam", name="Báo cáo năm",
                             year=2026, collect_on=dt.date(2026, 11, 10),
                             opens_on=dt.date(2026, 10, 27), period="year", status="open",
                             opened_at=bot.clock.now())
        session.add(round_)
        await session.flush()
        session.add(RoundPart(round_id=round_.id, agency_id=vhxh, status="sent",
                              answers={"ct3a": 4.5, "ct3b": 6.2, "ct1": 1.0},
                              highlights="Một câu riêng của phòng.",
                              started_at=bot.clock.now(), updated_at=bot.clock.now(),
                              sent_at=bot.clock.now()))
    province = await _member(bot, 5001, "Thu", Role.ADMIN, province_id)
    overview = await _answer(province, "/baocao")
    assert "Xã Xuân Trường" in overview.text and "Xã Minh Tân: chưa có" in overview.text
    province.mark()
    await province.press(overview, "Bảng chỉ tiêu các xã")
    await wait_until(lambda: "chi-tieu-cac-xa.xlsx" in _documents(bot, province), timeout=20.0)
    book = openpyxl.load_workbook(io.BytesIO(_documents(bot, province)["chi-tieu-cac-xa.xlsx"]))
    rows = list(book["Chỉ tiêu"].iter_rows(values_only=True))
    communes = list(rows[0][4::2])
    assert communes == ["Xã Minh Tân: Kỳ này", "Xã Xuân Trường: Kỳ này"]
    xt = communes.index("Xã Xuân Trường: Kỳ này") * 2 + 4
    assert rows[1][1] == "Cơ quan đã gửi" and rows[1][xt] == "1/4"
    assert rows[1][4] == "chưa có đợt báo cáo"
    by_number = {row[0]: row for row in rows[2:]}
    assert by_number["3a"][xt:xt + 2] == (4.5, "Đạt")
    assert by_number["3b"][xt:xt + 2] == (6.2, "Chưa đạt")
    assert by_number["1"][xt:xt + 2] == ("Có", "Đạt")
    assert by_number["4a"][xt:xt + 2] == (None, "Chưa rõ")
    everything = " ".join(str(cell) for row in book["Chỉ tiêu"].iter_rows(values_only=True)
                          for cell in row)
    assert "Một câu riêng" not in everything  # aggregates only
    communes_sheet = list(book["Các xã"].iter_rows(values_only=True))
    assert communes_sheet[1][:2] == ("Xã Minh Tân", "chưa có đợt báo cáo")
    assert communes_sheet[2][:4] == ("Xã Xuân Trường", "Báo cáo năm 2026", "đang mở", "1/4")
    assert "Công an xã" in communes_sheet[2][4] and "Phòng Văn hóa" not in communes_sheet[2][4]
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert "round_province_table" in actions


async def test_forged_and_stale_target_buttons_change_nothing(bot, commune):
    """Buttons are not trusted: a value out of the unit's range, another commune's target, a
    province administrator; a press after the target left the file."""
    setup = load_setup_file(XUAN_TRUONG)
    async with bot.db.session() as session:
        xuan_truong = (await import_setup(setup, session=session,
                                          now=bot.clock.now())).commune_id
        other = (await session.exec(select(PlanTarget).where(
            PlanTarget.commune_id == xuan_truong, PlanTarget.code == "ct3a"))).one().id
        province_id = (await session.get(Unit, commune.commune_id)).parent_id
    admin = await _member(bot, 3201, "Thảo", Role.ADMIN, commune.commune_id)
    said = await _answer(admin, "/baocao")
    targets = await _press(admin, said, "Chỉ tiêu")
    item = await _press(admin, targets, "1")
    mine = _target_id(item)

    too_big = await _press_data(admin, item, cb.build("bt", "vy", mine, 2026, "150"))
    assert "không phù hợp với đơn vị" in too_big.text
    elsewhere = await _press_data(admin, item, cb.build("bt", "vy", other, 2026, "4"))
    assert "không tìm thấy" in elsewhere.text.lower()
    province = await _member(bot, 5001, "Thu", Role.ADMIN, province_id)
    overview = await _answer(province, "/baocao")
    refused = await _press_data(province, overview, cb.build("bt", "l"))
    assert "không có quyền" in refused.text

    # The target leaves the file; the open screen's buttons then find nothing.
    minh_tan = load_setup_file(EXAMPLE_SETUP).model_dump()
    minh_tan["targets"] = [t for t in minh_tan["targets"] if t["code"] != "mt1"]
    async with bot.db.session() as session:
        summary = await import_setup(type(setup).model_validate(minh_tan), session=session,
                                     now=bot.clock.now())
    assert summary.deactivated == ["target:mt1"]
    gone = await _press(admin, item, "Tắt trong năm 2026")
    assert "không tìm thấy" in gone.text.lower()

    async with bot.db.session() as session:
        rows = {t.code: t for t in (await session.exec(select(PlanTarget))).all()}
        audits = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "target_changed"))).all()
    assert rows["mt1"].target_values == {"2026": 95.0} and rows["mt1"].off_years == []
    assert rows["ct3a"].target_values == {"2026": 5.0, "2030": 4.8}
    assert audits == []
