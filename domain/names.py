"""Vietnamese names: the order people expect in a list, and matching a typed part of a name.

Python sorts by code point, so "Trung" comes before "Tân" (â is U+00E2, after r) and "Ấp"
after "Yên". Vietnamese dictionaries (and ICU's `vi` collation) order the letters
a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, then the tones (none, huyền,
hỏi, ngã, sắc, nặng) only where the letters are equal, then case. PyICU would need the ICU
headers to install, and a plain Unicode Collation Algorithm (pyuca) has no Vietnamese
tailoring (it treats ă and â as accents of a), so the rule is written here; numbers
inside names compare as numbers ("Thôn 2" before "Thôn 10").
"""

from __future__ import annotations

import re
import unicodedata

_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
# Marks that make a letter of its own (ă â ê ô ơ ư); the others are tones.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_NUMBER = re.compile(r"\d+")
_DIGIT_RANK = -1  # numbers sort before letters
_OTHER_RANK = len(_ALPHABET)  # letters outside the Vietnamese alphabet (f, j, w, z) and signs


def _letters(text: str) -> list[tuple[str, int]]:
    """(letter with its own marks, tone) for each base character, lower case."""
    out: list[tuple[str, int]] = []
    for ch in unicodedata.normalize("NFD", text.lower()):
        if ch in _LETTER_MARKS and out:
            base, tone = out[-1]
            out[-1] = (unicodedata.normalize("NFC", base + ch), tone)
        elif ch in _TONES and out:
            out[-1] = (out[-1][0], _TONES[ch])
        elif unicodedata.category(ch) != "Mn":
            out.append((ch, 0))
    return out


def sort_key(name: str) -> tuple:
    """The key that puts names in Vietnamese alphabetical order."""
    primary: list[tuple[int, int | str]] = []
    tones: list[int] = []
    letters = _letters(name.strip())
    i = 0
    while i < len(letters):
        letter, tone = letters[i]
        if letter.isdigit():
            j = i
            while j < len(letters) and letters[j][0].isdigit():
                j += 1
            primary.append((_DIGIT_RANK, int("".join(ch for ch, _t in letters[i:j]))))
            i = j
            continue
        if letter.isspace():
            primary.append((-2, 0))  # a word ends before any letter: "An Lạc" < "Anh"
        elif letter in _RANK:
            primary.append((_RANK[letter], 0))
        else:
            primary.append((_OTHER_RANK, letter))
        tones.append(tone)
        i += 1
    return (tuple(primary), tuple(tones), name)


def sorted_by_name(items, name=lambda item: item.name):  # noqa: ANN001, ANN201
    """Items in Vietnamese alphabetical order of `name(item)`."""
    return sorted(items, key=lambda item: sort_key(name(item)))


def fold(text: str) -> str:
    """Lower case, no tones or marks, đ as d, single spaces: what someone might type."""
    text = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    plain = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", plain)


def matches(query: str, name: str) -> bool:
    """Does the typed `query` ("dong", "Đông", "thon dong") appear in `name`?"""
    wanted = fold(query)
    return bool(wanted) and wanted in fold(name)


# The words that name a kind of unit. Vietnamese writes them in lower case inside a sentence
# ("cán bộ của xã Minh Tân"), with a capital only where a name starts a line or a title.
_UNIT_WORDS = ("tổ dân phố", "thành phố", "thị trấn", "thị xã", "tỉnh", "xã", "phường",
               "huyện", "quận", "thôn", "xóm", "ấp", "bản", "làng", "buôn", "khu phố")


def in_sentence(name: str) -> str:
    """A unit's name as written inside a sentence: 'Xã Minh Tân' → 'xã Minh Tân', 'Thôn
    Đông' → 'thôn Đông'; other names ('Minh Tân', 'Phòng Văn hóa - Xã hội') as they are."""
    stripped = name.strip()
    lower = stripped.lower()
    for word in _UNIT_WORDS:
        if lower.startswith(word + " ") and stripped[len(word) + 1:].strip():
            return lower[: len(word)] + stripped[len(word):]
    return stripped
