"""Officers work a case: the card, lists, status and risk through the workflow, special
circumstances, assignment, notes, referrals to agencies, messages with the reporter, cases
opened by an officer, the audit trail, and the deadline alerts. No Telegram here.

Every view and change is audited; every change re-checks the rights and the case's
revision (a button drawn for an older state of the case is refused as "case_changed").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import holidays
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_access import CaseRight, CaseScope, ensure_on_case, rights
from domain.cases import (
    MAX_RELAY_CHARS,
    OPEN_STATUSES,
    AlertKind,
    AlertRules,
    ApprovalKind,
    CaseStatus,
    Change,
    Channel,
    ChildSex,
    ClosureReason,
    DeadlineRules,
    HarmPlace,
    RequestOutcome,
    RiskLevel,
    SpecialGroup,
    alert_marker,
    alerts_due,
    approval_needed,
    change_risk,
    check_withdrawal,
    clean_note,
    deadline,
    decide,
    next_alert_at,
    submit_for_approval,
    toggle_group,
    transition,
)
from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.reports import AgeGroup, Category, new_tracking_code, normalise_tracking_code
from domain.roles import Actor, Role, UnitKind
from domain.workdays import is_working_day
from storage import audit, units
from storage import cases as case_store
from storage import reports as store
from storage.cases import CaseFilter
from storage.members import get_member, get_member_by_user
from storage.models import (
    Agency,
    AuditEntry,
    Case,
    CaseEvent,
    CaseReferral,
    Member,
    PendingInput,
    Report,
    Unit,
)


@dataclass(frozen=True)
class CaseConfig:
    """The deadline and alert rules and the commune's time zone (from the settings)."""

    tz: dt.tzinfo
    rules: DeadlineRules = field(default_factory=DeadlineRules)
    alerts: AlertRules = field(default_factory=AlertRules)


@dataclass(frozen=True)
class Loaded:
    case: Case
    report: Report
    scope: CaseScope
    rights: frozenset[CaseRight]
    referred_to: Sequence[Agency]  # active referrals, oldest first


async def load(actor: Actor, case_id: int, right: CaseRight, *,
               session: AsyncSession, lock: bool = False) -> Loaded:
    """The case if `actor` has `right` on it: NotFound, or NotAllowed (recorded by the
    handler) for a case of another commune, an agency it was not referred to, ...
    `lock`: read fresh and hold the row until the commit (a decision on a request)."""
    case = (await case_store.lock_case(case_id, session=session) if lock
            else await store.get_case(case_id, session=session))
    if case is None:
        raise NotFound("case")
    report = await store.get_report(case.report_id, session=session)
    reporter = await store.get_reporter(report.id, session=session)
    referred_to = [agency for _r, agency in
                   await case_store.list_referrals(case.id, session=session)]
    scope = CaseScope(commune_id=case.commune_id,
                      referred_agency_ids=frozenset(a.id for a in referred_to),
                      reporter_user_id=reporter.telegram_user_id if reporter else None,
                      reporter_reachable=reporter is None
                      or reporter.contact_withdrawn_at is None,
                      holder_member_id=case.assigned_member_id,
                      is_open=CaseStatus(case.status) in OPEN_STATUSES)
    ensure_on_case(actor, right, scope)
    return Loaded(case, report, scope, rights(actor, scope), referred_to)




def _expect_revision(case: Case, revision: int | None) -> None:
    if revision is not None and case.revision != revision:
        raise InvalidInput("case_changed")


def refresh_due(case: Case, report: Report, config: CaseConfig) -> None:
    """Recompute the current step's deadline (kept on the case for alerts and lists)."""
    case.due_at = deadline(CaseStatus(case.status), received_at=report.created_at,
                           urgent=case.urgent, risk=RiskLevel(case.risk) if case.risk else None,
                           tz=config.tz, rules=config.rules,
                           step_started_at=case.step_started_at,
                           replanning=(case.plan_round or 0) > 0,
                           approval_requested_at=case.approval_requested_at
                           if case.approval else None)
    refresh_next_alert(case, config)


def refresh_next_alert(case: Case, config: CaseConfig) -> None:
    """Keep `next_alert_at` in step with `due_at` and `alerted` (the alert pass reads it)."""
    is_open = CaseStatus(case.status) in OPEN_STATUSES
    case.next_alert_at = next_alert_at(
        case.due_at if is_open else None, step_started=case.step_started_at or case.created_at,
        alerted=case.alerted, rules=config.alerts)


def _touch(loaded: Loaded, now: dt.datetime, config: CaseConfig | None = None) -> None:
    loaded.case.revision += 1
    loaded.case.updated_at = now
    if config is not None:
        refresh_due(loaded.case, loaded.report, config)


async def _event(case: Case, actor: Actor, kind: str, *, session: AsyncSession,
                 now: dt.datetime, **values) -> None:  # noqa: ANN003
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=actor.user_id,
                                         kind=kind, **values), session=session)


async def _audit(case: Case, actor: Actor, action: str, *, session: AsyncSession,
                 now: dt.datetime, **details) -> None:  # noqa: ANN003
    await audit.record(session=session, at=now, actor_user_id=actor.user_id, action=action,
                       object_type="case", object_id=case.id, unit_id=case.commune_id,
                       **details)


# --- finding and showing -------------------------------------------------------------------


async def find_case(actor: Actor, code_text: str, *, session: AsyncSession) -> Loaded:
    code = normalise_tracking_code(code_text)
    report = await store.get_report_by_code(code, session=session) if code else None
    case = await store.get_case_for_report(report.id, session=session) if report else None
    if case is None:
        raise NotFound("case")
    return await load(actor, case.id, CaseRight.VIEW, session=session)


@dataclass(frozen=True)
class HistoryLine:
    event: CaseEvent
    member_name: str | None = None
    agency_name: str | None = None


