"""The commune leader (lãnh đạo UBND xã) approves support plans and closings (Decree
56/2017, Điều 28 and 30), end to end through the fake Telegram: a plan submitted, returned
with a typed comment, resubmitted and approved; a closing approved; an old button pressed
after the case changed; an officer trying the leader's button; the approval step's deadline
alert; a commune with approval switched off; the review loop back to a new plan; the
child's sex and place of harm at the assessment."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlmodel import select

from bot.jobs import run_case_jobs
from domain.periods import parse_period
from domain.roles import Actor, Role, UnitKind
from handlers.stats import appendix
from services import stats as stats_service
from storage.models import AuditEntry, Case, CaseEvent, Delivery, Report, Unit
from storage.units import get_unit_scope
from tests.conftest import ADMIN_ID
from tests.e2e.flows import CODE, Reporter, act, create_invite, join, shortest_report

LEADER_LABEL = "Lãnh đạo UBND xã"


@pytest.fixture
async def people(bot):
    """An officer and the commune's leader (Chủ tịch UBND xã), joined by invitation."""
    root = bot.user(ADMIN_ID, "Mai")
    officer = bot.user(2001, "Hùng")
    await join(officer, await create_invite(root, "Người làm công tác bảo vệ trẻ em"))
    leader = bot.user(2201, "Thảo")
    joined = await join(leader, await create_invite(root, LEADER_LABEL))
    assert any("lãnh đạo UBND xã" in m.text for m in joined), [m.text for m in joined]
    for person in (officer, leader, root):
        await person.settle()
    return {"officer": officer, "leader": leader, "root": root}


async def event_kinds(bot, code: str) -> list[str]:
    """The kinds of the case's history rows, oldest first."""
    case = await case_row(bot, code)
    async with bot.db.session() as session:
        return [e.kind for e in (await session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))]


