"""The decree's Mẫu số 01 from the case card, end to end: the officer presses "📄 Biểu mẫu",
chooses the form and gets the filled .docx in their private chat (reopened here with
python-docx); an agency member without the case, a citizen and a press in a group are
refused without a file; stale and forged buttons are answered as such; every export is in
the audit log."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from docx import Document
from sqlmodel import select

from bot.fakeapi import FakeGroup
from bot.fakeapi.driver import wait_until
from storage.models import AuditEntry, Case, Delivery
from tests.e2e.flows import (
    AGENCY_ROLE,
    CODE,
    COMMUNE_ADMIN_ROLE,
    OFFICER_ROLE,
    Reporter,
    act,
    join_all,
    outbox_drained,
    shortest_report,
)
from tests.unit.test_decree_forms import fake_soffice

FORM = "Mẫu số 01: Báo cáo tiếp nhận thông tin trẻ em"


@pytest.fixture
async def people(bot):
    return await join_all(bot, (2001, "Hùng", OFFICER_ROLE),
                          (2101, "Dũng", AGENCY_ROLE, "Công an xã"),
                          (3001, "Quang", COMMUNE_ADMIN_ROLE))




async def reported(bot, officer) -> tuple[str, int, Reporter]:
    citizen = Reporter(bot.user(1001, "Lan"))
    thanks = await shortest_report(citizen)
    await officer.reply()  # the new-report notice
    code = CODE.search(thanks.text).group(1)
    async with bot.db.session() as session:
        case = (await session.exec(select(Case))).one()
    return code, case.id, citizen


def documents(fake, chat_id: int) -> list[dict]:
    return [m for m in fake.chats[chat_id].messages.values() if m.get("document")]


def reopen(fake, message: dict) -> list[str]:
    data = fake.files[message["document"]["file_id"]][1]
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


async def exports(bot) -> list[AuditEntry]:
    async with bot.db.session() as session:
        return list((await session.exec(select(AuditEntry).where(
            AuditEntry.action == "case_form_exported"))).all())


async def test_the_officer_gets_mau_so_01_filled_from_the_case(bot, people):
    officer, _police, admin = people
    code, case_id, _citizen = await reported(bot, officer)
    card = await act(officer, f"/case {code}")
    await act(officer, press=card, label="Nhận xử lý", replies=2)
    card = await act(officer, f"/case {code}")
    chooser = await act(officer, press=card, label="Biểu mẫu")
    assert f"Biểu mẫu theo Nghị định 56/2017/NĐ-CP cho vụ việc {code}" in chooser.text
    assert "Chưa có Mẫu số 06" in chooser.text
    assert [b["text"] for b in chooser.buttons] == [FORM, "Quay lại vụ việc"]
    told, sent = await act(officer, press=chooser, label="Mẫu số 01", replies=2)
    assert f"{FORM}, điền từ vụ việc {code}" in told.text
    document = sent.raw["document"]
    assert document["file_name"] == f"mau-so-01-{code}.docx"
    assert sent.text == f"{FORM} – vụ việc {code}"
    paragraphs = reopen(bot.fake, sent.raw)
    assert paragraphs[0] == "Mẫu số 01"
    assert paragraphs[paragraphs.index("BÁO CÁO") + 1] == "TIẾP NHẬN THÔNG TIN TRẺ EM…(4)…"
    assert "Thông qua (điện thoại/gặp trực tiếp/người khác báo): tin nhắn qua trợ lý " \
           "Telegram của xã" in paragraphs
    assert "Địa điểm xảy ra vụ việc Thôn Đông" in paragraphs
    assert ("Tình trạng hiện tại của trẻ em: (6) Em bé nhà bên bị bố đánh mỗi tối, khóc rất "
            "to.") in paragraphs
    assert any(p.endswith("hoặc ước lượng tuổi từ 6 đến 10 tuổi") for p in paragraphs)
    remarks = next(p for p in paragraphs if p.startswith("Ghi thêm"))
    # The officer handling the case sees who reported: anonymous, a neighbour.
    assert f"Mã vụ việc: {code}." in remarks and "không để lại danh tính" in remarks
    assert "Quan hệ với trẻ em: hàng xóm." in remarks
    # Back to the card from the answer.
    back = await act(officer, press=told, label="Quay lại vụ việc")
    assert f"Vụ việc {code}" in back.text
    (entry,) = await exports(bot)
    assert entry.actor_user_id == officer.user["id"] and entry.object_id == str(case_id)
    assert entry.details["form"] == "m01" and entry.details["with_reporter"] is True
    # The case's audit log says so, in words, to the commune's administrator.
    trail = await act(admin, f"/audit {code}")
    assert "Hùng · lập biểu mẫu theo Nghị định 56 từ vụ việc (Mẫu số 01)" in trail.text, trail.text


async def test_refused_without_the_case_for_a_citizen_and_in_a_group(bot, people):
    officer, police, _admin = people
    code, case_id, citizen = await reported(bot, officer)
    forged = f"1:cf:mk:{case_id}:m01"
    # An agency member the case was not referred to.
    own = await act(police, "/cases")
    refused = await act(police, press=own, data=forged)
    assert "không có quyền" in refused.text
    refused = await act(police, press=own, data=f"1:cf:ask:{case_id}")
    assert "không có quyền" in refused.text
    # The citizen who reported it.
    mine = await act(citizen.user, f"/status {code}")
    refused = await act(citizen.user, press=mine, data=forged)
    assert "không có quyền" in refused.text
    # The officer, but in a group chat: nothing with a child's data goes there.
    group = FakeGroup(bot.fake, -100900, "Trạm Y tế xã Minh Tân")
    group.mark()
    await group.send(officer, "/subscribe")
    choose = await group.reply()
    group.mark()
    await officer.press_data(choose, forged)
    answer = await group.reply()
    assert "chỉ được gửi trong cuộc trò chuyện riêng" in answer.text
    group.mark()
    await officer.press_data(choose, f"1:cf:ask:{case_id}")
    assert "chỉ được gửi trong cuộc trò chuyện riêng" in (await group.reply()).text
    for chat_id in (police.chat_id, citizen.user.chat_id, group.chat_id, officer.chat_id):
        assert documents(bot.fake, chat_id) == []
    assert await exports(bot) == []


async def test_stale_and_forged_form_buttons(bot, people):
    officer, _police, _admin = people
    code, case_id, _citizen = await reported(bot, officer)
    card = await act(officer, f"/case {code}")
    chooser = await act(officer, press=card, label="Biểu mẫu")
    # A form the bot does not make (Mẫu số 06), and a button of an older version.
    for data in (f"1:cf:mk:{case_id}:m06", f"0:cf:mk:{case_id}:m01", f"1:cf:mk:{case_id}:x"):
        stale = await act(officer, press=chooser, data=data)
        assert "Nút này đã cũ" in stale.text
    # A case that does not exist.
    gone = await act(officer, press=chooser, data="1:cf:mk:999999:m01")
    assert "không tìm thấy" in gone.text.lower() or "không có quyền" in gone.text
    assert documents(bot.fake, officer.chat_id) == []
    # The same choice pressed twice: two files, two audit rows (each one a real export).
    await act(officer, press=chooser, label="Mẫu số 01", replies=2)
    await act(officer, press=chooser, label="Mẫu số 01", replies=2)
    assert len(documents(bot.fake, officer.chat_id)) == 2
    assert len(await exports(bot)) == 2


async def _forms_with_libreoffice(bot, people, tmp_path, monkeypatch):
    """A fake `soffice` on the PATH, a reported case, and its officer at the form chooser:
    (officer, tracking code, the chooser message)."""
    fake_soffice(tmp_path, 'printf "%%PDF-1.7 fake" > "$OUT/form.pdf"')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ.get('PATH', '')}")
    officer, _police, _admin = people
    code, _case_id, _citizen = await reported(bot, officer)
    card = await act(officer, f"/case {code}")
    return officer, code, await act(officer, press=card, label="Biểu mẫu")


async def test_a_pdf_follows_where_libreoffice_is_installed(bot, people, tmp_path, monkeypatch):
    officer, code, chooser = await _forms_with_libreoffice(bot, people, tmp_path, monkeypatch)
    _told, docx, pdf = await act(officer, press=chooser, label="Mẫu số 01", replies=3)
    assert docx.raw["document"]["file_name"] == f"mau-so-01-{code}.docx"
    assert pdf.raw["document"]["file_name"] == f"mau-so-01-{code}.pdf"
    assert bot.fake.files[pdf.raw["document"]["file_id"]][1] == b"%PDF-1.7 fake"


def _upload_name(params: dict) -> str:
    document = params.get("document")
    return document[2] if isinstance(document, tuple) else ""


async def test_a_pdf_that_did_not_get_through_is_sent_again_alone(bot, people, tmp_path,
                                                                   monkeypatch):
    """One outbox row per file: Telegram's front end failing the PDF (502) puts the PDF's
    row back for a retry; the .docx, already delivered, is not sent a second time."""
    officer, code, chooser = await _forms_with_libreoffice(bot, people, tmp_path, monkeypatch)
    bot.fake.fail_next("sendDocument", when=lambda params: _upload_name(params).endswith(".pdf"))
    _told, docx = await act(officer, press=chooser, label="Mẫu số 01", replies=2)
    assert docx.raw["document"]["file_name"] == f"mau-so-01-{code}.docx"
    await wait_until(lambda: bot.fake.outages)
    await outbox_drained(bot)  # the PDF's outcome recorded (due again after the backoff)
    assert [call.method for call in bot.fake.outages] == ["sendDocument"]
    async with bot.db.session() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.kind == "form")
                                   .order_by(Delivery.id))).all()
    assert [(r.payload["file"], r.status, r.last_error) for r in rows] == [
        ("docx", "sent", None), ("pdf", "pending", "network")]
    bot.clock.advance(dt.timedelta(seconds=10))  # past the retry's backoff
    await bot.runtime.outbox.run()
    (pdf,) = await officer.replies(1)
    assert pdf.raw["document"]["file_name"] == f"mau-so-01-{code}.pdf"
    assert [d["document"]["file_name"] for d in documents(bot.fake, officer.chat_id)] == [
        f"mau-so-01-{code}.docx", f"mau-so-01-{code}.pdf"]
    # Each attempt fills the form from the case and is audited, the failed one too (the
    # audit tells that the form was made for this person, not that it arrived).
    assert sorted(e.details["file"] for e in await exports(bot)) == ["docx", "pdf", "pdf"]