@dataclass(frozen=True)
class CaseCard:
    case: Case
    report: Report
    rights: frozenset[CaseRight]
    village: Unit | None
    holder: Member | None
    referrals: Sequence[Agency]
    due: dt.datetime | None
    history: Sequence[HistoryLine]
    has_reporter: bool
    approval_on: bool = True  # the commune's plans and closings go to its leader
    can_withdraw: bool = False  # this person submitted what waits for the leader


async def _history(case_id: int, *, session: AsyncSession, limit: int) -> list[HistoryLine]:
    lines = []
    for event in await store.list_case_events(case_id, session=session, limit=limit):
        member = await get_member(event.member_id, session=session) if event.member_id else None
        agency = (await units.get_agency(event.agency_id, session=session)
                  if event.agency_id else None)
        lines.append(HistoryLine(event, member.display_name if member else None,
                                 agency.name if agency else None))
    return lines


async def card(actor: Actor, case_id: int, *, session: AsyncSession, now: dt.datetime,
               history: int = 5) -> CaseCard:
    loaded = await load(actor, case_id, CaseRight.VIEW, session=session)
    case, report = loaded.case, loaded.report
    holder = await get_member(case.assigned_member_id, session=session) \
        if case.assigned_member_id else None
    village = (await units.get_unit(report.village_id, session=session)
               if report.village_id else None)
    await _audit(case, actor, "case_viewed", session=session, now=now, with_reporter=False)
    return CaseCard(case, report, loaded.rights, village, holder, loaded.referred_to, case.due_at,
                    await _history(case.id, session=session, limit=history),
                    has_reporter=loaded.scope.reporter_user_id is not None,
                    approval_on=await approval_on(case.commune_id, session=session),
                    can_withdraw=bool(case.approval) and CaseRight.UPDATE in loaded.rights
                    and (case.approval_data or {}).get("by") in (None, actor.user_id))


# --- the workflow --------------------------------------------------------------------------


async def change_status(actor: Actor, case_id: int, *, revision: int | None, target: CaseStatus,
                        closure_reason: ClosureReason | None = None, note: str = "",
                        session: AsyncSession, now: dt.datetime,
                        config: CaseConfig) -> tuple[Case, bool]:
    """Move the case; returns (case, whether it moved). Pressing the same confirmation twice
    does nothing; a confirmation drawn before someone else changed the case is refused."""
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session, lock=True)
    case = loaded.case
    current = CaseStatus(case.status)
    if current is target:
        return case, False
    _expect_revision(case, revision)
    if case.approval and target is not CaseStatus.EMERGENCY:
        raise InvalidInput("approval_pending")  # the leader decides first
    change = transition(current, target, note=note, closure_reason=closure_reason)
    if approval_needed(current, target,
                       approval_on=await approval_on(case.commune_id, session=session)):
        raise InvalidInput("approval_required")  # a forged or old "move" button
    if case.approval:  # a child in danger does not wait: emergency withdraws the request
        # "approval_pulled": case_events.kind is VARCHAR(16) ("approval_withdrawn", 18
        # characters, failed on PostgreSQL and kept a child out of emergency).
        await _event(case, actor, "approval_pulled", session=session, now=now,
                     note=case.approval)
        _clear_approval(case, RequestOutcome.EMERGENCY, actor, now)
    await _apply_move(loaded, actor, change, closure_reason, session=session, now=now,
                      config=config)
    return case, True


async def _apply_move(loaded: Loaded, actor: Actor, change: Change,
                      closure_reason: ClosureReason | None, *, session: AsyncSession,
                      now: dt.datetime, config: CaseConfig) -> None:
    case, current, target = loaded.case, change.from_status, change.to_status
    case.status = target
    case.step_started_at = now
    if target is CaseStatus.CLOSED:
        case.closure_reason, case.closed_at = str(closure_reason), now
    elif change.reopened:
        case.closure_reason, case.closed_at = None, None
    if current is CaseStatus.REVIEWING and target is CaseStatus.PLANNING:
        case.plan_round = (case.plan_round or 0) + 1  # a new plan after the review (Điều 30)
    _touch(loaded, now, config)
    await _event(case, actor, "reopened" if change.reopened else "status", session=session,
                 now=now, from_status=current, to_status=target,
                 note=change.note or (str(closure_reason) if closure_reason else None))
    await _audit(case, actor, "case_status_changed", session=session, now=now,
                 before=str(current), after=str(target))


# --- the leader's approval (Decree 56/2017, Điều 28 and 30) -------------------------------


async def approval_on(commune_id: int, *, session: AsyncSession) -> bool:
    """Whether the commune's plans and closings go to its leader (its set-up file)."""
    unit = await units.get_unit(commune_id, session=session)
    return bool(unit.leader_approval) if unit is not None else True


PAST_REQUESTS = 20  # how many ended requests a case remembers (for their old buttons)


def _clear_approval(case: Case, outcome: RequestOutcome, actor: Actor,
                    now: dt.datetime) -> None:
    """Nothing waits any more; how the request ended is remembered under its revision, so
    that a button of its message, pressed later, can say what became of it."""
    data = dict(case.approval_data or {})
    past = dict(data.get("past") or {})
    if data.get("rev") is not None:
        past[str(data["rev"])] = {"outcome": str(outcome), "by": actor.user_id,
                                  "at": now.isoformat(), "kind": case.approval}
        past = dict(list(past.items())[-PAST_REQUESTS:])
    case.approval, case.approval_requested_at = None, None
    case.approval_data = {"past": past} if past else {}