async def case_in_planning(bot, people, *, user_id: int = 1001) -> str:
    """A citizen's report, taken and assessed by the officer (sex and place recorded), now
    at the support plan."""
    officer = people["officer"]
    citizen = Reporter(bot.user(user_id, "Lan"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    await officer.reply()  # the new-report notice
    card = await act(officer, f"/case {code}")
    officer.mark()
    await officer.press(card, "Nhận xử lý")
    await officer.replies(2)
    card = await act(officer, f"/case {code}")
    confirm = await act(officer, press=card, label="Xác minh, đánh giá nguy cơ")
    card = await act(officer, press=confirm, label="Có, chuyển")
    confirm = await act(officer, press=card, label="⚠️ Thấp")
    card = await act(officer, press=confirm, label="Có, ghi nhận")
    facts = await act(officer, press=card, label="Giới tính, nơi xảy ra")
    facts = await act(officer, press=facts, label="nữ")
    facts = await act(officer, press=facts, label="gia đình")
    assert "Giới tính: nữ" in facts.text and "Nơi xảy ra: gia đình" in facts.text
    card = await act(officer, press=facts, label="Xong")
    assert "Giới tính của trẻ: nữ · nơi xảy ra: gia đình" in card.text
    confirm = await act(officer, press=card, label="Lập kế hoạch hỗ trợ")
    card = await act(officer, press=confirm, label="Có, chuyển")
    assert "Tình trạng: Lập kế hoạch hỗ trợ" in card.text
    return code


async def case_row(bot, code: str) -> Case:
    async with bot.db.session() as session:
        report = (await session.exec(select(Report).where(Report.code == code))).one()
        return (await session.exec(select(Case).where(Case.report_id == report.id))).one()


async def submit_plan(officer, leader, code: str, plan: str):
    card = await act(officer, f"/case {code}")
    assert "Lãnh đạo UBND xã phê duyệt: có áp dụng" in card.text
    labels = [b["text"] for b in card.buttons]
    assert "📤 Trình kế hoạch để phê duyệt" in labels
    assert not any("Thực hiện kế hoạch" in label for label in labels)
    prompt = await act(officer, press=card, label="Trình kế hoạch")
    assert "KẾ HOẠCH HỖ TRỢ" in prompt.text
    leader.mark()
    submitted = await act(officer, plan)
    assert "Đã trình lãnh đạo UBND xã: kế hoạch hỗ trợ" in submitted.text
    assert "⏳ Chờ lãnh đạo UBND xã phê duyệt" in submitted.text
    notice = await leader.reply()
    assert f"Chờ phê duyệt: kế hoạch hỗ trợ – vụ việc {code}" in notice.text
    return submitted, notice


async def test_plan_returned_with_a_comment_then_approved(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code,
                                      "Thăm gia đình hằng tuần <và> tư vấn tâm lý cho em")
    assert "Thăm gia đình hằng tuần &lt;và&gt;" in notice.text or "<và>" in notice.text
    assert "Bạn vui lòng cho ý kiến trước" in notice.text
    # The request is an outbox row written with the change, for the leader's chat.
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.kind == "approval"))).all()
    assert [r.chat_id for r in rows] == [2201]
    # While it waits, the officer cannot move the plan on, and the leader's list shows it.
    listing = await act(leader, "/cases")
    assert "Chờ bạn phê duyệt (1)" in listing.text and code in listing.text
    # An officer pressing the leader's button (forged onto their own card) is refused.
    card = await act(officer, f"/case {code}")
    refused = await act(officer, press=card, data=notice.button("Phê duyệt")["callback_data"])
    assert "không có quyền" in refused.text
    assert (await case_row(bot, code)).status == "planning"
    # The leader returns it with a typed comment (answered in two messages: the first counts).
    prompt = await act(leader, press=notice, label="Trả lại kèm ý kiến")
    assert "gõ ý kiến" in prompt.text
    officer.mark()
    returned = await act(leader, "Cần ghi rõ ai phụ trách việc thăm gia đình.")
    assert "Đã trả lại kế hoạch hỗ trợ" in returned.text
    told = await officer.reply()
    assert "Lãnh đạo UBND xã đã trả lại kế hoạch hỗ trợ" in told.text
    assert "Cần ghi rõ ai phụ trách" in told.text
    follow_up = await act(leader, "và thêm lịch cụ thể")  # nothing waits any more: not a comment
    assert "Cần ghi rõ" not in follow_up.text
    case = await case_row(bot, code)
    assert case.status == "planning" and case.approval is None
    # The old "Approve" on the first request: a new message says it was returned; the
    # request keeps its plan, only its decision buttons go.
    first, first_return = notice, notice.button("Trả lại")["callback_data"]
    _kept, stale = await act(leader, press=notice, label="Phê duyệt", replies=2)
    assert "không còn chờ quyết định" in stale.text and "trả lại kèm ý kiến" in stale.text
    assert "Thảo" in stale.text and "Không có gì thay đổi" in stale.text
    kept = leader.message(first.message_id)
    assert "Thăm gia đình hằng tuần" in kept.text
    assert [b["text"] for b in kept.buttons] == ["📁 Mở vụ việc"]
    assert (await case_row(bot, code)).status == "planning"
    # Resubmitted, approved: the plan is carried out and the officer is told.
    _card, notice = await submit_plan(officer, leader, code,
                                      "Chị Hà (Hội Phụ nữ) thăm gia đình thứ Hai hằng tuần.")
    officer.mark()
    approved = await act(leader, press=notice, label="Phê duyệt")
    assert "Đã phê duyệt kế hoạch hỗ trợ" in approved.text
    assert "Tình trạng: Thực hiện kế hoạch" in approved.text
    told = await officer.reply()
    assert "Lãnh đạo UBND xã đã phê duyệt kế hoạch hỗ trợ" in told.text
    # Pressed twice: nothing more; the old (returned) request says it was returned and
    # that nothing newer waits any more.
    _kept, again = await act(leader, press=notice, label="Phê duyệt", replies=2)
    assert "đã được Thảo phê duyệt" in again.text and "Không có gì thay đổi" in again.text
    # A second device still showing the first request's "Return": what became of it.
    older = await act(leader, press=first, data=first_return)
    assert "trả lại kèm ý kiến" in older.text and "đề nghị mới hơn" not in older.text
    async with bot.db.session() as session:
        case = await case_row(bot, code)
        kinds = [e.kind for e in (await session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))).all()]
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert kinds.count("approval_asked") == 2 and kinds.count("returned") == 1
    assert kinds.count("approved") == 1 and kinds[-1] == "status"
    assert "denied" in actions and actions.count("case_approved") == 1
    history = await act(officer, press=told, label="Mở vụ việc")
    history = await act(officer, press=history, label="Lịch sử")
    assert "lãnh đạo UBND xã trả lại: kế hoạch hỗ trợ · Cần ghi rõ" in history.text
    assert "lãnh đạo UBND xã phê duyệt: kế hoạch hỗ trợ" in history.text


