"""Officers work cases from the chat, end to end through the fake Telegram: a citizen's
report to closure with a referral to the police, deadline alerts and escalation on a
controllable clock, the morning digest, forged buttons for another commune's case, the
reporter relay with identities hidden, stale buttons, lists, notes, and cases an officer
opens for a phone call."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from bot.jobs import run_case_jobs
from domain.cases import CaseStatus
from domain.roles import Role, UnitKind
from services import cases as case_service
from services.identity import resolve_actor
from storage import members as member_store
from storage.models import AuditEntry, Case, CaseEvent, CaseReferral, Delivery, Unit
from tests.conftest import ADMIN_ID
from tests.e2e.flows import (
    AGENCY_ROLE,
    CODE,
    COMMUNE_ADMIN_ROLE,
    OFFICER_ROLE,
    Reporter,
    act,
    create_invite,
    join,
    join_all,
    shortest_report,
)

HOUR = dt.timedelta(hours=1)


@pytest.fixture
async def staff(bot):
    """A commune administrator, two officers and a police member, all joined by invitation."""
    admin, officer, other, police, health = await join_all(
        bot, (3001, "Quang", COMMUNE_ADMIN_ROLE), (2001, "Hùng", OFFICER_ROLE),
        (2002, "Tuấn", OFFICER_ROLE), (2101, "Dũng", AGENCY_ROLE, "Công an xã"),
        (2102, "Hạnh", AGENCY_ROLE, "Trạm Y tế xã"))
    return {"admin": admin, "officer": officer, "other": other, "police": police,
            "health": health}




async def reported_case(bot, staff, name: str = "Lan", user_id: int = 1001) -> tuple[str, Reporter]:
    citizen = Reporter(bot.user(user_id, name))
    thanks = await shortest_report(citizen)
    for person in (staff["officer"], staff["other"]):
        await person.reply()  # the new-report notice
    return CODE.search(thanks.text).group(1), citizen


async def take_and_open(officer, code: str):
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Nhận xử lý", replies=2)
    return await act(officer, f"/case {code}")


async def audit_actions(bot) -> list[str]:
    async with bot.db.session() as session:
        return [a.action for a in (await session.exec(select(AuditEntry))).all()]


async def approval_off(bot) -> None:
    """The commune switches the leader's approval off (a small commune's set-up choice):
    the officer moves the plan and closes alone. tests/e2e/test_approval.py plays approval."""
    async with bot.db.session() as session:
        for unit in (await session.exec(select(Unit).where(Unit.kind == UnitKind.COMMUNE))).all():
            unit.leader_approval = False
        await session.commit()


async def test_report_to_closure_with_a_police_referral(bot, staff):
    officer, police, health, admin = (staff["officer"], staff["police"], staff["health"],
                                      staff["admin"])
    await approval_off(bot)
    code, citizen = await reported_case(bot, staff)
    # Agencies see nothing before a referral.
    assert "không có quyền" in (await act(police, f"/case {code}")).text
    card = await take_and_open(officer, code)
    assert "Người phụ trách: Hùng" in card.text and "Hạn bước này" in card.text
    confirm = await act(officer, press=card, label="Xác minh, đánh giá nguy cơ")
    card = await act(officer, press=confirm, label="Có, chuyển")
    confirm = await act(officer, press=card, label="⚠️ Cao")
    card = await act(officer, press=confirm, label="Có, ghi nhận")
    assert "Mức nguy cơ: Cao" in card.text
    # Referral to the police: they are told and can open that case, and only that one.
    agencies = await act(officer, press=card, label="Chuyển cơ quan")
    assert "Công an xã" in " ".join(b["text"] for b in agencies.buttons)
    police.mark()
    card = await act(officer, press=agencies, label="Công an xã")
    assert "Đã chuyển vụ việc đến Công an xã" in card.text
    assert "Đã chuyển đến: Công an xã" in card.text
    told = await police.reply()
    assert f"Vụ việc {code} đã được chuyển đến Công an xã" in told.text
    assert "bố đánh" not in told.text  # the story is not pushed into chats
    police_card = await act(police, press=told, label="Mở vụ việc")
    assert f"Vụ việc {code}" in police_card.text
    labels = " ".join(b["text"] for b in police_card.buttons)
    assert "Thêm ghi chú" in labels and "Kết thúc" not in labels and "Chuyển cơ quan" not in labels
    prompt = await act(police, press=police_card, label="Thêm ghi chú")
    assert "ghi chú" in prompt.text.lower()
    noted = await act(police, "Công an xã đã xác minh, gia đình cam kết không tái diễn.")
    assert "Đã lưu ghi chú" in noted.text and "Công an xã đã xác minh" in noted.text
    listing = await act(police, "/cases")
    assert code in listing.text and "Vụ việc được chuyển đến cơ quan của bạn (1)" in listing.text
    # The health station was not referred: still nothing.
    assert "không có quyền" in (await act(health, f"/case {code}")).text
    # Plan, carry it out, close.
    card = await act(officer, f"/case {code}")
    confirm = await act(officer, press=card, label="Lập kế hoạch hỗ trợ")
    card = await act(officer, press=confirm, label="Có, chuyển")
    confirm = await act(officer, press=card, label="Thực hiện kế hoạch")
    card = await act(officer, press=confirm, label="Có, chuyển")
    labels = [b["text"] for b in card.buttons]  # forward and back look different
    assert "➡️ Theo dõi, đánh giá" in labels and "↩️ Quay lại: Can thiệp khẩn cấp" in labels
    reasons = await act(officer, press=card, label="Kết thúc vụ việc")
    citizen.user.mark()
    closed = await act(officer, press=reasons, label="Trẻ đã an toàn")
    assert "Tình trạng: Đã kết thúc" in closed.text
    told = await citizen.user.reply()  # the reporter is told, without officer or reason code
    assert code in told.text and "khép lại" in told.text and "111" in told.text
    assert "Hùng" not in told.text and "an toàn" not in told.text
    assert "🔓 Mở lại vụ việc" in [b["text"] for b in closed.buttons]
    status = await act(citizen.user, f"/status {code}")
    assert "Đã kết thúc" in status.text
    # The administrator reads who saw and changed it.
    log = await act(admin, f"/audit {code}")
    for words in ("Hùng · nhận xử lý vụ việc", "Hùng · chuyển vụ việc đến cơ quan",
                  "Dũng · thêm ghi chú", "Dũng · xem vụ việc", "người báo tin · gửi tin báo"):
        assert words in log.text, words
    actions = await audit_actions(bot)
    assert actions.count("case_status_changed") == 4
    assert {"case_referred", "case_note_added", "audit_viewed", "denied"} <= set(actions)
    # An officer may not read the audit log; the attempt is recorded too.
    assert "không có quyền" in (await act(officer, f"/audit {code}")).text


async def test_deadline_alerts_escalation_and_digest_with_the_clock(bot, staff):
    officer, admin, other = staff["officer"], staff["admin"], staff["other"]
    code, _citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    # Received Monday 23/11 09:00: verification is due in 3 working days. Tuesday 24/11 is
    # Vietnamese Culture Day, a public holiday since 2026, so: Friday 27/11, 17:00.
    assert "17:00 27/11/2026" in card.text
    officer.mark()
    admin.mark()
    bot.clock.set(dt.datetime(2026, 11, 26, 9, 59, tzinfo=dt.UTC))  # Thu 16:59 local
    await run_case_jobs(bot.application)
    assert officer.unread() == []
    bot.clock.advance(dt.timedelta(minutes=1))  # 24 hours before
    summary = await run_case_jobs(bot.application)
    assert summary.sent == 1
    soon = await officer.reply()
    assert f"Vụ việc {code}" in soon.text and "đến hạn lúc 17:00 27/11/2026" in soon.text
    assert (await run_case_jobs(bot.application)).sent == 0  # once
    # Friday 17:00: overdue to the officer, and up to the commune's administrator.
    officer.mark()
    bot.clock.set(dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC))
    summary = await run_case_jobs(bot.application)
    assert summary.sent == 2
    late = await officer.reply()
    assert "đã quá hạn" in late.text
    escalated = await admin.reply()
    assert "cần quản trị viên quan tâm" in escalated.text and code in escalated.text
    bot.clock.advance(dt.timedelta(minutes=5))
    opened = await act(admin, press=escalated, label="Mở vụ việc")
    assert "quá hạn" in opened.text
    assert (await run_case_jobs(bot.application)).sent == 0  # never twice
    # Saturday is not a working day: no digest.
    officer.mark()
    other.mark()
    bot.clock.set(dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC))
    assert (await run_case_jobs(bot.application)).sent == 0
    # Monday 07:30: Hùng's digest lists the overdue case, once; Tuấn has nothing.
    bot.clock.set(dt.datetime(2026, 11, 30, 0, 29, tzinfo=dt.UTC))
    assert (await run_case_jobs(bot.application)).sent == 0
    bot.clock.advance(dt.timedelta(minutes=1))
    assert (await run_case_jobs(bot.application)).sent == 1
    digest = await officer.reply()
    assert "Chào buổi sáng, Hùng" in digest.text and code in digest.text
    assert "Quá hạn (1)" in digest.text
    assert (await run_case_jobs(bot.application)).sent == 0
    assert other.unread() == []
    async with bot.db.session() as session:
        keys = sorted(d.key for d in (await session.exec(select(Delivery))).all() if d.key)
    assert len(keys) == 4 and len(set(keys)) == 4


async def add_other_commune_officer(bot) -> int:
    """An officer (Bình, 4001) of another commune of the province, Xã Xuân Trường."""
    async with bot.db.session() as session:
        province = (await session.exec(select(Unit).where(Unit.kind == UnitKind.PROVINCE))).one()
        other_commune = Unit(kind=UnitKind.COMMUNE, code="xuan-truong", name="Xã Xuân Trường",
                             parent_id=province.id, created_at=bot.clock.now())
        session.add(other_commune)
        await session.flush()
        await member_store.upsert_member(session=session, telegram_user_id=4001,
                                         display_name="Bình", role=Role.OFFICER,
                                         unit_id=other_commune.id, agency_id=None,
                                         invited_by=ADMIN_ID, now=bot.clock.now())
    return 4001


async def test_forged_buttons_for_another_communes_case_are_denied_and_audited(bot, staff):
    code, _citizen = await reported_case(bot, staff)
    stranger = bot.user(await add_other_commune_officer(bot), "Bình")
    async with bot.db.session() as session:
        case = (await session.exec(select(Case))).one()
    menu = await act(stranger, "/start")
    for data in (f"1:cs:card:{case.id}", f"1:cs:view:{case.id}", f"1:cs:take:{case.id}",
                 f"1:cs:ok:{case.id}:{case.revision}:closed:safe",
                 f"1:cs:rfo:{case.id}:{case.revision}:1", f"1:cs:msg:{case.id}"):
        refused = await act(stranger, press=menu, data=data)
        assert "không có quyền" in refused.text, data
    assert "không có quyền" in (await act(stranger, f"/case {code}")).text
    listing = await act(stranger, "/cases all")
    assert code not in listing.text and "(0)" in listing.text
    async with bot.db.session() as session:
        case_now = (await session.exec(select(Case))).one()
        denied = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.actor_user_id == 4001))).all()
    assert case_now.status == "received" and case_now.assigned_member_id is None
    assert len(denied) == 7


async def test_reporter_relay_both_ways_with_identities_hidden(bot, staff):
    officer = staff["officer"]
    code, citizen = await reported_case(bot, staff, name="Lan Nguyễn", user_id=1077)
    card = await take_and_open(officer, code)
    prompt = await act(officer, press=card, label="Nhắn người báo tin")
    assert "không kèm tên" in prompt.text
    preview = await act(officer, "Chào bạn, cán bộ đã đến nhà. Bạn có biết em học lớp mấy không?")
    assert "Xem lại tin nhắn" in preview.text and "học lớp mấy" in preview.text
    assert citizen.user.unread() == []  # nothing reaches the reporter before "Send"
    citizen.user.mark()
    sent = await act(officer, press=preview, label="Gửi")
    assert "Đã gửi tin nhắn" in sent.text
    incoming = await citizen.user.reply()
    assert "Tin nhắn của cán bộ xử lý tin báo" in incoming.text and code in incoming.text
    assert "học lớp mấy" in incoming.text and "Hùng" not in incoming.text
    prompt = await act(citizen.user, press=incoming, label="Trả lời")
    officer.mark()
    thanks = await act(citizen.user, "Em học lớp 4 <trường> Minh Tân")
    assert "đã được chuyển đến cán bộ" in thanks.text
    answer = await officer.reply()
    assert "Em học lớp 4 &lt;trường&gt;" in answer.html or "<trường>" in answer.text
    assert "Lan" not in answer.text and "1077" not in answer.text
    status = await act(citizen.user, f"/status {code}")
    assert "học lớp mấy" in status.text
    card = await act(officer, f"/case {code}")
    assert "nhắn người báo tin" in card.text and "người báo tin trả lời" in card.text
    # Another officer cannot write to the reporter.
    other = staff["other"]
    other_card = await act(other, f"/case {code}")
    assert "Nhắn người báo tin" not in " ".join(b["text"] for b in other_card.buttons)
    refused = await act(other, press=other_card, data=f"1:cs:msg:{card_case_id(card)}")
    assert "không có quyền" in refused.text
    # A too-long message is refused whole, and the officer can try again.
    await act(officer, press=card, label="Nhắn người báo tin")
    too_long = await act(officer, "x" * 1500)
    assert "quá dài" in too_long.text
    preview = await act(officer, "Cảm ơn bạn.")
    assert "Đã gửi" in (await act(officer, press=preview, label="Gửi")).text


def card_case_id(card) -> int:
    data = card.button("Lịch sử")["callback_data"]
    return int(data.split(":")[3])


async def test_stale_buttons_show_the_case_as_it_is_now(bot, staff):
    officer, other = staff["officer"], staff["other"]
    code, _citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    old_card = await act(other, f"/case {code}")  # Tuấn opens it too
    old_assign = old_card.button("Giao việc")["callback_data"]
    confirm = await act(officer, press=card, label="Xác minh, đánh giá nguy cơ")
    await act(officer, press=confirm, label="Có, chuyển")
    # Tuấn presses buttons drawn before Hùng's change.
    fresh = await act(other, press=old_card, label="Kết thúc vụ việc")
    reasons = fresh
    fresh = await act(other, press=reasons, label="Trùng với vụ việc khác")
    assert "vừa thay đổi" in fresh.text
    assert "Tình trạng: Xác minh, đánh giá nguy cơ" in fresh.text
    fresh = await act(other, press=old_card, data=old_assign)
    assert "Ai sẽ xử lý" in fresh.text
    stale = await act(other, press=fresh, label="Tuấn")
    assert "vừa thay đổi" in stale.text
    # A button from an older version of the bot: the menu, nothing done.
    menu = await act(other, press=old_card, data="0:cs:ok:1:received:assessing")
    assert "Nút này đã cũ" in menu.text
    async with bot.db.session() as session:
        case = (await session.exec(select(Case))).one()
    assert case.status == CaseStatus.ASSESSING and case.closure_reason is None


async def test_notes_risk_change_groups_and_assignment(bot, staff):
    officer, other = staff["officer"], staff["other"]
    code, _citizen = await reported_case(bot, staff)
    card = await take_and_open(officer, code)
    confirm = await act(officer, press=card, label="⚠️ Trung bình")
    card = await act(officer, press=confirm, label="Có, ghi nhận")
    # A note with a photo.
    await act(officer, press=card, label="Thêm ghi chú")
    officer.mark()
    await officer.send_photo(caption="Vết bầm trên tay")
    noted = await officer.reply()
    assert "Đã lưu ghi chú" in noted.text and "Vết bầm trên tay 📷" in noted.text
    # Changing the risk later needs a reason, typed.
    levels = await act(officer, press=noted, label="Đổi mức nguy cơ")
    ask = await act(officer, press=levels, label="Cao")
    assert "Vì sao" in ask.text
    refused = await act(officer, "   ")
    assert "gõ" in refused.text.lower()
    changed = await act(officer, "Bố say rượu, đe dọa em")
    assert "Mức nguy cơ: Cao" in changed.text
    # Special circumstances: tick two groups.
    groups = await act(officer, press=changed, label="Hoàn cảnh đặc biệt")
    # Short labels on the buttons, the law's words in the message.
    assert all(len(b["text"]) <= 30 for b in groups.buttons)
    assert "Mắc bệnh hiểm nghèo hoặc bệnh phải điều trị dài ngày" in groups.text
    groups = await act(officer, press=groups, label="Tổn hại nặng do bạo lực")
    groups = await act(officer, press=groups, label="Khuyết tật")
    assert "☑️ Khuyết tật" in " ".join(b["text"] for b in groups.buttons)
    card = await act(officer, press=groups, label="Xong")
    assert "Hoàn cảnh đặc biệt: Khuyết tật; Bị tổn hại nghiêm trọng" in card.text
    # Give the case to Tuấn, who is told.
    choose = await act(officer, press=card, label="Giao việc")
    other.mark()
    assigned = await act(officer, press=choose, label="Tuấn")
    assert "Đã giao vụ việc cho Tuấn" in assigned.text and "Người phụ trách: Tuấn" in assigned.text
    told = await other.reply()
    assert f"Bạn được giao xử lý vụ việc {code}" in told.text
    history = await act(other, press=told, label="Mở vụ việc")
    history = await act(other, press=history, label="Lịch sử")
    for words in ("giao cho Tuấn", "mức nguy cơ: Trung bình → Cao: Bố say rượu",
                  "thêm hoàn cảnh đặc biệt: Khuyết tật", "ghi chú: Vết bầm"):
        assert words in history.text, words
    # /cancel drops a note being typed.
    card = await act(other, f"/case {code}")
    await act(other, press=card, label="Thêm ghi chú")
    assert "Đã hủy" in (await act(other, "/huy")).text
    async with bot.db.session() as session:
        notes = (await session.exec(select(CaseEvent).where(CaseEvent.kind == "note"))).all()
        case = (await session.exec(select(Case))).one()
    assert len(notes) == 1 and notes[0].file_id and case.special_groups == [
        "disability", "violence_harm"]


async def test_officer_opens_a_case_for_a_phone_call(bot, staff):
    officer = staff["officer"]
    question = await act(officer, "/newcase")
    assert "Mở vụ việc mới" in question.text
    question = await act(officer, press=question, label="Cuộc gọi điện thoại")
    question = await act(officer, press=question, label="Nguy cơ đuối nước")
    question = await act(officer, press=question, label="Thôn Đoài")
    question = await act(officer, press=question, label="Dưới 6 tuổi")
    question = await act(officer, press=question, label="Có, khẩn cấp")
    assert "mô tả ngắn" in question.text
    card = await act(officer, "Ao nhà ông Tư không có rào, trẻ hay ra chơi.")
    code = re.search(r"Đã mở vụ việc ([A-Z2-9-]{9})", card.text).group(1)
    assert "Nguồn tin: cuộc gọi điện thoại" in card.text and "Người phụ trách: Hùng" in card.text
    assert "Nhắn người báo tin" not in " ".join(b["text"] for b in card.buttons)
    # Urgent: 12 hours straight, from Monday 09:00.
    assert "21:00 23/11/2026" in card.text
    listing = await act(officer, "/cases")
    assert code in listing.text and "Vụ việc của tôi (1)" in listing.text


async def test_lists_page_and_filter_within_telegrams_limits(bot, staff):
    officer, admin = staff["officer"], staff["admin"]
    async with bot.db.session() as session:
        villages = (await session.exec(select(Unit).where(Unit.kind == UnitKind.VILLAGE)
                                       .order_by(Unit.name))).all()
        actor = await resolve_actor(2001, session=session, superadmin_ids=set())
        for n in range(19):
            await case_service.open_case(
                actor, {"channel": "phone", "category": "neglect" if n % 3 else "labour",
                        "village_id": villages[n % 2].id, "age_group": "6-10",
                        "urgent": n == 0}, f"Trường hợp số {n} " + "x" * 300,
                session=session, now=bot.clock.now(), config=bot.runtime.case_config)
    page = await act(officer, "/cases")
    assert "Vụ việc của tôi (19)" in page.text and "Trang 1/3" in page.text
    assert len(page.text) < 4096
    page = await act(officer, press=page, label="Trang sau")
    assert "Trang 2/3" in page.text
    choose = await act(officer, press=page, label="Loại")
    labour = next(b["text"] for b in choose.buttons
                  if "nặng nhọc" in b["text"] or "(7)" in b["text"])
    page = await act(officer, press=choose, label=labour)
    assert "(7)" in page.text and "Đang lọc" in page.text
    choose = await act(officer, press=page, label="Thôn")
    page = await act(officer, press=choose, label=villages[0].name)
    assert "Đang lọc" in page.text
    cleared = await act(officer, press=page, label="Bỏ lọc")
    assert "(19)" in cleared.text
    nobody = await act(officer, press=cleared, label="Chưa ai nhận")
    assert "(0)" in nobody.text
    mine = await act(officer, press=nobody, label="Vụ việc của tôi")
    opened = await act(officer, press=mine, label="1. ")
    assert "🚨" in opened.text  # the urgent one comes first
    # Every page stays valid for Telegram (the fake refuses anything over its limits).
    await act(admin, "/cases all")
    async with bot.db.session() as session:
        referrals = (await session.exec(select(CaseReferral))).all()
    assert referrals == []


async def test_a_village_collaborator_follows_only_the_reports_they_sent(bot, staff):
    root = bot.user(ADMIN_ID, "Mai")
    helper = bot.user(2201, "Hoa")
    await join(helper, await create_invite(root, "Cộng tác viên bảo vệ trẻ em (thôn)", "Thôn Đông"))
    await helper.settle()
    code, _citizen = await reported_case(bot, staff)  # someone else's report
    mine = await shortest_report(Reporter(helper))
    my_code = CODE.search(mine.text).group(1)
    listing = await act(helper, "/cases")
    assert "Tin báo bạn đã gửi (1)" in listing.text and my_code in listing.text
    assert code not in listing.text
    card = await act(helper, f"/case {my_code}")
    assert "Tình trạng: Tiếp nhận" in card.text
    assert [b["text"] for b in card.buttons] == ["📜 Lịch sử"]  # status only, no actions
    assert "không có quyền" in (await act(helper, f"/case {code}")).text
    assert "không có quyền" in (await act(helper, press=card, data=view_data(card))).text


def view_data(card) -> str:
    return f"1:cs:view:{card_case_id(card)}"