def _expect_request(case: Case, revision: int | None) -> None:
    """The button's request is the one that waits: the case's revision when it was
    submitted (later changes to the case, a note or a referral, leave the request as it
    is), or, for a request stored before that was recorded, the case's revision now."""
    if revision is None or not case.approval:
        return
    data = case.approval_data or {}
    if data.get("rev") is not None:
        if data["rev"] != revision:
            raise InvalidInput("case_changed")
        return
    _expect_revision(case, revision)


@dataclass(frozen=True)
class Outcome:
    """What became of a request whose button was pressed (None fields: not known)."""

    outcome: RequestOutcome | None
    kind: ApprovalKind | None
    by_name: str | None
    at: dt.datetime | None
    newer_waits: bool  # another request of this case waits now


async def request_outcome(actor: Actor, case_id: int, revision: int, *,
                          session: AsyncSession) -> Outcome:
    """How the request drawn at `revision` ended, for the leader who pressed its button."""
    loaded = await load(actor, case_id, CaseRight.VIEW, session=session)
    case = loaded.case
    data = case.approval_data or {}
    ended = (data.get("past") or {}).get(str(revision))
    newer = bool(case.approval) and data.get("rev") != revision
    if not ended:
        return Outcome(None, None, None, None, newer)
    member = (await get_member_by_user(ended["by"], session=session, active_only=False)
              if ended.get("by") else None)
    kind = ended.get("kind")
    return Outcome(RequestOutcome(ended["outcome"]),
                   ApprovalKind(kind) if kind in set(ApprovalKind) else None,
                   member.display_name if member else None,
                   dt.datetime.fromisoformat(ended["at"]) if ended.get("at") else None, newer)


async def leaders_of(commune_id: int, *, session: AsyncSession) -> list[int]:
    """The Telegram ids of the commune's leaders (lãnh đạo UBND xã)."""
    return [m.telegram_user_id for m in
            await store.list_commune_members(commune_id, [Role.LEADER], session=session)]


def needs_approval(case: Case, target: CaseStatus, approval_is_on: bool) -> ApprovalKind | None:
    return approval_needed(CaseStatus(case.status), target, approval_on=approval_is_on)


@dataclass(frozen=True)
class Submitted:
    case: Case
    report: Report
    kind: ApprovalKind
    leader_user_ids: Sequence[int]


async def submit_approval(actor: Actor, case_id: int, *, revision: int | None,
                          target: CaseStatus, text: str = "",
                          closure_reason: ClosureReason | None = None, session: AsyncSession,
                          now: dt.datetime, config: CaseConfig) -> Submitted:
    """The officer submits the plan (or the closing proposal) to the commune's leader: the
    case waits, its deadline becomes the leader's, and the leaders are to be told."""
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session, lock=True)
    case = loaded.case
    _expect_revision(case, revision)
    request = submit_for_approval(
        CaseStatus(case.status), target, pending=case.approval,
        approval_on=await approval_on(case.commune_id, session=session), text=text,
        closure_reason=closure_reason)
    past = (case.approval_data or {}).get("past")
    case.approval, case.approval_requested_at = str(request.kind), now
    _touch(loaded, now, config)
    # "rev": the request's own revision, the one its buttons carry.
    case.approval_data = {"text": request.text, "target": str(target),
                          "reason": str(closure_reason) if closure_reason else None,
                          "by": actor.user_id, "rev": case.revision,
                          **({"past": past} if past else {})}
    await _event(case, actor, "approval_asked", session=session, now=now,
                 note=f"{request.kind}: {request.text}" if request.text else str(request.kind))
    await _audit(case, actor, "case_approval_requested", session=session, now=now,
                 kind=str(request.kind))
    return Submitted(case, loaded.report, request.kind,
                     await leaders_of(case.commune_id, session=session))


@dataclass(frozen=True)
class Decided:
    case: Case
    report: Report
    kind: ApprovalKind
    approved: bool
    comment: str
    notify_user_ids: Sequence[int]  # who submitted it, and whoever handles the case


async def decide_approval(actor: Actor, case_id: int, *, revision: int | None, approve: bool,
                          comment: str = "", session: AsyncSession, now: dt.datetime,
                          config: CaseConfig) -> Decided:
    """The leader approves (the case moves on) or returns it with a comment (it stays)."""
    loaded = await load(actor, case_id, CaseRight.APPROVE, session=session, lock=True)
    case = loaded.case
    if not case.approval and revision is not None:
        raise InvalidInput("case_changed")  # decided or withdrawn since: the caller says how
    _expect_request(case, revision)
    decision = decide(case.approval, approve=approve, comment=comment)
    kind, data = ApprovalKind(case.approval), dict(case.approval_data or {})
    notify = [data["by"]] if data.get("by") else []
    holder = await get_member(case.assigned_member_id, session=session) \
        if case.assigned_member_id else None
    if holder is not None and holder.active and holder.telegram_user_id not in notify:
        notify.append(holder.telegram_user_id)
    _clear_approval(case, RequestOutcome.APPROVED if decision.approved
                    else RequestOutcome.RETURNED, actor, now)
    await _event(case, actor, "approved" if decision.approved else "returned", session=session,
                 now=now, note=(f"{kind}: {decision.comment}" if decision.comment else str(kind)))
    await _audit(case, actor, "case_approved" if decision.approved else "case_returned",
                 session=session, now=now, kind=str(kind))
    if decision.approved:
        reason = ClosureReason(data["reason"]) if data.get("reason") else None
        change = transition(CaseStatus(case.status), CaseStatus(data["target"]),
                            note=data.get("text") or "",  # the plan approved stays in history
                            closure_reason=reason)
        if change is not None:
            await _apply_move(loaded, actor, change, reason, session=session, now=now,
                              config=config)
    else:
        _touch(loaded, now, config)
    return Decided(case, loaded.report, kind, decision.approved, decision.comment,
                   [u for u in notify if u != actor.user_id])