async def test_closing_after_review_is_approved_and_the_approval_step_has_a_deadline(bot, people):
    officer, leader = people["officer"], people["leader"]
    code = await case_in_planning(bot, people)
    _card, notice = await submit_plan(officer, leader, code, "Kế hoạch hỗ trợ.")
    # Submitted Monday 23/11/2026; 24/11 is a day off: 2 working days end Thursday 26/11.
    assert "17:00 26/11/2026" in notice.text
    leader.mark()
    bot.clock.set(dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC))  # Wed 17:00 local
    assert (await run_case_jobs(bot.application)).sent == 1
    alert = await leader.reply()
    assert code in alert.text and "lãnh đạo UBND xã phê duyệt kế hoạch hỗ trợ" in alert.text
    officer.mark()
    approved = await act(leader, press=notice, label="Phê duyệt")
    assert "Thực hiện kế hoạch" in approved.text
    await officer.reply()  # told of the approval
    card = await act(officer, f"/case {code}")
    confirm = await act(officer, press=card, label="Theo dõi, đánh giá")
    card = await act(officer, press=confirm, label="Có, chuyển")
    reasons = await act(officer, press=card, label="Đề xuất kết thúc")
    leader.mark()
    submitted = await act(officer, press=reasons, label="Trẻ đã an toàn")
    assert "Đã trình lãnh đạo UBND xã: kết thúc vụ việc" in submitted.text
    assert "Tình trạng: Theo dõi, đánh giá" in submitted.text
    notice = await leader.reply()
    assert "Chờ phê duyệt: kết thúc vụ việc" in notice.text and "Trẻ đã an toàn" in notice.text
    citizen = bot.user(1001, "Lan")
    citizen.mark()
    officer.mark()
    closed = await act(leader, press=notice, label="Phê duyệt")
    assert "Đã phê duyệt kết thúc vụ việc" in closed.text and "Đã kết thúc" in closed.text
    assert "Lãnh đạo UBND xã đã phê duyệt kết thúc vụ việc" in (await officer.reply()).text
    told = await citizen.reply()  # the reporter hears that it is closed, nothing more
    assert code in told.text and "khép lại" in told.text and "Thảo" not in told.text
    case = await case_row(bot, code)
    assert (case.status, case.closure_reason) == ("closed", "safe")


