"""A reporter's rights through the chat (the notice and consent, /xoathongtin) and the
access report an administrator shows an inspector (/truycap), end to end."""

from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa
from sqlmodel import select

from storage.models import AuditEntry, Case, DataRequest, ReportReporter
from tests.conftest import ADMIN_ID
from tests.e2e.flows import CODE, Reporter, act, shortest_report

PHONE = "0912 345 678"
STORY = "Bé Mận ở xóm trên bị dượng nhốt trong kho suốt hai ngày."




async def report_with_phone(reporter: Reporter, story: str = STORY) -> tuple[str, str]:
    """A report whose reporter leaves a phone and a name; returns (code, identity text)."""
    _intro, danger = await reporter.say("/baotin", replies=2)
    (what,) = await reporter.tap(danger, "Không, nhưng")
    (where,) = await reporter.tap(what, "Bị đánh")
    (age,) = await reporter.tap(where, "Thôn Đông")
    (count,) = await reporter.tap(age, "6–10 tuổi")
    (name,) = await reporter.tap(count, "1 em")
    (_story,) = await reporter.tap(name, "Bỏ qua")
    (more,) = await reporter.say(story)
    (identity,) = await reporter.tap(more, "Tiếp tục")
    _thanks, relation = await reporter.say(f"{PHONE} Lan", replies=2)
    (review,) = await reporter.tap(relation, "Hàng xóm")
    assert "0912345678" in review.text
    (sent,) = await reporter.tap(review, "Gửi tin báo")
    return CODE.search(sent.text).group(1), identity.text


async def take(officer, code: str):
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Nhận xử lý", replies=2)
    return await act(officer, f"/case {code}")


