"""Telegram's HTML parse mode, strictly: what Telegram accepts and the errors it gives."""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_ATTRIBUTE = r"""\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?"""
_TAG = re.compile(rf"<(/?)([a-zA-Z0-9-]*)((?:{_ATTRIBUTE})*)\s*(/?)>")


class HtmlError(ValueError):
    """The text Telegram would refuse, with Telegram's description."""


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse(text: str) -> str:
    """The visible text of `text` in Telegram HTML; HtmlError if Telegram would refuse it."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise HtmlError(
                    f"can't parse entities: Unclosed start tag at byte offset {_offset(text, i)}")
            closing, name, _attrs, _selfclose = match.groups()
            name = name.lower()
            if closing:
                if not stack or stack[-1][0] != name:
                    raise HtmlError(
                        f"can't parse entities: Unmatched end tag at byte offset "
                        f"{_offset(text, i)}, expected \"</{stack[-1][0] if stack else ''}>\", "
                        f"found \"</{name}>\"")
                stack.pop()
            else:
                if name not in ALLOWED_TAGS:
                    raise HtmlError(
                        f"can't parse entities: Unsupported start tag \"{name}\" at byte offset "
                        f"{_offset(text, i)}")
                stack.append((name, i))
            i = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise HtmlError(
                    f"can't parse entities: Character entity expected at byte offset "
                    f"{_offset(text, i)}")
            out.append(html.unescape(match.group(0)))
            i = match.end()
        elif ch == ">":
            # Telegram tolerates a bare '>' but the bot should not rely on it.
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    if stack:
        name, _at = stack[-1]
        raise HtmlError(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{name}\"")
    return "".join(out)


def utf16_len(text: str) -> int:
    """Telegram measures lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