async def test_approval_switched_off_and_the_review_loop(bot, people):
    officer, leader = people["officer"], people["leader"]
    async with bot.db.session() as session:
        for unit in (await session.exec(select(Unit).where(Unit.kind == UnitKind.COMMUNE))).all():
            unit.leader_approval = False
        await session.commit()
    code = await case_in_planning(bot, people)
    leader.mark()
    card = await act(officer, f"/case {code}")
    assert "Lãnh đạo UBND xã phê duyệt: xã đã tắt bước này" in card.text
    confirm = await act(officer, press=card, label="➡️ Thực hiện kế hoạch")
    card = await act(officer, press=confirm, label="Có, chuyển")
    confirm = await act(officer, press=card, label="Theo dõi, đánh giá")
    card = await act(officer, press=confirm, label="Có, chuyển")
    # After the review, a new plan (Điều 30): allowed and in the history.
    confirm = await act(officer, press=card, label="🔁 Lập kế hoạch hỗ trợ mới")
    card = await act(officer, press=confirm, label="Có, chuyển")
    assert "Tình trạng: Lập kế hoạch hỗ trợ" in card.text
    assert "Theo dõi, đánh giá → Lập kế hoạch hỗ trợ" in card.text
    case = await case_row(bot, code)
    assert case.plan_round == 1 and case.due_at > bot.clock.now()  # counts from now
    reasons = await act(officer, press=card, label="Kết thúc vụ việc")
    closed = await act(officer, press=reasons, label="Trẻ đã an toàn")
    assert "Tình trạng: Đã kết thúc" in closed.text
    assert leader.unread() == []  # nothing went to the leader


async def test_stats_break_children_down_by_sex_age_and_place(bot, people):
    """The child's sex and the place of harm recorded at the assessment reach /stats and the
    workbook's totals (the same appendix table), as Circular 13/2021's indicator wants."""
    leader = people["leader"]
    code = await case_in_planning(bot, people)
    leader.mark()
    await leader.send("/stats")
    messages = []
    while not any("photo" in m.raw for m in messages):
        messages += await leader.replies(1, timeout=30)
    text = "\n".join(m.text for m in messages if "photo" not in m.raw)
    assert code not in text  # figures only
    section = text[text.index("Trẻ em trong các vụ việc theo giới tính"):]
    for line in ("Theo giới tính của trẻ\n• Nữ: 1", "• 6–10 tuổi: 1",
                 "Theo nơi xảy ra xâm hại\n• Gia đình: 1"):
        assert line in section, line
    assert "• Nam:" not in section  # the chat lists what is not zero
    # The workbook's case list has the two answers as columns.
    (photo,) = [m for m in messages if "photo" in m.raw]
    leader.mark()
    await leader.press(photo, "Tải tệp XLSX và CSV")
    while True:
        done = await leader.reply(timeout=30)
        if "Đã xong tệp số liệu" in done.text:
            break
    files = {m["document"]["file_name"]: bot.fake.files[m["document"]["file_id"]][1]
             for m in leader.chat.messages.values() if "document" in m}
    (xlsx,) = [data for name, data in files.items() if name.endswith(".xlsx")]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Danh sách vụ việc"]
    header, *body = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert [row[header.index("Giới tính của trẻ")] for row in body] == ["nữ"]
    assert [row[header.index("Nơi xảy ra")] for row in body] == ["gia đình"]
    # The workbook's totals sheet is the same table, zeros included.
    async with bot.db.session() as session:
        commune = (await session.exec(select(Unit).where(Unit.kind == UnitKind.COMMUNE))).first()
        actor = Actor(user_id=leader.id, role=Role.LEADER,
                      scope=await get_unit_scope(commune.id, session=session))
        scope = await stats_service.scope_for(actor, session=session)
        period = parse_period("", bot.clock.now().astimezone(bot.runtime.tz).date(),
                              await stats_service.deadlines_of(scope, session=session))
        figures = await stats_service.figures(scope, period, session=session,
                                              tz=bot.runtime.tz, now=bot.clock.now())
    rows = {(r.label, r.total) for s in appendix(figures, bot.runtime.tz).sections
            for r in s.rows if s.number == "VI"}
    for label, value in (("Nữ", 1), ("Nam", 0), ("Chưa rõ", 0), ("Chưa ghi", 0),
                         ("Gia đình", 1), ("Môi trường mạng", 0), ("6–10 tuổi", 1)):
        assert (label, value) in rows, (label, rows)
