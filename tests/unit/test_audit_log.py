"""domain/audit_log.py: repeated views read as one line; changes are never merged."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from domain.audit_log import group_repeated_views

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def entry(minutes: int, action: str, who: int, **details) -> SimpleNamespace:
    return SimpleNamespace(at=T0 + dt.timedelta(minutes=minutes), action=action,
                           actor_user_id=who, details=details)


def test_consecutive_views_by_one_person_merge():
    newest_first = [entry(40, "case_viewed", 1), entry(30, "case_viewed", 1),
                    entry(20, "case_viewed", 1), entry(10, "case_viewed", 1),
                    entry(0, "case_viewed", 1)]
    (line,) = group_repeated_views(newest_first)
    assert line.count == 5 and line.earliest == T0 and line.latest == T0 + dt.timedelta(minutes=40)


def test_a_change_or_another_person_breaks_the_run():
    lines = group_repeated_views([
        entry(50, "case_viewed", 1), entry(40, "case_viewed", 1),
        entry(30, "case_note_added", 1), entry(25, "case_note_added", 1),
        entry(20, "case_viewed", 2), entry(10, "case_viewed", 1),
        entry(5, "case_viewed", 1, with_reporter=True)])
    assert [(line.entry.action, line.entry.actor_user_id, line.count) for line in lines] == [
        ("case_viewed", 1, 2), ("case_note_added", 1, 1), ("case_note_added", 1, 1),
        ("case_viewed", 2, 1), ("case_viewed", 1, 1), ("case_viewed", 1, 1)]
