"""A citizen reports a risk to a child, end to end, and officers are told."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.jobs import run_report_jobs
from domain.roles import UnitKind
from storage.models import (
    AuditEntry,
    Case,
    Report,
    ReportDraft,
    ReportMedia,
    ReportReporter,
    Unit,
)
from tests.conftest import ADMIN_ID
from tests.e2e.flows import CODE, Reporter, create_invite, join, shortest_report
from tests.storage.seed_private import database_bytes, raw_encrypted_values


async def test_shortest_report_creates_case_and_tells_officer(bot, officer):
    citizen = Reporter(bot.user(1001, "Lan"))
    officer.mark()
    thanks = await shortest_report(citizen)
    assert "bạn đã làm một việc đúng đắn" in thanks.text
    code = CODE.search(thanks.text).group(1)
    assert "0229 3 800 000" in thanks.text and "111" in thanks.text
    assert citizen.actions == 12  # /baotin + 10 answers (the story, then Continue) + Send
    notice = await officer.reply()
    assert code in notice.text and "Thôn Đông" in notice.text
    assert "bố đánh" not in notice.text  # the story is not pushed into chats
    async with bot.db.session() as session:
        report = (await session.exec(select(Report))).one()
        reporter = (await session.exec(select(ReportReporter))).one()
        case = (await session.exec(select(Case))).one()
        drafts = (await session.exec(select(ReportDraft))).all()
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert report.code == code and report.category == "violence" and not report.urgent
    assert report.story.startswith("Em bé nhà bên")
    assert reporter.anonymous and reporter.telegram_user_id == 1001 and reporter.name is None
    assert case.status == "received" and case.assigned_member_id is None
    assert drafts == [] and "report_sent" in actions


async def test_urgent_report_shows_hotlines_before_the_next_question(bot, officer):
    user = bot.user(1002, "Nam")
    user.mark()
    await user.send("/baotin")
    _intro, danger = await user.replies(2)
    user.mark()
    await user.press(danger, "Có, đang nguy hiểm")
    hotlines, question = await user.replies(2)
    assert "Hãy gọi ngay" in hotlines.text
    for number in ("113", "115", "111", "0229 3 800 000"):
        assert number in hotlines.text
    assert "Chuyện gì đang xảy ra" in question.text
    assert hotlines.message_id < question.message_id


async def test_report_with_photos_location_contact_and_edit(bot, officer):
    user = bot.user(1003, "Hoa")
    r = Reporter(user)
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "đuối nước")
    user.mark()
    await user.send_location(20.2506, 105.9745)
    (age,) = await user.replies(1)
    assert "bao nhiêu tuổi" in age.text
    (count,) = await r.tap(age, "Dưới 6 tuổi")
    (name,) = await r.tap(count, "3 em trở lên")
    (story,) = await r.say("Bé Na")
    user.mark()
    await user.send_photo(b"pond-photo", caption="Ao không có rào chắn cạnh đường")
    (more,) = await user.replies(1)
    assert "đã dùng 31/3.000 ký tự; 1/5 ảnh" in more.text
    user.mark()
    await user.send_photo(b"second-photo")
    (more,) = await user.replies(1)
    assert "2/5 ảnh" in more.text
    (identity,) = await r.tap(more, "Tiếp tục")
    (contact,) = await r.tap(identity, "Để lại tên")
    assert contact.reply_keyboard == ["📱 Gửi số điện thoại của tôi", "🙈 Tôi muốn ẩn danh",
                                      "↩️ Quay lại"]
    user.mark()
    await user.send_contact("+84912345678")
    thanks, relation = await user.replies(2)
    (review,) = await r.tap(relation, "Người thân")
    assert "0912345678" in review.text and "Ảnh và tin nhắn thoại: 2" in review.text
    assert "vị trí đã gửi" in review.text
    (category,) = await r.tap(review, "✏️ Sự việc")
    (review,) = await r.tap(category, "Bị bỏ rơi")
    assert "bỏ rơi" in review.text.lower() and "Kiểm tra lại" in review.text
    officer.mark()
    (thanks,) = await r.tap(review, "Gửi tin báo")
    assert "Mã theo dõi" in thanks.text
    # Officers get the shared location as a map link, not bare coordinates.
    notice = await officer.reply()
    assert "vị trí người báo tin gửi: mở bản đồ (20.2506, 105.9745)" in notice.text
    links = [e.get("url", "") for e in notice.raw.get("entities", [])] + [notice.html]
    assert any("https://www.openstreetmap.org/?mlat=20.2506&mlon=105.9745" in link
               or "openstreetmap.org/?mlat=20.2506&amp;mlon=105.9745" in link for link in links)
    async with bot.db.session() as session:
        report = (await session.exec(select(Report))).one()
        media = (await session.exec(select(ReportMedia))).all()
        reporter = (await session.exec(select(ReportReporter))).one()
    assert report.category == "neglect" and report.child_count == 3 and report.child_name == "Bé Na"
    assert (report.latitude, report.longitude) == (20.2506, 105.9745)
    assert report.story == "Ao không có rào chắn cạnh đường"
    assert [m.kind for m in media] == ["photo", "photo"]
    assert not reporter.anonymous and reporter.phone == "0912345678"
    # At rest, none of it is readable: not in the columns, not in the file or its WAL.
    secrets = ["Ao không có rào chắn", "0912345678", "Bé Na", "20.2506"]
    raw = "\n".join(await raw_encrypted_values(bot.db))
    assert raw and not [s for s in secrets if s in raw]
    if bot.db.backend == "sqlite":
        blob = database_bytes(bot.db)
        assert not [s for s in secrets if s.encode() in blob]


async def test_poster_link_prefills_the_village(bot, officer):
    async with bot.db.session() as session:
        village = (await session.exec(select(Unit).where(Unit.code == "thon-bac"))).one()
    user = bot.user(1004, "Tú")
    r = Reporter(user)
    user.mark()
    await user.start(f"r_{village.id}")
    _intro, danger = await user.replies(2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (age,) = await r.tap(what, "Bỏ học")
    assert "bao nhiêu tuổi" in age.text  # the place was not asked


async def test_cancel_asks_first_then_deletes(bot):
    user = bot.user(1005, "An")
    r = Reporter(user)
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (confirm,) = await r.say("/huy")
    assert "Hủy tin báo này?" in confirm.text
    (again,) = await r.tap(confirm, "Không, tiếp tục")
    assert "Chuyện gì đang xảy ra" in again.text
    (confirm,) = await r.say("/cancel")
    (done,) = await r.tap(confirm, "Có, hủy")
    assert "đã được hủy" in done.text
    async with bot.db.session() as session:
        assert (await session.exec(select(ReportDraft))).all() == []
    (old,) = await r.tap(what, "Bị đánh")  # a button of the cancelled draft
    assert "đã được gửi hoặc đã hủy" in old.text


async def test_hostile_input_during_the_report(bot):
    user = bot.user(1006, "<script>")
    r = Reporter(user)
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    user.mark()
    await user.send_sticker()
    hint, what_again = await user.replies(2)
    assert "chọn một trong các nút" in hint.text.lower() or "không đọc được" in hint.text.lower()
    (where,) = await r.tap(what_again, "Việc khác")
    (age,) = await r.say("<b>nhà & ngõ</b> 5 \"x\" 😀")
    (stale,) = (await r.tap(what, "Bị đánh", replies=2))[:1]  # a button from an earlier question
    assert "câu hỏi trước" in stale.text
    user.mark()
    await user.send("/baotin")  # a second report while one is open
    (offer,) = await user.replies(1)
    assert "chưa gửi" in offer.text
    (back,) = await r.tap(offer, "Tiếp tục")
    (count,) = await r.tap(back, "Không rõ")
    (name,) = await r.tap(count, "2 em")
    (story,) = await r.tap(name, "Bỏ qua")
    too_long, story_again = await r.say("x" * 10_000, replies=2)
    assert "quá dài" in too_long.text and "3.000" in too_long.text
    assert "không bị mất" in too_long.text
    (more,) = await r.say("<i>Một đoạn ngắn</i> & dấu <")
    (identity,) = await r.tap(more, "Tiếp tục")
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Tôi là trẻ em đó")
    assert "<b>nhà & ngõ</b>" in review.text and "<i>Một đoạn ngắn</i> & dấu <" in review.text
    help_, = await r.say("/help")
    assert "/baotin" in help_.text
    # The conftest fixture checks that nothing above broke a Telegram rule.


async def test_flooding_is_limited_politely_and_keeps_the_draft(bot, officer):
    bot.runtime.settings.reports_per_hour = 2
    citizen = Reporter(bot.user(1007, "Bình"))
    for _ in range(2):
        await shortest_report(citizen)
    refused = await shortest_report(citizen)
    assert "đã gửi 2 tin báo trong một giờ qua" in refused.text
    async with bot.db.session() as session:
        assert len((await session.exec(select(Report))).all()) == 2
        assert len((await session.exec(select(ReportDraft))).all()) == 1
    bot.clock.advance(dt.timedelta(hours=1, seconds=1))
    review = next(m for m in reversed([citizen.user.message(i) for i in citizen.user.chat.messages])
                  if any("Gửi tin báo" in b["text"] for b in m.buttons))
    citizen.user.mark()
    await citizen.user.press(review, "Gửi tin báo")
    assert "Mã theo dõi" in (await citizen.user.reply()).text


async def test_draft_reminded_once_then_expires(bot):
    user = bot.user(1008, "Chi")
    r = Reporter(user)
    _intro, danger = await r.say("/baotin", replies=2)
    await r.tap(danger, "Không, nhưng")
    bot.clock.advance(dt.timedelta(minutes=61))
    user.mark()
    counts = await run_report_jobs(bot.application.bot, bot.runtime)
    assert counts["reminded"] == 1
    reminder = await user.reply()
    assert "chưa gửi" in reminder.text and "vẫn được giữ" in reminder.text
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["reminded"] == 0
    (question,) = await r.tap(reminder, "Tiếp tục")
    assert "Chuyện gì đang xảy ra" in question.text
    bot.clock.advance(dt.timedelta(hours=25))
    user.mark()
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["expired"] == 1
    assert "đã được xóa để bảo vệ thông tin" in (await user.reply()).text
    async with bot.db.session() as session:
        assert (await session.exec(select(ReportDraft))).all() == []


async def test_urgent_report_escalates_until_taken(bot, officer):
    admin = bot.user(ADMIN_ID, "Mai")
    commune_admin = bot.user(3001, "Quang")
    await join(commune_admin, await create_invite(admin, "Quản trị viên của xã"))
    await commune_admin.settle()
    user = bot.user(1009, "Dung")
    r = Reporter(user)
    _intro, danger = await r.say("/baotin", replies=2)
    _hot, what = await r.tap(danger, "Có, đang nguy hiểm", replies=2)
    (where,) = await r.tap(what, "Bị bắt cóc")
    (age,) = await r.tap(where, "Thôn Nam")
    (count,) = await r.tap(age, "11–15 tuổi")
    (name,) = await r.tap(count, "1 em")
    (story,) = await r.tap(name, "Bỏ qua")
    (more,) = await r.say("Có người lạ kéo em lên xe máy")
    (identity,) = await r.tap(more, "Tiếp tục")
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Khác")
    officer.mark()
    (thanks,) = await r.tap(review, "Gửi tin báo")
    # The commune is alerted now; "at the latest in 12 hours" read as slow.
    assert "được báo ngay bây giờ và phải hành động trong vòng 12 giờ" in thanks.text
    assert "chậm nhất" not in thanks.text and "gọi ngay 111 hoặc 113" in thanks.text
    notice = await officer.reply()
    assert "KHẨN CẤP" in notice.text
    commune_admin.mark()
    bot.clock.advance(dt.timedelta(minutes=29))
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 0
    bot.clock.advance(dt.timedelta(minutes=2))
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 1
    first = await commune_admin.reply()
    assert "chưa có ai nhận" in first.text and "31 phút" in first.text
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 0
    bot.clock.advance(dt.timedelta(minutes=30))
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 1
    await commune_admin.reply()
    officer.mark()
    await officer.press(notice, "Nhận xử lý")
    taken, details = await officer.replies(2)
    assert "Bạn đã nhận xử lý" in taken.text
    assert "Có người lạ kéo em" in details.text and "(chỉ bạn thấy): ẩn danh" in details.text
    bot.clock.advance(dt.timedelta(hours=2))
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 0


async def test_status_right_wrong_and_guess_limit(bot, officer):
    citizen = Reporter(bot.user(1010, "Giang"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    (status,) = await citizen.say(f"/status {code.lower().replace('-', ' ')}")
    assert code in status.text and "Đã tiếp nhận" in status.text
    assert "bố đánh" not in status.text  # nothing about the child
    (status2,) = await citizen.tap(thanks, "Xem tình trạng")
    assert code in status2.text
    guesser = Reporter(bot.user(1011, "Khách"))
    for _ in range(5):
        (wrong,) = await guesser.say("/status ABCD-EFGH")
        assert "Không tìm thấy" in wrong.text
    (blocked,) = await guesser.say(f"/status {code}")  # even the right code, now
    assert "sai mã nhiều lần" in blocked.text
    # Someone else forging the reporter's "check progress" button learns nothing.
    guesser.user.mark()
    await guesser.user.press_data(blocked, thanks.button("Xem tình trạng")["callback_data"])
    assert "không tìm thấy" in (await guesser.user.reply()).text.lower()


async def test_reporter_adds_information_and_officer_is_told(bot, officer):
    citizen = Reporter(bot.user(1012, "Hải"))
    thanks = await shortest_report(citizen)
    notice = await officer.reply()
    officer.mark()
    await officer.press(notice, "Nhận xử lý")
    await officer.replies(2)
    (ask,) = await citizen.tap(thanks, "Bổ sung thông tin")
    assert "thông tin bổ sung" in ask.text.lower()
    (saved,) = await citizen.say("Tối nay lại nghe tiếng khóc")
    officer.mark()
    (done,) = await citizen.tap(saved, "Gửi bổ sung")
    assert "Cảm ơn" in done.text
    told = await officer.reply()
    assert "bổ sung thông tin" in told.text
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert "report_added_info" in actions and "case_viewed" in actions


async def test_second_officer_cannot_take_a_taken_case_and_sees_no_reporter(bot, officer):
    admin = bot.user(ADMIN_ID, "Mai")
    other = bot.user(2002, "Tuấn")
    await join(other, await create_invite(admin, "Người làm công tác bảo vệ trẻ em"))
    await other.settle()
    citizen = Reporter(bot.user(1013, "Yến"))
    other.mark()
    await shortest_report(citizen)
    notice_1 = await officer.reply()
    notice_2 = await other.reply()
    officer.mark()
    await officer.press(notice_1, "Nhận xử lý")
    await officer.replies(2)
    other.mark()
    await other.press(notice_2, "Nhận xử lý")
    refused, details = await other.replies(2)
    assert "đã do Hùng nhận xử lý" in refused.text
    assert "chỉ bạn thấy" not in details.text  # identity only for the officer handling it
    # A citizen forging the officer's button gets nothing.
    stranger = bot.user(1014, "Lạ")
    own = (await Reporter(stranger).say("/start"))[0]
    stranger.mark()
    await stranger.press_data(own, notice_1.button("Xem chi tiết")["callback_data"])
    assert "không có quyền" in (await stranger.reply()).text


async def test_officer_works_the_case_card_through_the_workflow(bot, officer):
    citizen = Reporter(bot.user(1015, "Thu"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    await officer.reply()  # the new-report notice
    officer.mark()
    await officer.send(f"/case {code}")
    card = await officer.reply()
    assert f"Vụ việc {code}" in card.text and "Tình trạng: Tiếp nhận" in card.text
    assert "Mức nguy cơ: chưa đánh giá" in card.text and "Hạn bước này" in card.text
    officer.mark()
    await officer.press(card, "Xác minh, đánh giá nguy cơ")
    confirm = await officer.reply()
    assert "Chuyển vụ việc" in confirm.text
    yes = confirm.button("Có, chuyển")["callback_data"]
    officer.mark()
    await officer.press(confirm, "Có, chuyển")
    card = await officer.reply()
    assert "Tình trạng: Xác minh, đánh giá nguy cơ" in card.text
    # The old confirmation pressed again (a stale button): nothing changes twice.
    officer.mark()
    await officer.press_data(card, yes)
    assert "Xác minh, đánh giá nguy cơ" in (await officer.reply()).text
    officer.mark()
    await officer.press(card, "⚠️ Cao")
    confirm = await officer.reply()
    officer.mark()
    await officer.press(confirm, "Có, ghi nhận")
    card = await officer.reply()
    assert "Mức nguy cơ: Cao" in card.text
    officer.mark()
    await officer.press(card, "Lập kế hoạch hỗ trợ")
    stale = await officer.reply()  # the confirmation, drawn for "assessing"
    async with bot.db.session() as session:  # meanwhile someone closes the case
        case = (await session.exec(select(Case))).one()
        case.status = "closed"
        case.closure_reason = "duplicate"
        case.revision += 1
    officer.mark()
    await officer.press(stale, "Có, chuyển")
    fresh = await officer.reply()
    assert "vừa thay đổi" in fresh.text and "Đã kết thúc" in fresh.text
    officer.mark()
    await officer.press(fresh, "🔓 Mở lại vụ việc")  # reopening
    await officer.press(await officer.reply(), "Có, chuyển")
    card = await officer.reply()
    assert "Tình trạng: Xác minh, đánh giá nguy cơ" in card.text
    officer.mark()
    await officer.press(card, "Kết thúc vụ việc")
    reasons = await officer.reply()
    officer.mark()
    await officer.press(reasons, "Trẻ đã an toàn")
    closed = await officer.reply()
    assert "Tình trạng: Đã kết thúc" in closed.text and "Trẻ đã an toàn" in closed.text
    async with bot.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert actions.count("case_status_changed") == 3 and "case_risk_changed" in actions
    told = await citizen.user.reply()  # the reporter hears the case is closed, in plain words
    assert "đã được xử lý xong và khép lại" in told.text and "111" in told.text
    assert "Trẻ đã an toàn" not in told.text and "Hùng" not in told.text
    # A citizen forging the close button of this case: refused and recorded.
    own = (await citizen.say("/start"))[0]
    citizen.user.mark()
    await citizen.user.press_data(own, f"1:cs:ok:{case.id}:{case.revision}:closed:safe")
    assert "không có quyền" in (await citizen.user.reply()).text


async def test_without_a_commune_admin_the_install_admin_is_told_without_case_buttons(bot, officer):
    root = bot.user(ADMIN_ID, "Mai")
    await Reporter(root).say("/start")
    r = Reporter(bot.user(1020, "Khoa"))
    _intro, danger = await r.say("/baotin", replies=2)
    _hot, what = await r.tap(danger, "Có, đang nguy hiểm", replies=2)
    (where,) = await r.tap(what, "Bị đánh")
    (age,) = await r.tap(where, "Thôn Nam")
    (count,) = await r.tap(age, "6–10 tuổi")
    (name,) = await r.tap(count, "1 em")
    (story,) = await r.tap(name, "Bỏ qua")
    (more,) = await r.say("Em bị đánh ngoài đường")
    (identity,) = await r.tap(more, "Tiếp tục")
    (relation,) = await r.tap(identity, "Ẩn danh")
    (review,) = await r.tap(relation, "Khác")
    await r.tap(review, "Gửi tin báo")
    root.mark()
    bot.clock.advance(dt.timedelta(minutes=31))
    assert (await run_report_jobs(bot.application.bot, bot.runtime))["escalated"] == 1
    told = await root.reply()
    assert "chưa có ai nhận" in told.text and told.buttons == []


async def test_a_commune_with_many_villages_pages_them_and_finds_a_typed_name(bot):
    """120 villages: Telegram refuses more than 100 buttons, so the place question shows
    ten at a time in Vietnamese order, and typing part of a name offers the matches."""
    async with bot.db.session() as session:
        commune = (await session.exec(select(Unit).where(Unit.code == "minh-tan"))).one()
        for i in range(1, 121):
            session.add(Unit(kind=UnitKind.VILLAGE, code=f"xom-{i}", name=f"Xóm {i}",
                             parent_id=commune.id, created_at=bot.clock.now()))
    r = Reporter(bot.user(1003, "Hoa"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    labels = [b["text"] for b in where.buttons]
    assert labels[:10] == ["Thôn An Lạc", "Thôn Bắc", "Thôn Đoài", "Thôn Đông", "Thôn Minh Châu",
                           "Thôn Nam", "Thôn Tân Lập", "Thôn Trung", "Xóm 1", "Xóm 2"]
    assert "Trang 1/13" in where.text and "gõ một phần tên thôn" in where.text
    (page2,) = await r.tap(where, "Trang sau")
    assert page2.message_id == where.message_id and "Trang 2/13" in page2.text
    assert [b["text"] for b in page2.buttons][:2] == ["Xóm 3", "Xóm 4"]
    # Typed text that names villages is not taken as an address at once.
    (offer,) = await r.say("xom 11")
    found = [b["text"] for b in offer.buttons]
    assert found[:10] == ["Xóm 11", *[f"Xóm {n}" for n in range(110, 119)]]
    assert "Xóm 12" not in found and any("Trang sau" in label for label in found)
    assert any("Dùng “xom 11” làm địa chỉ" in label for label in found)
    (age,) = await r.tap(offer, "Xóm 11")
    assert "bao nhiêu tuổi" in age.text
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
        village = await session.get(Unit, draft.answers["village_id"])
    assert village.name == "Xóm 11" and "place_typed" not in draft.answers


async def test_typed_text_at_the_place_question_can_still_be_the_address(bot):
    r = Reporter(bot.user(1004, "Tùng"))
    _intro, danger = await r.say("/baotin", replies=2)
    (what,) = await r.tap(danger, "Không, nhưng")
    (where,) = await r.tap(what, "Bị đánh")
    (offer,) = await r.say("gần cầu thôn Đông")
    assert "Thôn Đông" not in [b["text"] for b in offer.buttons]  # "gần cầu…" is not a name
    assert "bao nhiêu tuổi" in offer.text  # no village matches the whole text: an address
    async with bot.db.session() as session:
        draft = (await session.exec(select(ReportDraft))).one()
    assert draft.answers["address"] == "gần cầu thôn Đông"
    r2 = Reporter(bot.user(1005, "Vy"))
    _intro, danger = await r2.say("/baotin", replies=2)
    (what,) = await r2.tap(danger, "Không, nhưng")
    (where,) = await r2.tap(what, "Bị đánh")
    (offer,) = await r2.say("Đông")
    assert offer.buttons[0]["text"] == "Thôn Đông"
    (age,) = await r2.tap(offer, "làm địa chỉ")
    assert "bao nhiêu tuổi" in age.text
    async with bot.db.session() as session:
        drafts = {d.user_id: d for d in (await session.exec(select(ReportDraft))).all()}
    assert drafts[1005].answers["address"] == "Đông" and "village_id" not in drafts[1005].answers


async def test_the_guess_limit_never_locks_a_person_out_of_their_own_reports(bot, officer):
    citizen = Reporter(bot.user(1012, "Hương"))
    thanks = await shortest_report(citizen)
    code = CODE.search(thanks.text).group(1)
    for _ in range(5):  # mistyped codes, say from an old note
        (wrong,) = await citizen.say("/status ABCD-EFGH")
        assert "Không tìm thấy" in wrong.text
    (blocked,) = await citizen.say("/status ABCD-EFGK")  # still locked for other codes
    assert "sai mã nhiều lần" in blocked.text
    (own,) = await citizen.say(f"/status {code}")
    assert code in own.text and "Đã tiếp nhận" in own.text
