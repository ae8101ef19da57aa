"""Case statuses (Decree 56/2017), the workflow between them, risk levels, closure reasons,
the deadline of each step in hours or working days, and what a reporter is told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import InvalidInput
from domain.text import visible_strip
from domain.workdays import add_working_days


class CaseStatus(StrEnum):
    RECEIVED = "received"  # tiếp nhận
    ASSESSING = "assessing"  # xác minh, đánh giá nguy cơ
    EMERGENCY = "emergency"  # can thiệp khẩn cấp
    PLANNING = "planning"  # lập kế hoạch hỗ trợ, can thiệp
    SUPPORTING = "supporting"  # thực hiện kế hoạch
    REVIEWING = "reviewing"  # theo dõi, đánh giá
    CLOSED = "closed"


OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}


class PublicStatus(StrEnum):
    """The coarse status a reporter sees: nothing about the child or the family."""

    RECEIVED = "received"
    VERIFYING = "verifying"
    SUPPORTING = "supporting"
    CLOSED = "closed"


_PUBLIC = {
    CaseStatus.RECEIVED: PublicStatus.RECEIVED,
    CaseStatus.ASSESSING: PublicStatus.VERIFYING,
    CaseStatus.EMERGENCY: PublicStatus.SUPPORTING,
    CaseStatus.PLANNING: PublicStatus.SUPPORTING,
    CaseStatus.SUPPORTING: PublicStatus.SUPPORTING,
    CaseStatus.REVIEWING: PublicStatus.SUPPORTING,
    CaseStatus.CLOSED: PublicStatus.CLOSED,
}


def public_status(status: CaseStatus) -> PublicStatus:
    return _PUBLIC[status]


# --- the workflow (Decree 56/2017: tiếp nhận → xác minh, đánh giá → can thiệp khẩn cấp khi
# cần → kế hoạch hỗ trợ → thực hiện → theo dõi, đánh giá → kết thúc) ----------------------


class RiskLevel(StrEnum):
    HIGH = "high"  # Cao
    MEDIUM = "medium"  # Trung bình
    LOW = "low"  # Thấp


class ClosureReason(StrEnum):
    SAFE = "safe"  # the child is safe now
    TRANSFERRED = "transferred"  # handed to another authority
    NOT_VERIFIABLE = "not_verifiable"
    DUPLICATE = "duplicate"
    OTHER = "other"


# Where a case may go from each status. Emergency protection can be needed at any point
# before closing; closing is possible from any open status (with a reason).
ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.ASSESSING, CaseStatus.EMERGENCY,
                                    CaseStatus.CLOSED}),
    CaseStatus.ASSESSING: frozenset({CaseStatus.EMERGENCY, CaseStatus.PLANNING,
                                     CaseStatus.CLOSED}),
    CaseStatus.EMERGENCY: frozenset({CaseStatus.PLANNING, CaseStatus.CLOSED}),
    CaseStatus.PLANNING: frozenset({CaseStatus.EMERGENCY, CaseStatus.SUPPORTING,
                                    CaseStatus.CLOSED}),
    CaseStatus.SUPPORTING: frozenset({CaseStatus.EMERGENCY, CaseStatus.REVIEWING,
                                      CaseStatus.CLOSED}),
    # After the review the plan either ends (closing) or a new plan is drawn up (Điều 30).
    CaseStatus.REVIEWING: frozenset({CaseStatus.PLANNING, CaseStatus.SUPPORTING,
                                     CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.ASSESSING}),  # reopening, recorded
}


def is_backward(current: CaseStatus, target: CaseStatus) -> bool:
    """A move to an earlier step of the workflow (reopening a closed case is not one)."""
    order = list(CaseStatus)
    return current is not CaseStatus.CLOSED and order.index(target) < order.index(current)


@dataclass(frozen=True)
class Change:
    """One history row: what a transition did (the caller stores it; nothing is committed)."""

    from_status: CaseStatus
    to_status: CaseStatus
    note: str = ""
    closure_reason: ClosureReason | None = None
    reopened: bool = False


def transition(current: CaseStatus, target: CaseStatus, *, note: str = "",
               closure_reason: ClosureReason | None = None) -> Change | None:
    """The change from `current` to `target`, or None if the case is already there
    (idempotent: pressing twice does nothing). InvalidInput for a move the workflow does
    not allow, or closing without a reason."""
    if current is target:
        return None
    if target not in ALLOWED[current]:
        raise InvalidInput("transition_not_allowed")
    if target is CaseStatus.CLOSED and closure_reason is None:
        raise InvalidInput("closure_reason_required")
    if target is not CaseStatus.CLOSED and closure_reason is not None:
        raise InvalidInput("closure_reason_only_when_closing")
    if closure_reason is ClosureReason.OTHER and not visible_strip(note):
        raise InvalidInput("closure_note_required")
    return Change(current, target, visible_strip(note), closure_reason,
                  reopened=current is CaseStatus.CLOSED)


def change_risk(current: RiskLevel | None, target: RiskLevel, reason: str) -> bool:
    """True if the risk level changes. Setting it first needs no reason (the assessment);
    changing it later does."""
    if current is target:
        return False
    if current is not None and not visible_strip(reason):
        raise InvalidInput("risk_reason_required")
    return True


# --- deadlines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineRules:
    """Every rule is configuration. Only two defaults are the decree's own numbers (Decree
    56/2017): emergency intervention within 12 hours (Điều 26.3) and the support plan within 5
    working days "trừ trường hợp khẩn cấp" (Điều 28.1). The others are local practice."""

    emergency_hours: int = 12  # Điều 26.3: emergency intervention within 12 hours
    assessment_hours_urgent: int = 12  # local practice: an urgent report verified within 12 h
    assessment_working_days: int = 3  # local practice
    plan_working_days: int = 5  # Điều 28.1: the plan within 5 working days
    plan_hours_urgent: int = 48  # local practice: the urgent case's plan (Điều 28.1 exempts it)
    review_working_days: int = 20  # local practice: each review of the plan being carried out
    approval_working_days: int = 2  # local practice: the leader decides on a plan or a closing
    approval_hours_urgent: int = 12  # local practice: the same for an urgent case
    end_of_day: dt.time = field(default=dt.time(17, 0))  # working days end at 17:00


def _end_of_working_day(received_at: dt.datetime, working_days: int, rules: DeadlineRules,
                        tz: dt.tzinfo) -> dt.datetime:
    local_day = received_at.astimezone(tz).date()
    day = add_working_days(local_day, working_days)
    return dt.datetime.combine(day, rules.end_of_day, tzinfo=tz).astimezone(dt.UTC)


def deadline(status: CaseStatus, *, received_at: dt.datetime, urgent: bool,
             risk: RiskLevel | None, tz: dt.tzinfo, rules: DeadlineRules = DeadlineRules(),
             step_started_at: dt.datetime | None = None, replanning: bool = False,
             approval_requested_at: dt.datetime | None = None) -> dt.datetime | None:
    """When the step the case is in must be done (UTC), or None (closed).

    Hours count straight through nights and holidays (a child in danger does not wait);
    working days skip weekends and public holidays and end at `end_of_day`. While a plan or
    a closing waits for the leader (`approval_requested_at`), the deadline is the leader's.
    A new plan after a review (`replanning`) counts from the step's start, not the receipt.
    """
    emergency = urgent or risk is RiskLevel.HIGH
    if approval_requested_at is not None and status is not CaseStatus.CLOSED:
        if emergency:
            return approval_requested_at + dt.timedelta(hours=rules.approval_hours_urgent)
        return _end_of_working_day(approval_requested_at, rules.approval_working_days, rules, tz)
    if status in (CaseStatus.RECEIVED, CaseStatus.ASSESSING):
        if emergency:
            return received_at + dt.timedelta(hours=rules.assessment_hours_urgent)
        return _end_of_working_day(received_at, rules.assessment_working_days, rules, tz)
    if status is CaseStatus.EMERGENCY:
        return received_at + dt.timedelta(hours=rules.emergency_hours)
    if status is CaseStatus.PLANNING:
        start = (step_started_at or received_at) if replanning else received_at
        if emergency:  # Điều 28.1: "trừ trường hợp khẩn cấp": its own, shorter rule
            return start + dt.timedelta(hours=rules.plan_hours_urgent)
        return _end_of_working_day(start, rules.plan_working_days, rules, tz)
    if status in (CaseStatus.SUPPORTING, CaseStatus.REVIEWING):
        started = step_started_at or received_at
        return _end_of_working_day(started, rules.review_working_days, rules, tz)
    return None



# --- the leader's approval (Điều 28: the plan; Điều 30: closing after the review) -------


class ApprovalKind(StrEnum):
    PLAN = "plan"  # the support plan, before it is carried out
    CLOSING = "closing"  # ending the plan and the case, after the review


# Closing needs the leader once a support plan exists (it is the plan that ends, Điều 30);
# a case closed before any plan (not verifiable, a duplicate) does not.
_CLOSING_NEEDS_APPROVAL = frozenset({CaseStatus.SUPPORTING, CaseStatus.REVIEWING})


def approval_needed(current: CaseStatus, target: CaseStatus, *,
                    approval_on: bool) -> ApprovalKind | None:
    """Which approval the move from `current` to `target` needs, or None (none, or the
    commune switched approval off)."""
    if not approval_on:
        return None
    if current is CaseStatus.PLANNING and target is CaseStatus.SUPPORTING:
        return ApprovalKind.PLAN
    if target is CaseStatus.CLOSED and current in _CLOSING_NEEDS_APPROVAL:
        return ApprovalKind.CLOSING
    return None


MAX_PLAN_CHARS = 3000


@dataclass(frozen=True)
class ApprovalRequest:
    """A plan or a closing proposal, submitted to the leader (the caller stores it)."""

    kind: ApprovalKind
    target: CaseStatus
    text: str = ""  # the plan, or the closing note
    closure_reason: ClosureReason | None = None


def submit_for_approval(current: CaseStatus, target: CaseStatus, *, pending: str | None,
                        approval_on: bool, text: str = "",
                        closure_reason: ClosureReason | None = None) -> ApprovalRequest:
    """The request for a move that needs the leader. InvalidInput when one is already
    waiting, the move is not allowed, or it needs no approval; a plan needs its text."""
    if pending is not None:
        raise InvalidInput("approval_pending")
    transition(current, target, note=text, closure_reason=closure_reason)  # validates the move
    kind = approval_needed(current, target, approval_on=approval_on)
    if kind is None:
        raise InvalidInput("approval_not_needed")
    text = visible_strip(text)
    if kind is ApprovalKind.PLAN:
        if len(text) > MAX_PLAN_CHARS:
            raise InvalidInput("plan_too_long")  # its own limit, not a note's
        text = clean_note(text, limit=MAX_PLAN_CHARS)
    return ApprovalRequest(kind, target, text, closure_reason)


class RequestOutcome(StrEnum):
    """How a request to the leader ended (kept so that an old request's button can say so)."""

    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"  # by the officer who submitted it
    EMERGENCY = "emergency"  # the case went to emergency intervention: a child does not wait


def check_withdrawal(pending: str | None, *, submitted_by: int | None, user_id: int) -> None:
    """Only a request that still waits, and only by the person who submitted it (a request
    stored before the submitter was recorded may be withdrawn by whoever may update)."""
    if pending is None:
        raise InvalidInput("no_approval_pending")
    if submitted_by is not None and submitted_by != user_id:
        raise InvalidInput("withdraw_not_yours")


@dataclass(frozen=True)
class Decision:
    approved: bool
    comment: str = ""


def decide(pending: str | None, *, approve: bool, comment: str = "") -> Decision:
    """The leader's answer to what waits. Returning needs a comment (what to change)."""
    if pending is None:
        raise InvalidInput("no_approval_pending")
    comment = visible_strip(comment)
    if not approve:
        comment = clean_note(comment)
    elif len(comment) > MAX_NOTE_CHARS:
        raise InvalidInput("note_too_long")
    return Decision(approve, comment)


# --- the child, for the official figures (Thông tư 13/2021/TT-BLĐTBXH) --------------------


class ChildSex(StrEnum):
    MALE = "male"  # nam
    FEMALE = "female"  # nữ
    UNKNOWN = "unknown"  # chưa rõ


class HarmPlace(StrEnum):
    """Where the harm happened, as the national indicator "Số trẻ em bị xâm hại" breaks it
    down."""

    FAMILY = "family"  # gia đình
    SCHOOL = "school"  # trường học
    COMMUNITY = "community"  # cộng đồng
    ONLINE = "online"  # môi trường mạng
    OTHER = "other"  # khác


# --- children in special circumstances (Law on Children 2016, Điều 10) ----------------------


class SpecialGroup(StrEnum):
    """The 14 groups of children in special circumstances (trẻ em có hoàn cảnh đặc biệt)."""

    ORPHAN = "orphan"  # mồ côi cả cha và mẹ
    ABANDONED = "abandoned"  # bị bỏ rơi
    NO_CARER = "no_carer"  # không nơi nương tựa
    DISABILITY = "disability"  # khuyết tật
    HIV = "hiv"  # nhiễm HIV/AIDS
    LAW_VIOLATION = "law_violation"  # vi phạm pháp luật
    DRUGS = "drugs"  # nghiện ma túy
    DROPOUT_WORK = "dropout_work"  # bỏ học kiếm sống chưa xong THCS
    VIOLENCE_HARM = "violence_harm"  # tổn hại nghiêm trọng do bị bạo lực
    EXPLOITATION = "exploitation"  # bị bóc lột
    SEXUAL_ABUSE = "sexual_abuse"  # bị xâm hại tình dục
    TRAFFICKING = "trafficking"  # bị mua bán
    SERIOUS_ILLNESS = "serious_illness"  # bệnh hiểm nghèo, hộ nghèo/cận nghèo
    MIGRANT = "migrant"  # di cư, lánh nạn, tị nạn không có người chăm sóc


def toggle_group(groups: list[str], group: SpecialGroup) -> list[str]:
    """The groups with `group` added or removed, in the law's order."""
    chosen = set(groups) ^ {str(group)}
    return [str(g) for g in SpecialGroup if str(g) in chosen]


class Channel(StrEnum):
    """How a report reached the commune. Citizens write in the chat; officers open a case
    themselves for what came another way."""

    TELEGRAM = "telegram"
    PHONE = "phone"  # a phone call
    SCHOOL = "school"  # a school's notice
    DIRECT = "direct"  # someone came to the commune office
    AGENCY = "agency"  # police, health station, another agency
    OTHER = "other"


OFFICER_CHANNELS = tuple(c for c in Channel if c is not Channel.TELEGRAM)

MAX_NOTE_CHARS = 2000
MAX_RELAY_CHARS = 1000


def clean_note(text: str | None, *, limit: int = MAX_NOTE_CHARS) -> str:
    """A note or relayed message as stored: trimmed, not empty, within the limit (never cut)."""
    text = visible_strip(text)
    if not text:
        raise InvalidInput("blank_text")
    if len(text) > limit:
        raise InvalidInput("note_too_long")
    return text


# --- pushed deadline alerts -------------------------------------------------------------------


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"  # the day before (or hours before) the step's deadline
    OVERDUE = "overdue"  # the deadline passed: to whoever has the case
    ESCALATED = "escalated"  # still overdue: to the commune's administrators


@dataclass(frozen=True)
class AlertRules:
    """When the holder of a case is reminded of its deadline; all configuration."""

    # Before a deadline counted in working days: the day before; before one counted in
    # hours (urgent cases, 12 h): a few hours before.
    before_days: dt.timedelta = dt.timedelta(hours=24)
    before_hours: dt.timedelta = dt.timedelta(hours=3)
    escalate_after: dt.timedelta = dt.timedelta(hours=0)  # overdue → administrators too


def alerts_due(due: dt.datetime, *, now: dt.datetime, step_started: dt.datetime,
               rules: AlertRules = AlertRules()) -> list[AlertKind]:
    """The alerts whose time has come for the deadline `due`. Once the case is overdue the
    "due soon" alert is not sent any more (after downtime, say): it would be wrong."""
    if now >= due:
        kinds = [AlertKind.OVERDUE]
        if now >= due + rules.escalate_after:
            kinds.append(AlertKind.ESCALATED)
        return kinds
    short = due - step_started <= dt.timedelta(hours=24)
    lead = rules.before_hours if short else rules.before_days
    return [AlertKind.DUE_SOON] if now >= due - lead else []


def alert_marker(due: dt.datetime, kind: AlertKind) -> str:
    """What a case remembers of the last alert queued: "<deadline epoch>:<kind>"."""
    return f"{int(due.timestamp())}:{kind}"


def next_alert_at(due: dt.datetime | None, *, step_started: dt.datetime, alerted: str | None,
                  rules: AlertRules = AlertRules()) -> dt.datetime | None:
    """When the next alert for this deadline is due, given the last one queued (`alerted`),
    or None when every alert of this deadline is out (or there is no deadline). The alert
    pass selects cases by this moment alone, so its cost follows what is due, not the
    number of open cases."""
    if due is None:
        return None
    short = due - step_started <= dt.timedelta(hours=24)
    lead = rules.before_hours if short else rules.before_days
    moments = [(AlertKind.DUE_SOON, due - lead), (AlertKind.OVERDUE, due),
               (AlertKind.ESCALATED, due + rules.escalate_after)]
    prefix = f"{int(due.timestamp())}:"
    done = alerted[len(prefix):] if alerted and alerted.startswith(prefix) else None
    if done is not None:
        kinds = [kind for kind, _at in moments]
        moments = moments[kinds.index(AlertKind(done)) + 1:]
    return moments[0][1] if moments else None