async def member_name(user_id: int, *, session: AsyncSession) -> str | None:
    member = await get_member_by_user(user_id, session=session)
    return member.display_name if member is not None else None


@dataclass(frozen=True)
class Withdrawn:
    case: Case
    report: Report
    kind: ApprovalKind
    leader_user_ids: Sequence[int]  # who had the request: told it needs no decision
    already: bool = False  # this very request had been withdrawn before (pressed twice)


async def withdraw_approval(actor: Actor, case_id: int, *, revision: int | None,
                            session: AsyncSession, now: dt.datetime,
                            config: CaseConfig) -> Withdrawn:
    """The officer who submitted the plan or the closing proposal takes it back: the case
    stays at its step, with that step's deadline again; the leaders are to be told."""
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session, lock=True)
    case = loaded.case
    data = dict(case.approval_data or {})
    if not case.approval and revision is not None:
        ended = (data.get("past") or {}).get(str(revision)) or {}
        if ended.get("outcome") == RequestOutcome.WITHDRAWN and ended.get("by") == actor.user_id:
            return Withdrawn(case, loaded.report, ApprovalKind(ended["kind"]), [], already=True)
        raise InvalidInput("case_changed")  # the leader decided first: the caller says how
    _expect_request(case, revision)
    check_withdrawal(case.approval, submitted_by=data.get("by"), user_id=actor.user_id)
    kind = ApprovalKind(case.approval)
    _clear_approval(case, RequestOutcome.WITHDRAWN, actor, now)
    _touch(loaded, now, config)  # the step's own deadline again; the leader's alerts stop
    await _event(case, actor, "approval_back", session=session, now=now, note=str(kind))
    await _audit(case, actor, "case_approval_withdrawn", session=session, now=now,
                 kind=str(kind))
    return Withdrawn(case, loaded.report, kind,
                     await leaders_of(case.commune_id, session=session))


# --- the child, for the official figures --------------------------------------------------


async def set_child_facts(actor: Actor, case_id: int, *, revision: int | None,
                          sex: ChildSex | None = None, place: HarmPlace | None = None,
                          session: AsyncSession, now: dt.datetime) -> Case:
    """Record the child's sex or the place of harm (asked at the assessment)."""
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session)
    case = loaded.case
    _expect_revision(case, revision)
    changed = []
    if sex is not None and case.child_sex != sex:
        case.child_sex = str(sex)
        changed.append(f"sex={sex}")
    if place is not None and case.harm_place != place:
        case.harm_place = str(place)
        changed.append(f"place={place}")
    if not changed:
        return case
    _touch(loaded, now)
    await _event(case, actor, "child_facts", session=session, now=now, note=" ".join(changed))
    await _audit(case, actor, "case_child_facts_changed", session=session, now=now,
                 fields=[c.split("=")[0] for c in changed])
    return case


async def set_risk(actor: Actor, case_id: int, risk: RiskLevel, *, reason: str = "",
                   revision: int | None = None, session: AsyncSession, now: dt.datetime,
                   config: CaseConfig) -> Case:
    """The first level needs no reason (the assessment); a later change does."""
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session)
    case = loaded.case
    current = RiskLevel(case.risk) if case.risk else None
    if current is risk:
        return case
    _expect_revision(case, revision)
    change_risk(current, risk, reason)
    case.risk = str(risk)
    if case.assessed_at is None:
        case.assessed_at = now
    _touch(loaded, now, config)
    reason = reason.strip()
    await _event(case, actor, "risk", session=session, now=now,
                 note=f"{current or '-'} → {risk}" + (f": {reason}" if reason else ""))
    await _audit(case, actor, "case_risk_changed", session=session, now=now,
                 before=str(current), after=str(risk))
    return case


async def toggle_special_group(actor: Actor, case_id: int, group: SpecialGroup, *,
                               revision: int | None, session: AsyncSession,
                               now: dt.datetime) -> Case:
    loaded = await load(actor, case_id, CaseRight.UPDATE, session=session)
    case = loaded.case
    _expect_revision(case, revision)
    case.special_groups = toggle_group(list(case.special_groups or []), group)
    _touch(loaded, now)
    added = str(group) in case.special_groups
    await _event(case, actor, "groups", session=session, now=now,
                 note=("+" if added else "-") + str(group))
    await _audit(case, actor, "case_groups_changed", session=session, now=now,
                 group=str(group), added=added)
    return case


async def assignable_members(actor: Actor, case_id: int, *,
                             session: AsyncSession) -> Sequence[Member]:
    loaded = await load(actor, case_id, CaseRight.ASSIGN, session=session)
    return await store.list_commune_members(loaded.case.commune_id, [Role.OFFICER, Role.ADMIN],
                                            session=session)


async def assign(actor: Actor, case_id: int, member_id: int, *, revision: int | None,
                 session: AsyncSession, now: dt.datetime) -> tuple[Case, Member, bool]:
    """Give the case to an officer of its commune; returns (case, member, changed)."""
    loaded = await load(actor, case_id, CaseRight.ASSIGN, session=session)
    case = loaded.case
    member = await get_member(member_id, session=session)
    if (member is None or not member.active or member.unit_id != case.commune_id
            or member.role not in (Role.OFFICER, Role.ADMIN)):
        raise InvalidInput("assignee_invalid")
    if case.assigned_member_id == member.id:
        return case, member, False
    _expect_revision(case, revision)
    case.assigned_member_id, case.assigned_at = member.id, now
    _touch(loaded, now)
    await _event(case, actor, "assigned", session=session, now=now, member_id=member.id)
    await _audit(case, actor, "case_assigned", session=session, now=now, member_id=member.id)
    return case, member, True


# --- notes ------------------------------------------------------------------------------


