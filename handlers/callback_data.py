"""The one owner of callback_data: build() and parse(), always within Telegram's 64 bytes.

Format: "<version>:<feature>:<action>[:<arg>...]", e.g. "1:mem:rv:42". Data from an
older version, or anything that does not parse, is treated as a stale button. Data
is never trusted: handlers re-check permission and state on every press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
_PART = re.compile(r"[A-Za-z0-9_.-]{1,24}")
_INTEGER = re.compile(r"-?[0-9]{1,16}")
# Every id and number the bot puts in a button or a link fits in this range (database ids,
# pages, Telegram ids); anything larger is forged or corrupt and would overflow BIGINT.
MAX_INT = 2**53


class StaleButton(ValueError):
    """Data that cannot come from a current button of this bot: answered as out of date."""


def parse_int(value: str) -> int:
    """An integer from a button or a /start payload (ASCII digits, |n| ≤ 2**53) or StaleButton."""
    if not _INTEGER.fullmatch(value):
        raise StaleButton("not a number")
    number = int(value)
    if abs(number) > MAX_INT:
        raise StaleButton("number out of range")
    return number


@dataclass(frozen=True)
class CallbackData:
    feature: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int) -> int:
        """The argument at `index` as an int; StaleButton (a ValueError) if absent, not a
        number or out of range."""
        if not -len(self.args) <= index < len(self.args):
            raise StaleButton(f"no argument {index}")
        return parse_int(self.args[index])


# What a press whose data does not parse carries to its handler: no action, no arguments,
# so handlers treat it as an out-of-date button.
UNREADABLE = CallbackData(feature="", action="")


def build(feature: str, action: str, *args: int | str) -> str:
    parts = [VERSION, feature, action, *(str(a) for a in args)]
    for part in parts:
        if not _PART.fullmatch(part):
            raise ValueError(f"callback part {part!r} is not allowed")
    data = ":".join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None) -> CallbackData | None:
    """The parsed data, or None for a stale or foreign button."""
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != VERSION or not all(_PART.fullmatch(p) for p in parts):
        return None
    return CallbackData(feature=parts[1], action=parts[2], args=tuple(parts[3:]))


def pattern(feature: str) -> str:
    """A CallbackQueryHandler pattern for the current version of `feature`."""
    return rf"^{VERSION}:{re.escape(feature)}:"
