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


@dataclass(frozen=True)
class CallbackData:
    feature: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int) -> int:
        """The argument at `index` as an int; ValueError if absent or not a number."""
        if not -len(self.args) <= index < len(self.args):
            raise ValueError(f"no argument {index}")
        value = self.args[index]
        if not value.lstrip("-").isdigit():
            raise ValueError(value)
        return int(value)


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
