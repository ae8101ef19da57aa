"""Reading a case's audit log: repeated views by one person read as one line.

An officer who opens a card five times in forty minutes should not push every change off
the first page: consecutive views by the same person (newest first, nothing else between)
become "xem vụ việc (5 lần, 09:00–09:40)". Changes are never merged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

REPEATABLE = frozenset({"case_viewed", "audit_viewed"})


@dataclass(frozen=True)
class AuditLine:
    entry: Any  # the newest entry of the group (an audit row: action, actor_user_id, at, details)
    count: int
    earliest: dt.datetime

    @property
    def latest(self) -> dt.datetime:
        return self.entry.at


def _same_view(a: Any, b: Any) -> bool:
    return (a.action in REPEATABLE and a.action == b.action
            and a.actor_user_id == b.actor_user_id
            and bool((a.details or {}).get("with_reporter"))
            == bool((b.details or {}).get("with_reporter")))


def group_repeated_views(entries: Sequence[Any]) -> list[AuditLine]:
    """`entries` newest first → lines, consecutive identical views merged."""
    lines: list[AuditLine] = []
    for entry in entries:
        if lines and _same_view(lines[-1].entry, entry):
            last = lines[-1]
            lines[-1] = AuditLine(last.entry, last.count + 1, entry.at)
        else:
            lines.append(AuditLine(entry, 1, entry.at))
    return lines