async def add_note(actor: Actor, case_id: int, text: str | None, *, session: AsyncSession,
                   now: dt.datetime, media: tuple[str, str] | None = None) -> Case:
    """An internal note (text, or a photo with an optional caption) on the case."""
    loaded = await load(actor, case_id, CaseRight.NOTE, session=session)
    note = clean_note(text) if (text or "").strip() or media is None else ""
    kind, file_id = media if media else (None, None)
    await _event(loaded.case, actor, "note", session=session, now=now, note=note or None,
                 media_kind=kind, file_id=file_id)
    loaded.case.updated_at = now
    await _audit(loaded.case, actor, "case_note_added", session=session, now=now,
                 with_media=media is not None)
    return loaded.case


# --- referrals ---------------------------------------------------------------------------


async def referable_agencies(actor: Actor, case_id: int, *,
                             session: AsyncSession) -> Sequence[Agency]:
    loaded = await load(actor, case_id, CaseRight.REFER, session=session)
    return [a for a in await units.list_agencies(loaded.case.commune_id, session=session)
            if a.id not in loaded.scope.referred_agency_ids]


@dataclass(frozen=True)
class Referred:
    case: Case
    report: Report
    agency: Agency
    notify_user_ids: Sequence[int]
    new: bool


async def refer(actor: Actor, case_id: int, agency_id: int, *, revision: int | None,
                session: AsyncSession, now: dt.datetime) -> Referred:
    """Hand the case to an agency of the commune: its members are told and may see it."""
    loaded = await load(actor, case_id, CaseRight.REFER, session=session)
    case = loaded.case
    agency = await units.get_agency(agency_id, session=session)
    if agency is None or not agency.active or agency.commune_id != case.commune_id:
        raise InvalidInput("agency_not_in_commune")
    members = [m.telegram_user_id
               for m in await case_store.list_agency_members(agency.id, session=session)]
    if agency.id in loaded.scope.referred_agency_ids:
        return Referred(case, loaded.report, agency, members, new=False)
    _expect_revision(case, revision)
    referral = await case_store.get_referral(case.id, agency.id, session=session)
    if referral is None:
        referral = CaseReferral(case_id=case.id, agency_id=agency.id, referred_at=now,
                                referred_by=actor.user_id)
    referral.active, referral.referred_at, referral.referred_by = True, now, actor.user_id
    await case_store.save_referral(referral, session=session)
    _touch(loaded, now)
    await _event(case, actor, "referred", session=session, now=now, agency_id=agency.id)
    await _audit(case, actor, "case_referred", session=session, now=now, agency_id=agency.id)
    return Referred(case, loaded.report, agency, members, new=True)


# --- messages between the officer and the reporter (identities hidden both ways) ---------


@dataclass(frozen=True)
class Relayed:
    case: Case
    report: Report
    to_user_id: int | None


async def relay_to_reporter(actor: Actor, case_id: int, text: str, *, session: AsyncSession,
                            now: dt.datetime) -> Relayed:
    """The officer handling the case writes to the reporter; the bot carries it without
    either side's name. The last message is also what /status shows."""
    loaded = await load(actor, case_id, CaseRight.RELAY, session=session)
    case = loaded.case
    text = clean_note(text, limit=MAX_RELAY_CHARS)
    await _event(case, actor, "relay_out", session=session, now=now, note=text)
    case.public_note, case.public_note_at, case.updated_at = text, now, now
    await _audit(case, actor, "reporter_messaged", session=session, now=now)
    return Relayed(case, loaded.report, loaded.scope.reporter_user_id)


async def relay_target(user_id: int, case_id: int, *, session: AsyncSession
                       ) -> tuple[Case, Report]:
    """The case a reporter's "reply" button is for, if it is theirs and still open."""
    case = await store.get_case(case_id, session=session)
    report = await store.get_report(case.report_id, session=session) if case else None
    reporter = await store.get_reporter(report.id, session=session) if report else None
    if reporter is None or reporter.telegram_user_id != user_id:
        raise NotFound("case")
    if CaseStatus(case.status) not in OPEN_STATUSES:
        raise InvalidInput("case_closed")
    return case, report


async def reply_from_reporter(user_id: int, case_id: int, text: str, *, session: AsyncSession,
                              now: dt.datetime) -> Relayed:
    """The reporter answers; it goes on the case and to the officer handling it
    (`to_user_id` None: nobody handles the case now; it waits on the case)."""
    case, report = await relay_target(user_id, case_id, session=session)
    text = clean_note(text, limit=MAX_RELAY_CHARS)
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=user_id,
                                         kind="relay_in", note=text), session=session)
    case.updated_at = now
    await audit.record(session=session, at=now, actor_user_id=user_id, action="reporter_replied",
                       object_type="case", object_id=case.id, unit_id=case.commune_id)
    holder = await get_member(case.assigned_member_id, session=session) \
        if case.assigned_member_id else None
    return Relayed(case, report, holder.telegram_user_id if holder and holder.active else None)


# --- cases opened by an officer (a phone call, a school's notice, ...) --------------------


OPENING_FIELDS = ("channel", "category", "village_id", "age_group", "urgent")


