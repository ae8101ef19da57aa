"""What counts as something typed: text that is blank once invisible characters go is not.

Zero-width spaces and joiners, direction marks, the byte-order mark and other format
characters (Unicode category Cf) render as nothing: an address, a child's name, a story
or a note made only of them is refused, never stored as if it said something.
"""

from __future__ import annotations

import unicodedata


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp") \
        or ch in "\u115f\u1160\u3164\uffa0\u2800"  # Hangul fillers and the braille blank


def visible_strip(text: str | None) -> str:
    """`text` without blank or invisible characters at either end ('' if nothing is left).
    Inside the text they stay (a joiner inside an emoji or a name is meaningful)."""
    text = text or ""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def is_blank(text: str | None) -> bool:
    return not visible_strip(text)