async def test_the_notice_comes_with_the_question_and_the_answer_is_recorded(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    code, identity = await report_with_phone(citizen)
    # What is kept, who sees it, for how long, how to delete it, and the child's exception,
    # in the question that asks for the name and phone (no extra step).
    for words in ("Mình lưu", "Chỉ cán bộ trực tiếp xử lý", "theo quy định lưu trữ của xã",
                  "/xoathongtin", "không cần xin phép bố mẹ"):
        assert words in identity, words
    anonymous = Reporter(bot.user(1002, "Nam"))
    await shortest_report(anonymous)
    assert anonymous.actions == 12  # the notice added no step
    async with bot.db.session() as session:
        rows = {r.telegram_user_id: r for r in (await session.exec(select(ReportReporter))).all()}
    assert rows[1001].consent == "given" and rows[1001].phone == "0912345678"
    assert rows[1002].consent == "declined" and rows[1002].phone is None


async def test_withdrawal_erases_the_contact_tells_the_officer_and_the_case_goes_on(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    code, _identity = await report_with_phone(citizen)
    await officer.reply()  # the new-report notice
    card = await take(officer, code)
    assert "Nhắn người báo tin" in str(card.buttons)
    details = await act(officer, press=card, label="Xem chi tiết")
    assert "0912345678" in details.text
    user = citizen.user
    kept = await act(user, "/xoathongtin")
    assert "Thông tin mình lưu về bạn" in kept.text and code in kept.text
    assert "0912345678" in kept.text and "Lan" in kept.text
    assert "đã đồng ý để lại thông tin liên hệ" in kept.text
    assert "hạn trả lời" in kept.text
    delete_data = kept.button(f"Xóa liên hệ của tôi khỏi {code}")["callback_data"]
    ask = await act(user, press=kept, label=f"Xóa liên hệ của tôi khỏi {code}")
    assert "Vụ việc vẫn tiếp tục" in ask.text
    confirm_data = ask.button("Đồng ý, xóa")["callback_data"]
    officer.mark()
    done = await act(user, press=ask, label="Đồng ý, xóa")
    assert "đã được xóa khỏi tin báo" in done.text
    told = await officer.reply()
    assert f"Người báo tin của vụ việc {code} đã rút lại thông tin liên hệ" in told.text
    assert "0912345678" not in told.text
    async with bot.db.session() as session:
        reporter = (await session.exec(select(ReportReporter))).one()
        case = (await session.exec(select(Case))).one()
        requests = (await session.exec(select(DataRequest).order_by(DataRequest.id))).all()
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert reporter.phone is None and reporter.name is None
    assert reporter.contact_withdrawn_at is not None and reporter.consent == "given"
    assert case.status == "received" or case.status not in ("closed",)
    assert [r.kind for r in requests] == ["view", "withdraw"]
    assert all(r.due_at > r.received_at and r.answered_at is not None for r in requests)
    assert "reporter_contact_withdrawn" in actions
    # The case goes on: the card shows no contact and no way to message the reporter.
    card = await act(officer, f"/case {code}")
    assert "Nhắn người báo tin" not in str(card.buttons) and "Xác minh" in str(card.buttons)
    details = await act(officer, press=card, label="Xem chi tiết")
    assert "0912345678" not in details.text and "đã rút thông tin liên hệ" in details.text
    # The reporter still follows the report with its code.
    status = await act(user, f"/status {code}")
    assert code in status.text
    # Stale buttons: the confirmation and the first screen's button again.
    again = await act(user, press=ask, data=delete_data)
    assert "không còn được lưu" in again.text
    again = await act(user, press=ask, data=confirm_data)
    assert "không còn được lưu" in again.text
    officer.mark()
    assert await officer.settle() == []  # told once
    kept = await act(user, "/xoathongtin")
    assert "đã xóa theo yêu cầu" in kept.text and kept.buttons == []


async def test_someone_else_s_report_is_refused(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    await report_with_phone(citizen)
    async with bot.db.session() as session:
        report_id = (await session.exec(select(ReportReporter))).one().report_id
    stranger = bot.user(1009, "Kẻ lạ")
    menu = await act(stranger, "/xoathongtin")
    assert "Bạn chưa gửi tin báo nào" in menu.text
    for data in (f"1:dr:wy:{report_id}", f"1:dr:w:{report_id}"):
        refused = await act(stranger, press=menu, data=data)
        assert "0912345678" not in refused.text and "Lan" not in refused.text
        assert "Đồng ý" not in str(refused.buttons)
    async with bot.db.session() as session:
        reporter = (await session.exec(select(ReportReporter))).one()
    assert reporter.phone == "0912345678" and reporter.contact_withdrawn_at is None


async def test_status_leads_to_the_reporter_s_data(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    code, _identity = await report_with_phone(citizen)
    status = await act(citizen.user, f"/status {code}")
    kept = await act(citizen.user, press=status, label="Thông tin của tôi")
    assert "0912345678" in kept.text and f"Xóa liên hệ của tôi khỏi {code}" in str(kept.buttons)


# --- /truycap -------------------------------------------------------------------------------


def _documents(bot, user) -> dict[str, bytes]:
    return {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
            for _id, m in sorted(user.chat.messages.items())
            if m.get("from", {}).get("id") == bot.fake.bot_id and "document" in m}


async def test_access_report_lists_exactly_the_views_and_exports(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    code, _identity = await report_with_phone(citizen)
    await officer.reply()
    await take(officer, code)  # views of the card, and a take (a change, not listed)
    admin = bot.user(ADMIN_ID, "Mai")
    page = await act(admin, "/truycap")
    assert "Ai đã xem hoặc xuất dữ liệu" in page.text
    async with bot.db.session() as session:
        views = (await session.exec(select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "case_viewed"))).one()
    assert views >= 2 and f"{views} lượt truy cập" in page.text
    assert page.text.count(f"vụ việc {code}") == views and page.text.count("Hùng") == views
    assert "nhận" not in page.text.split("lượt truy cập")[1].lower()  # a take is not a view
    # The workbook: the same rows, reopened.
    admin.mark()
    await admin.press(page, "Tệp Excel")
    await admin.replies(1)
    files = _documents(bot, admin)
    (name,) = files
    assert name.startswith("truy-cap-") and name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(files[name])).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == views and all(r[1] == "Hùng" and r[5] == code for r in rows)
    # The export is itself an access, listed next time; reading the report is audited too.
    page = await act(admin, "/truycap 7")
    assert f"{views + 1} lượt truy cập" in page.text and "xuất báo cáo truy cập" in page.text


async def test_access_report_is_for_administrators_and_reads_periods(bot, officer):
    refused = await act(officer, "/truycap")
    assert "không có quyền" in refused.text
    citizen = bot.user(1001, "Lan")
    assert "không có quyền" in (await act(citizen, "/truycap 1/11/2026 30/11/2026")).text
    admin = bot.user(ADMIN_ID, "Mai")
    for bad in ("hôm qua", "31/2/2026 1/3/2026", "1/12/2026 1/11/2026", "1/1/2020 1/1/2026",
                "<b>", "9" * 400):
        answer = await act(admin, f"/truycap {bad}")
        assert "chưa đọc được khoảng thời gian" in answer.text, bad
    page = await act(admin, "/truycap 1/11/2026 30/11/2026")
    assert "01/11/2026–30/11/2026" in page.text
    # A period button and a forged page number.
    other = await act(admin, press=page, label="90 ngày")
    assert "Ai đã xem hoặc xuất dữ liệu" in other.text
    forged = await act(admin, press=other, data="1:ta:p:20261101:20261130:999")
    assert "Ai đã xem hoặc xuất dữ liệu" in forged.text
    forged = await act(admin, press=other, data="1:ta:p:20261301:20261130:0")
    assert "chưa đọc được khoảng thời gian" in forged.text
