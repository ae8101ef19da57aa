"""The commune leader's approval (Decree 56/2017, Điều 28, 30), the review loop, and the
urgent plan deadline (Điều 28.1 "trừ trường hợp khẩn cấp"): plain rules."""

import datetime as dt
import pathlib
from zoneinfo import ZoneInfo

import pytest

from domain.case_access import CaseRight, CaseScope, rights
from domain.cases import (
    ApprovalKind,
    CaseStatus,
    ClosureReason,
    DeadlineRules,
    RiskLevel,
    approval_needed,
    check_withdrawal,
    deadline,
    decide,
    submit_for_approval,
    transition,
)
from domain.errors import InvalidInput
from domain.roles import INVITABLE_ROLES, ROLE_UNIT_KINDS, Actor, Role, UnitKind, UnitScope

S = CaseStatus
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=HANOI).astimezone(dt.UTC)


# --- which moves need the leader ------------------------------------------------------------


@pytest.mark.parametrize(("current", "target", "expected"), [
    (S.PLANNING, S.SUPPORTING, ApprovalKind.PLAN),
    (S.SUPPORTING, S.CLOSED, ApprovalKind.CLOSING),
    (S.REVIEWING, S.CLOSED, ApprovalKind.CLOSING),
    # Closing before any plan (not verifiable, a duplicate) is the officer's.
    (S.RECEIVED, S.CLOSED, None),
    (S.ASSESSING, S.CLOSED, None),
    (S.PLANNING, S.CLOSED, None),
    (S.ASSESSING, S.PLANNING, None),
    (S.SUPPORTING, S.REVIEWING, None),
    (S.REVIEWING, S.PLANNING, None),
    (S.PLANNING, S.EMERGENCY, None),
])
def test_which_moves_need_approval(current, target, expected):
    assert approval_needed(current, target, approval_on=True) is expected
    assert approval_needed(current, target, approval_on=False) is None  # switched off


def test_submitting_a_plan_needs_its_text_and_one_request_at_a_time():
    request = submit_for_approval(S.PLANNING, S.SUPPORTING, pending=None, approval_on=True,
                                  text="  Tư vấn tâm lý hằng tuần  ")
    assert (request.kind, request.target, request.text) == (
        ApprovalKind.PLAN, S.SUPPORTING, "Tư vấn tâm lý hằng tuần")
    with pytest.raises(InvalidInput, match="blank_text"):
        submit_for_approval(S.PLANNING, S.SUPPORTING, pending=None, approval_on=True, text=" ")
    with pytest.raises(InvalidInput, match="approval_pending"):
        submit_for_approval(S.PLANNING, S.SUPPORTING, pending="plan", approval_on=True,
                            text="x")
    with pytest.raises(InvalidInput, match="approval_not_needed"):
        submit_for_approval(S.PLANNING, S.SUPPORTING, pending=None, approval_on=False,
                            text="x")
    with pytest.raises(InvalidInput, match="transition_not_allowed"):
        submit_for_approval(S.ASSESSING, S.SUPPORTING, pending=None, approval_on=True,
                            text="x")


def test_submitting_a_closing_needs_a_reason():
    request = submit_for_approval(S.REVIEWING, S.CLOSED, pending=None, approval_on=True,
                                  closure_reason=ClosureReason.SAFE)
    assert (request.kind, request.closure_reason) == (ApprovalKind.CLOSING, ClosureReason.SAFE)
    with pytest.raises(InvalidInput, match="closure_reason_required"):
        submit_for_approval(S.REVIEWING, S.CLOSED, pending=None, approval_on=True)
    with pytest.raises(InvalidInput, match="closure_note_required"):
        submit_for_approval(S.REVIEWING, S.CLOSED, pending=None, approval_on=True,
                            closure_reason=ClosureReason.OTHER)


def test_the_leader_approves_or_returns_with_a_comment():
    assert decide("plan", approve=True) == decide("plan", approve=True, comment="")
    assert decide("plan", approve=True).approved
    returned = decide("closing", approve=False, comment="  Cần thêm một lần thăm gia đình ")
    assert (returned.approved, returned.comment) == (False, "Cần thêm một lần thăm gia đình")
    with pytest.raises(InvalidInput, match="blank_text"):
        decide("plan", approve=False, comment="   ")
    with pytest.raises(InvalidInput, match="no_approval_pending"):
        decide(None, approve=True)


def test_review_loop_goes_back_to_a_new_plan():
    change = transition(S.REVIEWING, S.PLANNING, note="Kế hoạch mới sau rà soát")
    assert (change.from_status, change.to_status, change.reopened) == (
        S.REVIEWING, S.PLANNING, False)


# --- deadlines --------------------------------------------------------------------------------