async def open_case(actor: Actor, answers: dict, note: str, *, session: AsyncSession,
                    now: dt.datetime, config: CaseConfig) -> tuple[Case, Report]:
    """A case the officer opens and handles; no reporter to write back to."""
    if actor.role not in (Role.OFFICER, Role.ADMIN) or actor.scope is None:
        raise NotAllowed("open_case", f"role={actor.role}")
    commune = await units.get_unit(actor.unit_id, session=session)
    if commune is None or commune.kind is not UnitKind.COMMUNE:
        raise InvalidInput("member_needed")
    village_id = answers.get("village_id")
    if village_id is not None:
        village = await units.get_unit(village_id, session=session)
        if village is None or village.parent_id != commune.id:
            raise InvalidInput("stale_step")
    code = new_tracking_code()
    while await store.code_exists(code, session=session):
        code = new_tracking_code()
    report = Report(code=code, commune_id=commune.id, village_id=village_id,
                    category=Category(answers["category"]).value,
                    urgent=bool(answers.get("urgent")),
                    age_group=AgeGroup(answers["age_group"]).value,
                    story=clean_note(note), channel=Channel(answers["channel"]).value,
                    created_at=now)
    session.add(report)
    await session.flush()
    case = Case(report_id=report.id, commune_id=commune.id, status=CaseStatus.RECEIVED,
                urgent=report.urgent, created_at=now, updated_at=now, step_started_at=now,
                assigned_member_id=actor.member_id, assigned_at=now if actor.member_id else None,
                opened_by=actor.user_id)
    refresh_due(case, report, config)
    await store.add_case(case, session=session)
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=actor.user_id,
                                         kind="opened", to_status=CaseStatus.RECEIVED,
                                         note=report.channel), session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_opened", object_type="case", object_id=case.id,
                       unit_id=commune.id, channel=report.channel)
    return case, report


# --- lists ---------------------------------------------------------------------------------

LIST_VIEWS = ("mine", "new", "late", "all")
PAGE_SIZE = 8


@dataclass(frozen=True)
class CaseList:
    view: str
    rows: Sequence[tuple[Case, Report]]
    total: int
    page: int
    pages: int
    villages: dict[int, str]  # names of the villages on this page and in the filter
    village_counts: dict[int | None, int]
    category_counts: dict[str, int]


def _filter_for(actor: Actor, view: str, now: dt.datetime, *, village_id: int | None,
                category: str | None, status: str | None) -> CaseFilter:
    if actor.unit_id is None:
        raise InvalidInput("member_needed")
    commune_id = actor.scope.path[-2] if actor.role is Role.COLLABORATOR else actor.unit_id
    narrow = {"village_id": village_id, "category": category, "status": status}
    if actor.role is Role.AGENCY_MEMBER:  # only what was referred to their agency
        return CaseFilter(commune_id=commune_id, agency_id=actor.agency_id or -1,
                          open_only=view != "all", **narrow)
    if actor.role is Role.COLLABORATOR:  # only what they reported
        return CaseFilter(commune_id=commune_id, reporter_user_id=actor.user_id,
                          open_only=view != "all", **narrow)
    if actor.role not in (Role.OFFICER, Role.ADMIN, Role.LEADER):
        raise NotAllowed("list_cases", f"role={actor.role}")
    if view == "mine" and actor.role is Role.LEADER:  # what waits for the leader's decision
        return CaseFilter(commune_id=commune_id, awaiting_approval=True, **narrow)
    if view == "mine":
        return CaseFilter(commune_id=commune_id, assigned_member_id=actor.member_id or -1,
                          **narrow)
    if view == "new":
        return CaseFilter(commune_id=commune_id, unassigned=True, **narrow)
    if view == "late":
        return CaseFilter(commune_id=commune_id, overdue_at=now, **narrow)
    return CaseFilter(commune_id=commune_id, **narrow)


async def list_cases(actor: Actor, view: str, *, page: int = 0, village_id: int | None = None,
                     category: str | None = None, status: str | None = None,
                     session: AsyncSession, now: dt.datetime) -> CaseList:
    if view not in LIST_VIEWS:
        raise InvalidInput("stale_step")
    unit = await units.get_unit(actor.unit_id, session=session) if actor.unit_id else None
    if actor.role in (Role.OFFICER, Role.ADMIN, Role.LEADER) and (unit is None
                                                     or unit.kind is not UnitKind.COMMUNE):
        raise InvalidInput("cases_commune_only")
    f = _filter_for(actor, view, now, village_id=village_id, category=category, status=status)
    if status == CaseStatus.CLOSED:
        f = replace(f, open_only=False)
    total = await case_store.count_cases(f, session=session)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = await case_store.list_cases(f, session=session, offset=page * PAGE_SIZE,
                                       limit=PAGE_SIZE)
    village_counts, category_counts = await case_store.count_by_village_and_category(
        f, session=session)
    wanted = {r.village_id for _c, r in rows if r.village_id} | {
        v for v in village_counts if v is not None}
    villages = {}
    for village_id_ in wanted:
        unit = await units.get_unit(village_id_, session=session)
        if unit is not None:
            villages[village_id_] = unit.name
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="cases_listed", object_type="case_list", object_id=view,
                       unit_id=f.commune_id, count=len(rows), page=page)
    return CaseList(view, rows, total, page, pages, villages, village_counts, category_counts)


# --- the audit trail ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditTrail:
    case_id: int
    report: Report
    entries: Sequence[AuditEntry]
    names: dict[int, str]  # Telegram id → display name, for members


async def audit_trail(actor: Actor, code_text: str, *, session: AsyncSession,
                      now: dt.datetime, limit: int = 30) -> AuditTrail:
    """Who saw and changed the case, newest first (administrators of its commune)."""
    code = normalise_tracking_code(code_text)
    report = await store.get_report_by_code(code, session=session) if code else None
    case = await store.get_case_for_report(report.id, session=session) if report else None
    if case is None:
        raise NotFound("case")
    loaded = await load(actor, case.id, CaseRight.AUDIT, session=session)
    entries = await audit.list_entries(session=session, object_type="case",
                                       object_id=str(case.id), limit=limit)
    names = {}
    for user_id in {e.actor_user_id for e in entries if e.actor_user_id is not None}:
        member = await get_member_by_user(user_id, session=session, active_only=False)
        if member is not None:
            names[user_id] = member.display_name
    await _audit(loaded.case, actor, "audit_viewed", session=session, now=now)
    return AuditTrail(loaded.case.id, loaded.report, entries, names)


