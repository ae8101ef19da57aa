"""The case workflow and its deadlines (rules only; the officers' chat comes with the cases
feature)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.cases import (
    ALLOWED,
    CaseStatus,
    ClosureReason,
    DeadlineRules,
    RiskLevel,
    change_risk,
    deadline,
    transition,
)
from domain.errors import InvalidInput

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
S = CaseStatus


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HANOI).astimezone(dt.UTC)


# Every (from, to) pair, written out: True = allowed.
EXPECTED_MOVES = {
    (S.RECEIVED, S.ASSESSING), (S.RECEIVED, S.EMERGENCY), (S.RECEIVED, S.CLOSED),
    (S.ASSESSING, S.EMERGENCY), (S.ASSESSING, S.PLANNING), (S.ASSESSING, S.CLOSED),
    (S.EMERGENCY, S.PLANNING), (S.EMERGENCY, S.CLOSED),
    (S.PLANNING, S.EMERGENCY), (S.PLANNING, S.SUPPORTING), (S.PLANNING, S.CLOSED),
    (S.SUPPORTING, S.EMERGENCY), (S.SUPPORTING, S.REVIEWING), (S.SUPPORTING, S.CLOSED),
    (S.REVIEWING, S.PLANNING), (S.REVIEWING, S.SUPPORTING), (S.REVIEWING, S.CLOSED),
    (S.CLOSED, S.ASSESSING),
}


@pytest.mark.parametrize("source", list(CaseStatus))
@pytest.mark.parametrize("target", list(CaseStatus))
def test_every_transition(source, target):
    reason = ClosureReason.SAFE if target is S.CLOSED else None
    if source is target:
        assert transition(source, target, closure_reason=reason) is None  # idempotent
    elif (source, target) in EXPECTED_MOVES:
        change = transition(source, target, note=" kiểm tra ", closure_reason=reason)
        assert (change.from_status, change.to_status, change.note) == (source, target, "kiểm tra")
        assert change.reopened == (source is S.CLOSED)
    else:
        with pytest.raises(InvalidInput, match="transition_not_allowed"):
            transition(source, target, closure_reason=reason)
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED_MOVES


def test_closing_needs_a_reason_and_other_needs_a_note():
    with pytest.raises(InvalidInput, match="closure_reason_required"):
        transition(S.ASSESSING, S.CLOSED)
    with pytest.raises(InvalidInput, match="closure_note_required"):
        transition(S.ASSESSING, S.CLOSED, closure_reason=ClosureReason.OTHER)
    assert transition(S.ASSESSING, S.CLOSED, closure_reason=ClosureReason.OTHER,
                      note="Gia đình chuyển đi tỉnh khác").closure_reason is ClosureReason.OTHER
    with pytest.raises(InvalidInput, match="closure_reason_only_when_closing"):
        transition(S.RECEIVED, S.ASSESSING, closure_reason=ClosureReason.SAFE)


def test_risk_changes_need_a_reason_after_the_first():
    assert change_risk(None, RiskLevel.MEDIUM, "")
    assert not change_risk(RiskLevel.MEDIUM, RiskLevel.MEDIUM, "")
    with pytest.raises(InvalidInput, match="risk_reason_required"):
        change_risk(RiskLevel.MEDIUM, RiskLevel.HIGH, "  ")
    assert change_risk(RiskLevel.MEDIUM, RiskLevel.HIGH, "Trẻ lại bị đánh")


@pytest.mark.parametrize(("status", "received", "urgent", "risk", "expected"), [
    # Hours run through the night and holidays.
    (S.RECEIVED, (2026, 2, 16, 22, 0), True, None, (2026, 2, 17, 10, 0)),
    (S.EMERGENCY, (2026, 4, 30, 20, 0), False, RiskLevel.HIGH, (2026, 5, 1, 8, 0)),
    (S.ASSESSING, (2026, 5, 20, 9, 0), False, RiskLevel.HIGH, (2026, 5, 20, 21, 0)),
    # 3 working days, ending at 17:00: Friday 22/5/2026 → Wednesday 27/5.
    (S.ASSESSING, (2026, 5, 22, 10, 0), False, RiskLevel.LOW, (2026, 5, 27, 17, 0)),
    # 5 working days across Tết 2026 (16–20/2 off): Friday 13/2 → Friday 27/2.
    (S.PLANNING, (2026, 2, 13, 9, 0), False, RiskLevel.MEDIUM, (2026, 2, 27, 17, 0)),
    # Across 30/4–1/5 2026 (Thu–Fri off) and the weekend: Wednesday 29/4 → 4, 5, 6, 7, 8/5.
    (S.PLANNING, (2026, 4, 29, 15, 0), False, None, (2026, 5, 8, 17, 0)),
    # Received on a Sunday evening: counting starts from that day.
    (S.PLANNING, (2026, 5, 24, 19, 0), False, None, (2026, 5, 29, 17, 0)),
])
def test_deadlines(status, received, urgent, risk, expected):
    due = deadline(status, received_at=local(*received), urgent=urgent, risk=risk, tz=HANOI)
    assert due == local(*expected)


def test_closed_cases_have_no_deadline_and_rules_are_configuration():
    assert deadline(S.CLOSED, received_at=local(2026, 5, 20, 9, 0), urgent=False, risk=None,
                    tz=HANOI) is None
    rules = DeadlineRules(plan_working_days=10)
    due = deadline(S.PLANNING, received_at=local(2026, 5, 20, 9, 0), urgent=False, risk=None,
                   tz=HANOI, rules=rules)
    assert due == local(2026, 6, 3, 17, 0)


# --- alerts before and after a deadline -----------------------------------------------------

from domain.cases import (  # noqa: E402
    AlertKind,
    AlertRules,
    SpecialGroup,
    alerts_due,
    clean_note,
    toggle_group,
)

H = dt.timedelta(hours=1)


def test_a_working_day_deadline_is_announced_the_day_before_then_overdue_then_escalated():
    started = local(2026, 11, 23, 9, 0)
    due = local(2026, 11, 26, 17, 0)  # 3 working days
    rules = AlertRules(escalate_after=4 * H)
    assert alerts_due(due, now=due - 25 * H, step_started=started, rules=rules) == []
    assert alerts_due(due, now=due - 24 * H, step_started=started, rules=rules) == [
        AlertKind.DUE_SOON]
    assert alerts_due(due, now=due, step_started=started, rules=rules) == [AlertKind.OVERDUE]
    assert alerts_due(due, now=due + 4 * H, step_started=started, rules=rules) == [
        AlertKind.OVERDUE, AlertKind.ESCALATED]


def test_a_12_hour_deadline_is_announced_3_hours_before():
    started = local(2026, 11, 23, 22, 0)
    due = started + 12 * H
    assert alerts_due(due, now=due - 4 * H, step_started=started) == []
    assert alerts_due(due, now=due - 3 * H, step_started=started) == [AlertKind.DUE_SOON]
    # By default the administrators hear at once when a case is overdue.
    assert alerts_due(due, now=due + H, step_started=started) == [AlertKind.OVERDUE,
                                                                  AlertKind.ESCALATED]


def test_special_groups_toggle_in_the_laws_order():
    groups = toggle_group([], SpecialGroup.TRAFFICKING)
    groups = toggle_group(groups, SpecialGroup.ORPHAN)
    assert groups == ["orphan", "trafficking"]
    assert toggle_group(groups, SpecialGroup.ORPHAN) == ["trafficking"]
    assert len(SpecialGroup) == 14  # Law on Children 2016, article 10


def test_notes_are_trimmed_never_cut():
    assert clean_note("  Đã gặp gia đình  ") == "Đã gặp gia đình"
    for blank in ("   ", "\u200b\u200c\u200d", "\u2060\ufeff \u200e\u200f", "\u202e\u2066"):
        with pytest.raises(InvalidInput, match="blank_text"):
            clean_note(blank)
    assert clean_note("\u200bĐã gặp\u200d") == "Đã gặp"
    with pytest.raises(InvalidInput, match="note_too_long"):
        clean_note("x" * 2001)
    assert clean_note("x" * 2000) == "x" * 2000


# --- when the next alert is due (the index the alert pass reads) ----------------------------


def test_next_alert_follows_the_alerts_already_queued():
    from domain.cases import AlertKind, AlertRules, alert_marker, next_alert_at

    due = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    started = due - dt.timedelta(days=5)
    rules = AlertRules(escalate_after=dt.timedelta(hours=2))
    assert next_alert_at(due, step_started=started, alerted=None, rules=rules) == \
        due - dt.timedelta(hours=24)
    assert next_alert_at(due, step_started=started, alerted=alert_marker(due, AlertKind.DUE_SOON),
                         rules=rules) == due
    assert next_alert_at(due, step_started=started, alerted=alert_marker(due, AlertKind.OVERDUE),
                         rules=rules) == due + dt.timedelta(hours=2)
    assert next_alert_at(due, step_started=started,
                         alerted=alert_marker(due, AlertKind.ESCALATED), rules=rules) is None
    # An urgent step (12 hours): reminded 3 hours before.
    assert next_alert_at(due, step_started=due - dt.timedelta(hours=12), alerted=None,
                         rules=rules) == due - dt.timedelta(hours=3)
    # A marker of an earlier deadline (the case moved on) counts for nothing.
    earlier = due - dt.timedelta(days=3)
    assert next_alert_at(due, step_started=started,
                         alerted=alert_marker(earlier, AlertKind.ESCALATED), rules=rules) == \
        due - dt.timedelta(hours=24)
    assert next_alert_at(None, step_started=started, alerted=None, rules=rules) is None
