"""Every user-facing string in the code has a Vietnamese translation, with the same
placeholders; nothing is fuzzy; the text looks Vietnamese."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import PO_PATH, _
from tests.conftest import ROOT

_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]",
                         re.IGNORECASE)


def _catalog():
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file, locale="vi")


def _code_messages() -> set[str]:
    found = set()
    for package in ("bot", "handlers", "services", "domain"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")],
            keywords={"_": None, "N_": None, "ngettext": (1, 2)}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog_ids() -> set[str]:
    return {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog()}


def test_every_string_in_the_code_is_in_the_catalog():
    catalog = _catalog_ids()
    missing = sorted(m for m in _code_messages() if m not in catalog)
    assert missing == [], "run `make messages` and translate: " + repr(missing[:5])


def test_every_entry_is_translated_not_fuzzy_and_keeps_placeholders():
    problems = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(("untranslated", ids[0]))
        elif message.fuzzy:
            problems.append(("fuzzy", ids[0]))
        elif any(sorted(_PLACEHOLDER.findall(ids[-1])) != sorted(_PLACEHOLDER.findall(text))
                 for text in strings):
            problems.append(("placeholders differ", ids[0]))
    assert problems == []


def test_translations_are_vietnamese_with_diacritics():
    plain = []
    for message in _catalog():
        text = message.string[0] if isinstance(message.string, tuple) else message.string
        words = _PLACEHOLDER.sub("", text or "")
        if message.id and len(words) > 20 and not _VIETNAMESE.search(words):
            plain.append(message.id)
    assert plain == []


def test_runtime_uses_the_catalog():
    assert _("Main menu") == "Menu chính"


def test_no_translation_call_hides_inside_an_f_string():
    """Babel cannot see _() inside an f-string, so such text would never be translated."""
    import io
    import tokenize

    hidden = []
    for package in ("bot", "handlers", "services", "domain"):
        for path in (ROOT / package).rglob("*.py"):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline)
            for token in tokens:
                prefix = token.string[:2].lower()
                if token.type == tokenize.STRING and "f" in prefix and "_(" in token.string:
                    hidden.append(f"{path.name}:{token.start[0]}")
    assert hidden == []


# --- one voice, one word for each thing ----------------------------------------------------

# The user's own words on a button may say "tôi"; everywhere else the bot says "mình".
_USER_SPEAKS = {"I am that child", "📱 Send my phone number", "My cases",
                "🙈 I want to stay anonymous", "🔐 My data / delete my contact",
                "🗑 Delete my contact from {code}", "🗑 Yes, delete my contact"}


def _translations() -> list[tuple[str, str]]:
    pairs = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(ids[0], text) for text in strings]
    return pairs


def _offending(pattern: str, allowed: set[str] = frozenset()) -> list[str]:
    rule = re.compile(pattern)
    return [text for msgid, text in _translations() if rule.search(text) and msgid not in allowed]


def test_the_bot_calls_itself_minh_never_toi():
    assert _offending(r"(?i)\btôi\b", _USER_SPEAKS) == []


def test_one_word_for_the_bot_and_for_voice_messages():
    assert _offending(r"(?<!-)\bbot\b") == []  # "trợ lý", never "bot" (treem-bot, --bot-… aside)
    assert _offending(r"(?i)ghi âm") == []  # "tin nhắn thoại"


def test_official_names_are_spelled_one_way():
    assert _offending(r"Văn Ho[aá]\b|\b[Hh]oá\b") == []  # "Văn hóa"
    assert _offending(r"(?i)mặt trận tổ quốc") == _offending(r"Mặt trận Tổ quốc")
    assert _offending(r"Tổng đài bảo vệ trẻ em") == []  # "Tổng đài quốc gia bảo vệ trẻ em"
    assert _("child-protection officer") == "người làm công tác bảo vệ trẻ em"
    assert _("Village collaborator") == "Cộng tác viên bảo vệ trẻ em (thôn)"


def test_numbers_group_thousands_with_a_dot():
    assert _offending(r"\d,\d{3}\b") == []
    # Years, phones (0…), a token's "123456:" and a port ":5432" in an example URL aside.
    assert _offending(r"(?<![:\d])\b(?!(?:19|20)\d\d\b)[1-9]\d{3,}\b(?!:)") == []


def test_a_greeting_has_its_comma():
    assert _offending(r"Chào (buổi sáng|buổi chiều|buổi tối) \{") == []


def test_special_groups_fit_on_a_button():
    from domain.cases import SpecialGroup
    from handlers.texts import BUTTON_CHARS, special_group_label

    assert [g for g in SpecialGroup if len("☑️ " + special_group_label(g)) > BUTTON_CHARS] == []