# --- deadline alerts and the morning digest (scheduled; the database says what is due) ---


@dataclass(frozen=True)
class Alert:
    case: Case
    report: Report
    kind: AlertKind
    chat_ids: Sequence[int]


async def _alert_recipients(case: Case, kind: AlertKind, *, session: AsyncSession) -> list[int]:
    if kind is AlertKind.ESCALATED:
        admins = await store.list_commune_members(case.commune_id, [Role.ADMIN], session=session)
        return [m.telegram_user_id for m in admins]
    if case.approval:  # the step waits for the commune's leader
        leaders = await leaders_of(case.commune_id, session=session)
        if leaders:
            return leaders
    holder = await get_member(case.assigned_member_id, session=session) \
        if case.assigned_member_id else None
    if holder is not None and holder.active:
        return [holder.telegram_user_id]
    officers = await store.list_commune_members(case.commune_id, [Role.OFFICER, Role.ADMIN],
                                                session=session)
    return [m.telegram_user_id for m in officers if m.role is Role.OFFICER] or \
        [m.telegram_user_id for m in officers]


def alert_key(case: Case, kind: AlertKind, chat_id: int) -> str:
    return f"case:{case.id}:{kind}:{int(case.due_at.timestamp())}:{chat_id}"


async def queue_alerts(*, session: AsyncSession, now: dt.datetime, config: CaseConfig,
                       render: Callable[[Alert], str]) -> int:
    """Delivery rows for every deadline alert whose time has come, once each (the key is
    unique: another instance or a later run adds nothing). Returns how many are new.

    Reads only the cases whose `next_alert_at` has come (an index), so a pass with nothing
    due costs one index probe however many cases are open."""
    recipients: dict[tuple[int, int | None, AlertKind, bool], list[int]] = {}
    new = 0
    while cases := await case_store.list_cases_alert_due(now, session=session):
        due_now = []
        for case in cases:
            kinds = alerts_due(case.due_at, now=now, step_started=case.step_started_at
                               or case.created_at, rules=config.alerts) if case.due_at else []
            marker = alert_marker(case.due_at, kinds[-1]) if kinds else None
            if marker is not None and case.alerted != marker:
                case.alerted = marker
                due_now.append((case, kinds))
            refresh_next_alert(case, config)
            if case.next_alert_at is not None and case.next_alert_at <= now:
                # Cannot happen with consistent rules; never let one case loop the pass.
                case.next_alert_at = now + dt.timedelta(minutes=1)
        reports = await store.get_reports([c.report_id for c, _k in due_now], session=session)
        rows = []
        for case, kinds in due_now:
            for kind in kinds:
                who = (case.commune_id, case.assigned_member_id, kind, bool(case.approval))
                if who not in recipients:
                    recipients[who] = await _alert_recipients(case, kind, session=session)
                chats = recipients[who]
                text = render(Alert(case, reports[case.report_id], kind, chats))
                rows += [{"key": alert_key(case, kind, chat), "chat_id": chat, "case_id": case.id,
                          "text": text, "status": "pending", "attempts": 0, "due_at": now,
                          "kind": "alert"}
                         for chat in chats]
        new += await case_store.add_keyed_deliveries(rows, session=session)
        await session.flush()
    return new


@dataclass(frozen=True)
class Digest:
    member: Member
    due_today: Sequence[tuple[Case, Report]]
    overdue: Sequence[tuple[Case, Report]]
    unassigned: int
    register_overdue: int = 0  # children of the commune whose periodic review is overdue
    # For a commune leader: the requests waiting for their decision, oldest first.
    awaiting_approval: Sequence[tuple[Case, Report]] = ()


DIGEST_WINDOW = dt.timedelta(hours=4)


async def queue_digests(*, session: AsyncSession, now: dt.datetime, config: CaseConfig,
                        at: dt.time | None, render: Callable[[Digest], str],
                        buttons: Callable[[Digest], dict | None] | None = None) -> int:
    """On a working day, from `at` o'clock for a few hours, each officer's digest of what is
    due today and overdue, and each commune leader's list of requests waiting for their
    approval, once per day (the day is claimed). `at` None: no digests. `buttons`: the
    message's inline keyboard (Telegram's JSON), if any."""
    local = now.astimezone(config.tz)
    if at is None or not is_working_day(local.date()):
        return 0
    starts = dt.datetime.combine(local.date(), at, tzinfo=config.tz)
    if not starts <= local < starts + DIGEST_WINDOW:
        return 0  # a "good morning" at 5 pm after a restart would only confuse
    if not await case_store.claim_job_run(f"digest:{local.date().isoformat()}",
                                          session=session, now=now):
        return 0  # done today already (here or by another instance)
    end_of_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                     tzinfo=config.tz)
    by_member: dict[int, list[tuple[Case, Report]]] = {}
    unassigned: dict[int, int] = {}
    awaiting: dict[int, list[tuple[Case, Report]]] = {}
    after = 0
    while rows := await case_store.list_open_cases(session=session, after_id=after):
        after = rows[-1][0].id
        for case, report in rows:
            if case.approval and case.approval_requested_at is not None:
                awaiting.setdefault(case.commune_id, []).append((case, report))
            if case.assigned_member_id is None:
                unassigned[case.commune_id] = unassigned.get(case.commune_id, 0) + 1
            elif case.due_at is not None and case.due_at < end_of_day:
                by_member.setdefault(case.assigned_member_id, []).append((case, report))
    from storage import register as register_store

    register_overdue = await register_store.overdue_by_commune(local.date(), session=session)
    communes = set(unassigned) | set(register_overdue)
    members = {}
    for member_id in by_member:
        member = await get_member(member_id, session=session)
        if member is not None and member.active:
            members[member.id] = member
    for commune_id in communes:  # officers hear about cases nobody has taken
        for member in await store.list_commune_members(commune_id, [Role.OFFICER],
                                                       session=session):
            members.setdefault(member.id, member)
    for commune_id in awaiting:  # leaders hear about what waits for their decision
        for member in await store.list_commune_members(commune_id, [Role.LEADER],
                                                       session=session):
            members.setdefault(member.id, member)
    rows_out = []
    for member in members.values():
        mine = sorted(by_member.get(member.id, []), key=lambda cr: cr[0].due_at)
        officer = member.role is Role.OFFICER
        digest = Digest(member, [cr for cr in mine if cr[0].due_at >= now],
                        [cr for cr in mine if cr[0].due_at < now],
                        unassigned.get(member.unit_id, 0) if officer else 0,
                        register_overdue.get(member.unit_id, 0) if officer else 0,
                        sorted(awaiting.get(member.unit_id, []),
                               key=lambda cr: (cr[0].approval_requested_at, cr[0].id))
                        if member.role is Role.LEADER else ())
        if not (digest.due_today or digest.overdue or digest.unassigned
                or digest.register_overdue or digest.awaiting_approval):
            continue
        rows_out.append({"key": f"digest:{local.date().isoformat()}:{member.telegram_user_id}",
                         "chat_id": member.telegram_user_id, "text": render(digest),
                         "markup": buttons(digest) if buttons is not None else None,
                         "status": "pending", "attempts": 0, "due_at": now, "kind": "digest"})
    return await case_store.add_keyed_deliveries(rows_out, session=session)