def test_an_urgent_case_plan_has_its_own_deadline_not_the_5_working_days():
    received = local(2026, 5, 22, 10, 0)  # a Friday
    normal = deadline(S.PLANNING, received_at=received, urgent=False, risk=None, tz=HANOI)
    assert normal == local(2026, 5, 29, 17, 0)  # 5 working days (Điều 28.1)
    for urgent, risk in ((True, None), (False, RiskLevel.HIGH)):
        due = deadline(S.PLANNING, received_at=received, urgent=urgent, risk=risk, tz=HANOI)
        assert due == received + dt.timedelta(hours=48)  # TREEM_PLAN_HOURS_URGENT, local practice
    rules = DeadlineRules(plan_hours_urgent=24)
    assert deadline(S.PLANNING, received_at=received, urgent=True, risk=None, tz=HANOI,
                    rules=rules) == received + dt.timedelta(hours=24)
    # The 12-hour emergency intervention stays (Điều 26.3).
    assert deadline(S.EMERGENCY, received_at=received, urgent=True, risk=None,
                    tz=HANOI) == received + dt.timedelta(hours=12)


def test_a_new_plan_after_the_review_counts_from_its_own_start():
    received, restarted = local(2026, 3, 2, 9, 0), local(2026, 5, 22, 10, 0)
    assert deadline(S.PLANNING, received_at=received, urgent=False, risk=None, tz=HANOI,
                    step_started_at=restarted, replanning=True) == local(2026, 5, 29, 17, 0)
    assert deadline(S.PLANNING, received_at=received, urgent=True, risk=None, tz=HANOI,
                    step_started_at=restarted, replanning=True) == restarted + dt.timedelta(
                        hours=48)


@pytest.mark.parametrize("status", [S.PLANNING, S.SUPPORTING, S.REVIEWING])
def test_while_the_leader_decides_the_deadline_is_the_leaders(status):
    asked = local(2026, 5, 22, 10, 0)  # Friday: 2 working days → Tuesday 26/5 17:00
    due = deadline(status, received_at=local(2026, 5, 1, 9, 0), urgent=False, risk=None,
                   tz=HANOI, approval_requested_at=asked)
    assert due == local(2026, 5, 26, 17, 0)
    urgent = deadline(status, received_at=local(2026, 5, 1, 9, 0), urgent=True, risk=None,
                      tz=HANOI, approval_requested_at=asked)
    assert urgent == asked + dt.timedelta(hours=12)
    assert deadline(status, received_at=asked, urgent=False, risk=RiskLevel.LOW, tz=HANOI,
                    rules=DeadlineRules(approval_working_days=1),
                    approval_requested_at=asked) == local(2026, 5, 25, 17, 0)


def test_approval_deadline_skips_holidays():
    asked = local(2026, 4, 29, 15, 0)  # Wednesday before 30/4–1/5
    assert deadline(S.PLANNING, received_at=asked, urgent=False, risk=None, tz=HANOI,
                    approval_requested_at=asked) == local(2026, 5, 5, 17, 0)


# --- the leader's rights ----------------------------------------------------------------------


def test_the_leader_is_invited_to_a_commune_and_reads_and_approves_its_cases():
    assert Role.LEADER in INVITABLE_ROLES
    assert ROLE_UNIT_KINDS[Role.LEADER] == frozenset({UnitKind.COMMUNE})
    leader = Actor(user_id=9, role=Role.LEADER, scope=UnitScope((1, 10)), member_id=5)
    own = rights(leader, CaseScope(commune_id=10, reporter_user_id=77))
    assert own == {CaseRight.VIEW, CaseRight.VIEW_DETAILS, CaseRight.APPROVE}
    assert rights(leader, CaseScope(commune_id=11)) == frozenset()
    officer = Actor(user_id=8, role=Role.OFFICER, scope=UnitScope((1, 10)), member_id=4)
    admin = Actor(user_id=7, role=Role.ADMIN, scope=UnitScope((1, 10)), member_id=3)
    for other in (officer, admin):
        assert CaseRight.APPROVE not in rights(other, CaseScope(commune_id=10))


def test_a_commune_switches_approval_off_in_its_set_up_file(tmp_path):
    from domain.setup_file import load_setup_file

    example = pathlib.Path(__file__).parents[2] / "examples" / "minh-tan.toml"
    assert load_setup_file(example).commune.leader_approval is True  # the decree's rule
    text = example.read_text("utf-8").replace("leader_approval = true", "leader_approval = false")
    off = tmp_path / "small.toml"
    off.write_text(text, "utf-8")
    assert load_setup_file(off).commune.leader_approval is False


# --- withdrawing a request ---------------------------------------------------------------------


def test_the_submitter_withdraws_what_waits():
    check_withdrawal("plan", submitted_by=2001, user_id=2001)
    check_withdrawal("closing", submitted_by=None, user_id=2002)  # stored before "by" existed


@pytest.mark.parametrize(("pending", "by", "user", "code"), [
    (None, 2001, 2001, "no_approval_pending"),  # decided or withdrawn already
    ("plan", 2001, 2002, "withdraw_not_yours"),  # another officer
    ("closing", 2001, 2201, "withdraw_not_yours"),
])
def test_withdrawal_refused(pending, by, user, code):
    with pytest.raises(InvalidInput) as problem:
        check_withdrawal(pending, submitted_by=by, user_id=user)
    assert problem.value.code == code
