"""The annex forms of Decree 56/2017/NĐ-CP that the bot fills from a case, as data.

Only forms whose official text was found are here, each with the decree's own name and
labels (Vietnamese, as the decree prints them, footnote markers included). Where the source
dropped a word that context makes certain, the label carries `restored=` naming the words
put back, so nobody mistakes them for quoted text. Nothing here is invented layout.

Found (see notes/issue-12-h12c.md for the search):
- Mẫu số 01 "Báo cáo tiếp nhận thông tin trẻ em": the whole body, notes (1)–(4).
  Notes (5) and (6) were cut off in every source found, so they are not printed.
Not built:
- Mẫu số 06 "Rà soát, đánh giá tình trạng của trẻ em sau khi thực hiện kế hoạch hỗ trợ, can
  thiệp": only its first table (1.a) was found; the rest of the layout was not, so the bot
  does not produce it.

No Telegram, no SQL: the service gathers `ReceiptFacts`, this module turns them into the
values of the form's fields, and services/form_docx.py lays the form out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

from domain.cases import Channel
from domain.reports import AgeGroup, Category, Relation

DECREE = "Nghị định số 56/2017/NĐ-CP"


class FormCode(StrEnum):
    RECEIPT = "m01"  # Mẫu số 01


@dataclass(frozen=True)
class Source:
    url: str
    covers: str


@dataclass(frozen=True)
class Part:
    """A label printed as the decree prints it, followed by the value of `key` (or the
    decree's dotted blank when the case does not know it)."""

    label: str
    key: str | None = None
    restored: str | None = None  # words of the label put back from context, if any


@dataclass(frozen=True)
class Row:
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Heading:
    text: str
    restored: str | None = None


Block = Row | Heading


@dataclass(frozen=True)
class FormSpec:
    code: FormCode
    number: str  # "Mẫu số 01"
    name: str  # the form's name in the decree, sentence case
    title: tuple[str, ...]  # the title lines exactly as printed
    body: tuple[Block, ...]
    signer: tuple[str, str]  # who signs, and the "(Ký, ghi rõ họ tên)" line
    signer_restored: str | None
    notes: tuple[str, ...]  # the "Ghi chú" lines found
    notes_missing: tuple[str, ...]  # markers whose note text was not found
    sources: tuple[Source, ...]

    @property
    def full_name(self) -> str:
        return f"{self.number}: {self.name}"


def _row(*parts: Part) -> Row:
    return Row(parts)


RECEIPT = FormSpec(
    code=FormCode.RECEIPT,
    number="Mẫu số 01",
    name="Báo cáo tiếp nhận thông tin trẻ em",
    title=("BÁO CÁO", "TIẾP NHẬN THÔNG TIN TRẺ EM…(4)…"),
    body=(
        Heading("A. Thông tin chung"),
        Heading("1. Nguồn nhận thông tin"),
        _row(Part("Thông qua (điện thoại/gặp trực tiếp/người khác báo):", "channel")),
        _row(Part("Thời gian (mấy giờ)", "time"), Part("Ngày", "day"), Part("tháng", "month"),
             Part("năm", "year")),
        Heading("2. Thông tin về trẻ em"),
        _row(Part("Họ và tên trẻ em (5)", "child_name")),
        _row(Part("Ngày tháng năm sinh (5)", "birth_date"),
             Part("hoặc ước lượng tuổi", "age_estimate")),
        _row(Part("Giới tính (5): Nam", "sex_male"), Part("Nữ", "sex_female"),
             Part("Không biết", "sex_unknown")),
        _row(Part("Địa điểm xảy ra vụ việc", "place")),
        _row(Part("Tình trạng hiện tại của trẻ em: (6)", "state")),
        _row(Part("Phỏng đoán hậu quả có thể sẽ xảy ra cho trẻ em nếu không có được hỗ trợ, "
                  "can thiệp?", "consequences")),
        _row(Part("Họ và tên cha: (5)", "father_name"), Part("Tuổi", "father_age"),
             Part("Nghề nghiệp", "father_job")),
        _row(Part("Họ và tên mẹ: (5)", "mother_name"), Part("Tuổi", "mother_age"),
             Part("Nghề nghiệp", "mother_job")),
        _row(Part("Hoàn cảnh gia đình: (5)", "family")),
        _row(Part("Hiện ai là người chăm sóc trẻ em (nếu biết)", "carer", restored="ai là")),
        _row(Part("Những hành động hỗ trợ, can thiệp đã thực hiện đối với trẻ em trước khi "
                  "nhận được thông tin:", "actions_before",
                  restored="đã … hiện đối với … khi … được")),
        Heading("3. Thông tin về người cung cấp thông tin (nếu đồng ý cung cấp)",
                restored="về"),
        _row(Part("Họ và tên", "informant_name", restored="và")),
        _row(Part("Số điện thoại", "informant_phone")),
        _row(Part("Địa chỉ", "informant_address", restored="chỉ")),
        _row(Part("Ghi thêm", "remarks")),
    ),
    signer=("Cán bộ tiếp nhận thông tin", "(Ký, ghi rõ họ tên)"),
    signer_restored="bộ",
    notes=(
        # (1), (2): "cơ" restored; (4): "cơ" and "hoặc" restored (the source dropped them).
        "(1) Tên cơ quan tiếp nhận thông tin.",
        "(2) Chữ viết tắt tên cơ quan tiếp nhận thông tin.",
        "(3) Địa danh.",
        "(4) Trẻ em thuộc đối tượng: bị xâm hại/có nguy cơ bị bạo lực/bóc lột/bỏ rơi hoặc trẻ "
        "em có hoàn cảnh đặc biệt.",
    ),
    notes_missing=("(5)", "(6)"),
    sources=(
        Source("https://luatminhkhue.vn/tong-hop-cac-bieu-mau-su-dung-trong-cong-tac-tre-em-"
               "theo-nghi-dinh-56-2017-nd-cp.aspx",
               "header, title, part A.1 and A.2 up to the mother's line, with diacritics"),
        Source("https://123docz.net/document/14058687-bao-cao-tiep-nhan-thong-tin-tre-em-doc.htm",
               "the whole form as extracted text (some short words dropped), notes (1)–(4), "
               "notes (5)–(6) cut off"),
        Source("https://xaduonghuy.campha.gov.vn/xaduonghuy/chi-tiet-thu-tuc-hanh-chinh/"
               "thu-tuc-phe-duyet-ke-hoach-ho-tro-can-thiep-%C4%91oi-voi-tre-em-bi-xam-hai-"
               "hoac-co-nguy-co-bi-bao-luc-boc-23878",
               "the receipt is recorded on Mẫu số 01 of the decree's annex"),
    ),
)

FORMS: dict[FormCode, FormSpec] = {RECEIPT.code: RECEIPT}


# --- filling Mẫu số 01 from a case --------------------------------------------------------

# The form's own choices for "Thông qua (điện thoại/gặp trực tiếp/người khác báo)".
_CHANNEL_WORDS = {
    Channel.PHONE: "điện thoại",
    Channel.DIRECT: "gặp trực tiếp",
    Channel.SCHOOL: "người khác báo (nhà trường)",
    Channel.AGENCY: "người khác báo (cơ quan, tổ chức)",
    Channel.TELEGRAM: "tin nhắn qua trợ lý Telegram của xã",
    Channel.OTHER: "hình thức khác",
}

_AGE_WORDS = {
    AgeGroup.UNDER_6: "dưới 6 tuổi",
    AgeGroup.AGE_6_10: "từ 6 đến 10 tuổi",
    AgeGroup.AGE_11_15: "từ 11 đến 15 tuổi",
    AgeGroup.AGE_16_17: "16 hoặc 17 tuổi",
    AgeGroup.UNKNOWN: "",
}

_CATEGORY_WORDS = {
    Category.VIOLENCE: "bạo lực, đánh đập",
    Category.SEXUAL_ABUSE: "xâm hại tình dục",
    Category.NEGLECT: "bỏ rơi, bỏ mặc",
    Category.LABOUR: "bóc lột sức lao động",
    Category.TRAFFICKING: "mua bán, bắt cóc",
    Category.CHILD_MARRIAGE: "tảo hôn",
    Category.DROPOUT: "bỏ học",
    Category.DROWNING_INJURY: "nguy cơ đuối nước, tai nạn thương tích",
    Category.ONLINE: "xâm hại trên môi trường mạng",
    Category.OTHER: "khác",
}

_RELATION_WORDS = {
    Relation.NEIGHBOUR: "hàng xóm",
    Relation.TEACHER: "giáo viên",
    Relation.RELATIVE: "người thân",
    Relation.PARENT: "cha, mẹ",
    Relation.SELF: "chính trẻ em",
    Relation.FRIEND: "bạn bè",
    Relation.OTHER: "khác",
}

_UNIT_PREFIXES = ("Thị trấn", "Xã", "Phường", "Đặc khu")
# Characters XML 1.0 (hence a .docx) cannot hold.
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Informant:
    """Who reported, only when the person exporting may see it (the officer handling)."""

    anonymous: bool
    name: str | None = None
    phone: str | None = None
    relation: str | None = None


@dataclass(frozen=True)
class ReceiptFacts:
    """What the case knows that Mẫu số 01 asks for."""

    commune_name: str  # "Xã Minh Tân"
    case_code: str
    received_at: dt.datetime  # local time
    written_on: dt.date  # the day the form is produced (its date line)
    channel: str
    category: str
    urgent: bool
    age_group: str
    child_count: int
    child_name: str | None
    place: str | None
    story: str
    additions: tuple[str, ...] = ()
    informant: Informant | None = None  # None: not shown to this person
    child_sex: str | None = None  # domain.cases.ChildSex, once the case is assessed


@dataclass(frozen=True)
class Filled:
    spec: FormSpec
    values: dict[str, str]
    agency: tuple[str, ...]  # the agency lines of the header, for (1)
    number_line: str  # "Số: ……/BC-UBND", for (2)
    date_line: str  # "Minh Tân, ngày 03 tháng 12 năm 2026", for (3)
    properties: dict[str, str] = field(default_factory=dict)


def clean(text: str | None) -> str:
    """Text safe for a .docx (no control characters XML cannot hold), trimmed."""
    return _XML_BAD.sub("", text or "").strip()


def place_name(commune_name: str) -> str:
    """The commune's name without "Xã"/"Phường": the place of the date line (3)."""
    for prefix in _UNIT_PREFIXES:
        if commune_name.startswith(prefix + " "):
            return commune_name[len(prefix) + 1:].strip()
    return commune_name


def fill_receipt(facts: ReceiptFacts) -> Filled:
    """Mẫu số 01 filled with what the case knows; everything else stays the decree's blank
    for the officer to write by hand (the parents, the family: not recorded; the sex once the
    case is assessed)."""
    received = facts.received_at
    state = "\n".join(t for t in (clean(facts.story), *map(clean, facts.additions)) if t)
    remarks = [f"Mã vụ việc: {facts.case_code}.",
               f"Nội dung tin báo: {_CATEGORY_WORDS[Category(facts.category)]}."]
    if facts.urgent:
        remarks.append("Tin báo khẩn cấp.")
    if facts.child_count > 1:
        remarks.append("Tin báo về 2 trẻ em." if facts.child_count == 2
                       else "Tin báo về 3 trẻ em trở lên.")
    values = {
        "channel": _CHANNEL_WORDS[Channel(facts.channel)],
        "time": f"{received:%H:%M}",
        "day": f"{received:%d}",
        "month": f"{received:%m}",
        "year": f"{received:%Y}",
        "child_name": clean(facts.child_name),
        "age_estimate": _AGE_WORDS[AgeGroup(facts.age_group)],
        "place": clean(facts.place),
        "state": state,
    }
    sex_box = {"male": "sex_male", "female": "sex_female", "unknown": "sex_unknown"}
    if facts.child_sex in sex_box:
        values[sex_box[facts.child_sex]] = "☒"
    informant = facts.informant
    if informant is not None:
        if informant.anonymous:
            remarks.append("Người cung cấp thông tin không để lại danh tính.")
        else:
            values["informant_name"] = clean(informant.name)
            values["informant_phone"] = clean(informant.phone)
        if informant.relation:
            remarks.append("Quan hệ với trẻ em: "
                           f"{_RELATION_WORDS[Relation(informant.relation)]}.")
    values["remarks"] = " ".join(remarks)
    commune = clean(facts.commune_name)
    day = facts.written_on
    return Filled(
        spec=RECEIPT,
        values={k: v for k, v in values.items() if v},
        agency=("ỦY BAN NHÂN DÂN", commune.upper()),
        number_line="Số: ……/BC-UBND",
        date_line=f"{place_name(commune)}, ngày {day:%d} tháng {day:%m} năm {day:%Y}",
        properties={"title": RECEIPT.full_name,
                    "subject": f"{DECREE}, {RECEIPT.number}",
                    "comments": f"Điền sẵn từ vụ việc {facts.case_code}; "
                                "cán bộ kiểm tra, bổ sung trước khi ký."},
    )


def file_name(code: FormCode, case_code: str) -> str:
    number = {FormCode.RECEIPT: "01"}[code]
    return f"mau-so-{number}-{case_code}.docx"