def rules_fingerprint(config: CaseConfig) -> str:
    """Changes when anything a deadline or its alerts depend on changes: the rules, the
    alert rules, the time zone, or the holiday calendar (a new `holidays` release can add a
    public holiday). "v2": next_alert_at was added (migration 0007)."""
    text = f"v2|{config.rules!r}|{config.alerts!r}|{config.tz}|{holidays.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


DUE_REFRESH_STALE = dt.timedelta(minutes=2)  # a lease not renewed for this long is taken over


def _due_refresh_keys(config: CaseConfig) -> tuple[str, str]:
    fingerprint = rules_fingerprint(config)
    return f"due-rules:{fingerprint}", f"due-rules-done:{fingerprint}"


async def claim_due_refresh(*, session: AsyncSession, config: CaseConfig,
                            now: dt.datetime) -> bool:
    """True for the one instance that must recompute the deadlines under these rules: not
    done yet, and nobody else at it (or whoever was stopped renewing its lease)."""
    lease, done = _due_refresh_keys(config)
    if await case_store.job_ran(done, session=session):
        return False
    return await case_store.claim_lease(lease, session=session, now=now,
                                        stale_before=now - DUE_REFRESH_STALE)


async def refresh_due_batch(*, session: AsyncSession, config: CaseConfig, now: dt.datetime,
                            after_id: int, limit: int = 500,
                            window: int = 5000) -> tuple[int | None, int]:
    """Recompute the deadlines of the open cases among the next `window` case ids after
    `after_id` (at most `limit` of them) and renew the lease. Returns (where to go on from,
    or None when done; how many deadlines changed)."""
    last = await case_store.last_case_id(session=session)
    lease, done = _due_refresh_keys(config)
    if after_id >= last:
        await case_store.release_lease(lease, session=session)
        await case_store.claim_job_run(done, session=session, now=now)
        return None, 0
    rows = await case_store.list_open_cases_between(after_id, min(after_id + window, last),
                                                    session=session)
    reached = min(after_id + window, last)
    if len(rows) > limit:
        rows, reached = rows[:limit], rows[limit - 1][0].id
    changed = 0
    for case, report in rows:
        before = (case.due_at, case.next_alert_at)
        refresh_due(case, report, config)
        changed += (case.due_at, case.next_alert_at) != before
    await case_store.renew_lease(lease, session=session, now=now)
    return reached, changed


async def abandon_due_refresh(*, session: AsyncSession, config: CaseConfig) -> None:
    """Stopped half-way (shutdown): the next start takes it up at once."""
    lease, _done = _due_refresh_keys(config)
    await case_store.release_lease(lease, session=session)


# --- what someone is about to type (a note, a reason, a message, a new case) -----------


async def expect_input(user_id: int, kind: str, *, session: AsyncSession, now: dt.datetime,
                       case_id: int | None = None, revision: int | None = None,
                       data: dict | None = None) -> PendingInput:
    return await case_store.set_pending(user_id, kind, session=session, now=now,
                                        case_id=case_id, revision=revision, data=data)


INPUT_TTL = dt.timedelta(hours=2)
# The report round's form stays on its question while the round is open: an agency member
# who answers after a meeting, or the next morning, still answers the question on screen.
# The round's form ends with its lock; a child half-added to the register waits a day (a
# collaborator called away mid-visit), no longer: its answers are a child's details.
INPUT_TTLS = {"round": dt.timedelta(days=30), "tre": dt.timedelta(days=1),
              "tre_leave": dt.timedelta(days=1), "tre_edit": dt.timedelta(days=1)}


async def pending_input(user_id: int, *, session: AsyncSession,
                        now: dt.datetime) -> PendingInput | None:
    """What this person is about to type, unless they left it for too long."""
    pending = await case_store.get_pending(user_id, session=session)
    if pending is not None and now - pending.created_at > INPUT_TTLS.get(pending.kind,
                                                                         INPUT_TTL):
        await case_store.clear_pending(user_id, session=session)
        return None
    return pending


async def save_input(pending: PendingInput, *, session: AsyncSession) -> None:
    await case_store.save_pending(pending, session=session)


async def drop_input(user_id: int, *, session: AsyncSession) -> None:
    await case_store.clear_pending(user_id, session=session)
