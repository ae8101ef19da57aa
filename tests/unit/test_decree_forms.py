"""Mẫu số 01 of Decree 56/2017/NĐ-CP filled from a case: the .docx is reopened with
python-docx and read the way an officer reads the printed page."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import pytest
from docx import Document

from domain.decree_forms import (
    FORMS,
    RECEIPT,
    FormCode,
    Heading,
    Informant,
    ReceiptFacts,
    file_name,
    fill_receipt,
    place_name,
)
from services import form_docx, form_pdf
from services.form_docx import BLANK

BASE = ReceiptFacts(
    commune_name="Xã Minh Tân", case_code="ABCD-EFGH",
    received_at=dt.datetime(2026, 5, 4, 21, 5), written_on=dt.date(2026, 5, 6),
    channel="phone", category="violence", urgent=True, age_group="6-10", child_count=1,
    child_name="Nguyễn Văn A", place="Thôn Đông; cạnh chợ",
    story="Bố cháu đánh cháu bằng roi.\nCháu có vết bầm ở tay.",
    additions=("Tối qua lại nghe tiếng khóc.",),
    informant=Informant(anonymous=False, name="Trần Thị Lan", phone="0912 345 678",
                        relation="neighbour"))


def facts(**changes) -> ReceiptFacts:
    return replace(BASE, **changes)


def reopen(data: bytes) -> tuple[list[str], list[list[str]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    return paragraphs, tables


def line(paragraphs: list[str], label: str) -> str:
    """The printed line that starts with `label`."""
    found = [p for p in paragraphs if p.startswith(label)]
    assert len(found) == 1, (label, found)
    return found[0]


def informant_name(paragraphs: list[str]) -> str:
    """The "Họ và tên" line of part 3 (the child's and the parents' come before it)."""
    return paragraphs[paragraphs.index(
        "3. Thông tin về người cung cấp thông tin (nếu đồng ý cung cấp)") + 1]


def test_the_form_carries_the_decrees_number_title_and_header():
    paragraphs, tables = reopen(form_docx.render(fill_receipt(facts())))
    assert paragraphs[0] == "Mẫu số 01"
    assert "BÁO CÁO" in paragraphs
    index = paragraphs.index("BÁO CÁO")
    assert paragraphs[index + 1] == "TIẾP NHẬN THÔNG TIN TRẺ EM…(4)…"
    agency, motto = tables[0]
    assert agency.split("\n") == ["ỦY BAN NHÂN DÂN", "XÃ MINH TÂN", "-------", "Số: ……/BC-UBND"]
    assert motto.split("\n") == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                 "Độc lập - Tự do - Hạnh phúc", "---------------",
                                 "Minh Tân, ngày 06 tháng 05 năm 2026"]
    assert tables[1][1] == "Cán bộ tiếp nhận thông tin\n(Ký, ghi rõ họ tên)"
    for heading in ("A. Thông tin chung", "1. Nguồn nhận thông tin", "2. Thông tin về trẻ em",
                    "3. Thông tin về người cung cấp thông tin (nếu đồng ý cung cấp)"):
        assert heading in paragraphs
    notes = paragraphs[paragraphs.index("Ghi chú:") + 1:]
    assert notes == list(RECEIPT.notes)
    document = Document(io.BytesIO(form_docx.render(fill_receipt(facts()))))
    assert document.core_properties.title == "Mẫu số 01: Báo cáo tiếp nhận thông tin trẻ em"


def test_the_fields_are_filled_from_the_case():
    paragraphs, _tables = reopen(form_docx.render(fill_receipt(facts())))
    assert line(paragraphs, "Thông qua (điện thoại/gặp trực tiếp/người khác báo):").endswith(
        ": điện thoại")
    assert line(paragraphs, "Thời gian (mấy giờ)") == \
        "Thời gian (mấy giờ) 21:05 Ngày 04 tháng 05 năm 2026"
    assert line(paragraphs, "Họ và tên trẻ em (5)") == "Họ và tên trẻ em (5) Nguyễn Văn A"
    assert line(paragraphs, "Ngày tháng năm sinh (5)") == \
        f"Ngày tháng năm sinh (5){BLANK} hoặc ước lượng tuổi từ 6 đến 10 tuổi"
    assert line(paragraphs, "Địa điểm xảy ra vụ việc") == \
        "Địa điểm xảy ra vụ việc Thôn Đông; cạnh chợ"
    state = line(paragraphs, "Tình trạng hiện tại của trẻ em: (6)")
    assert state == ("Tình trạng hiện tại của trẻ em: (6) Bố cháu đánh cháu bằng roi.\n"
                     "Cháu có vết bầm ở tay.\nTối qua lại nghe tiếng khóc.")
    assert informant_name(paragraphs) == "Họ và tên Trần Thị Lan"
    assert line(paragraphs, "Số điện thoại") == "Số điện thoại 0912 345 678"
    remarks = line(paragraphs, "Ghi thêm")
    assert "Mã vụ việc: ABCD-EFGH." in remarks and "bạo lực, đánh đập" in remarks
    assert "Tin báo khẩn cấp." in remarks and "Quan hệ với trẻ em: hàng xóm." in remarks


def test_what_the_case_does_not_know_stays_the_decrees_blank():
    paragraphs, _tables = reopen(form_docx.render(fill_receipt(facts())))
    assert line(paragraphs, "Giới tính (5): Nam") == \
        f"Giới tính (5): Nam{BLANK} Nữ{BLANK} Không biết{BLANK}"
    assert line(paragraphs, "Họ và tên cha: (5)") == \
        f"Họ và tên cha: (5){BLANK} Tuổi{BLANK} Nghề nghiệp{BLANK}"
    for label in ("Phỏng đoán hậu quả", "Hoàn cảnh gia đình: (5)",
                  "Hiện ai là người chăm sóc trẻ em (nếu biết)", "Địa chỉ"):
        assert line(paragraphs, label).endswith(BLANK)


def test_the_reporter_appears_only_when_given_and_seen():
    anonymous = fill_receipt(facts(informant=Informant(anonymous=True, relation="teacher")))
    paragraphs, _ = reopen(form_docx.render(anonymous))
    assert informant_name(paragraphs) == f"Họ và tên{BLANK}"
    assert "không để lại danh tính" in line(paragraphs, "Ghi thêm")
    # Exported by someone who may not see who reported: not a word about them.
    hidden = fill_receipt(facts(informant=None))
    paragraphs, _ = reopen(form_docx.render(hidden))
    assert informant_name(paragraphs) == f"Họ và tên{BLANK}"
    assert line(paragraphs, "Số điện thoại") == f"Số điện thoại{BLANK}"
    remarks = line(paragraphs, "Ghi thêm")
    assert "danh tính" not in remarks and "Quan hệ" not in remarks


def test_text_a_docx_cannot_hold_is_dropped_and_markup_kept_as_text():
    filled = fill_receipt(facts(child_name="<b>Bé\x00 An</b>\x1f", story="a\x07b & <c>",
                                additions=(), channel="telegram", urgent=False, child_count=3,
                                age_group="unknown", place=""))
    paragraphs, _ = reopen(form_docx.render(filled))
    assert line(paragraphs, "Họ và tên trẻ em (5)") == "Họ và tên trẻ em (5) <b>Bé An</b>"
    assert line(paragraphs, "Tình trạng hiện tại của trẻ em: (6)").endswith(" ab & <c>")
    assert line(paragraphs, "Ngày tháng năm sinh (5)").endswith(f"ước lượng tuổi{BLANK}")
    assert line(paragraphs, "Địa điểm xảy ra vụ việc").endswith(BLANK)
    remarks = line(paragraphs, "Ghi thêm")
    assert "Tin báo về 3 trẻ em trở lên." in remarks and "khẩn cấp" not in remarks


def test_a_very_long_story_is_kept_whole():
    story = "Cháu bị đánh. " * 400
    paragraphs, _ = reopen(form_docx.render(fill_receipt(facts(story=story, additions=()))))
    assert line(paragraphs, "Tình trạng hiện tại").endswith(story.strip())


@pytest.mark.parametrize("name,place", [("Xã Minh Tân", "Minh Tân"),
                                        ("Phường Hà Trung", "Hà Trung"),
                                        ("Thị trấn Xuân Trường", "Xuân Trường"),
                                        ("Minh Tân", "Minh Tân")])
def test_the_place_of_the_date_line(name, place):
    assert place_name(name) == place


def test_only_forms_whose_text_was_found_are_offered_and_restorations_are_marked():
    assert list(FORMS) == [FormCode.RECEIPT]  # Mẫu số 06: only its first table was found
    restored = [part.label for block in RECEIPT.body if not isinstance(block, Heading)
                for part in block.parts if part.restored]
    restored += [block.text for block in RECEIPT.body
                 if isinstance(block, Heading) and block.restored]
    assert "Hiện ai là người chăm sóc trẻ em (nếu biết)" in restored
    assert "Địa chỉ" in restored
    assert RECEIPT.signer_restored == "bộ"
    assert RECEIPT.notes_missing == ("(5)", "(6)")
    assert all(source.url.startswith("https://") for source in RECEIPT.sources)
    assert file_name(FormCode.RECEIPT, "ABCD-EFGH") == "mau-so-01-ABCD-EFGH.docx"


async def test_no_pdf_without_a_converter(monkeypatch):
    monkeypatch.setattr(form_pdf.shutil, "which", lambda _name: None)
    assert form_pdf.converter() is None
    assert await form_pdf.to_pdf(b"PK") is None


@pytest.mark.skipif(form_pdf.converter() is None, reason="LibreOffice (soffice) not installed")
async def test_a_pdf_where_libreoffice_is_installed():
    pdf = await form_pdf.to_pdf(form_docx.render(fill_receipt(facts())))
    assert pdf is not None and pdf.startswith(b"%PDF")


def fake_soffice(folder, body: str) -> None:
    """A stand-in `soffice` on PATH: `body` runs with the --outdir folder in $OUT."""
    script = folder / "soffice"
    script.write_text("#!/bin/sh\n"
                      'while [ "$#" -gt 0 ]; do [ "$1" = "--outdir" ] && OUT="$2"; shift; done\n'
                      f"{body}\n")
    script.chmod(0o755)


@pytest.mark.parametrize("body,expected", [
    ('printf "%%PDF-1.7 fake" > "$OUT/form.pdf"', b"%PDF-1.7 fake"),
    ("exit 1", None),  # LibreOffice failed: the .docx alone
    ("exit 0", None),  # said it worked, wrote nothing
    ("sleep 5", None),  # hangs: given up after the time limit
])
async def test_the_converter_is_called_and_any_failure_means_no_pdf(tmp_path, monkeypatch,
                                                                     body, expected):
    fake_soffice(tmp_path, body)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert form_pdf.converter() == str(tmp_path / "soffice")
    assert await form_pdf.to_pdf(b"PK fake docx", timeout=1.0) == expected


def test_the_sex_recorded_at_assessment_is_ticked_and_the_others_stay_blank():
    paragraphs, _tables = reopen(form_docx.render(fill_receipt(facts(child_sex="female"))))
    assert line(paragraphs, "Giới tính (5): Nam") == \
        f"Giới tính (5): Nam{BLANK} Nữ ☒ Không biết{BLANK}"
