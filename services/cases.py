"""Officers work a case: the card, status changes through the workflow, the risk level.
Every view and change is audited; every change re-checks the case's current state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import (
    CaseStatus,
    ClosureReason,
    DeadlineRules,
    RiskLevel,
    change_risk,
    deadline,
    transition,
)
from domain.errors import InvalidInput, NotFound
from domain.reports import normalise_tracking_code
from domain.roles import Action, Actor, ensure
from storage import audit, units
from storage import reports as store
from storage.models import Case, CaseEvent, Member, Report, Unit


@dataclass(frozen=True)
class CaseCard:
    case: Case
    report: Report
    village: Unit | None
    holder: Member | None
    due: dt.datetime | None
    history: Sequence[CaseEvent]


async def _in_scope(actor: Actor, case: Case | None, action: Action, *,
                    session: AsyncSession) -> Case:
    if case is None:
        raise NotFound("case")
    ensure(actor, action, await units.get_unit_scope(case.commune_id, session=session))
    return case


async def find_case(actor: Actor, code_text: str, *, session: AsyncSession) -> Case:
    code = normalise_tracking_code(code_text)
    report = await store.get_report_by_code(code, session=session) if code else None
    case = await store.get_case_for_report(report.id, session=session) if report else None
    return await _in_scope(actor, case, Action.VIEW_CASE, session=session)


async def card(actor: Actor, case_id: int, *, session: AsyncSession, now: dt.datetime,
               tz: dt.tzinfo, rules: DeadlineRules = DeadlineRules()) -> CaseCard:
    case = await _in_scope(actor, await store.get_case(case_id, session=session),
                           Action.VIEW_CASE, session=session)
    report = await store.get_report(case.report_id, session=session)
    holder = await session.get(Member, case.assigned_member_id) if case.assigned_member_id else None
    village = await units.get_unit(report.village_id, session=session) if report.village_id else None
    due = deadline(CaseStatus(case.status), received_at=report.created_at, urgent=case.urgent,
                   risk=RiskLevel(case.risk) if case.risk else None, tz=tz, rules=rules,
                   step_started_at=case.step_started_at)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_viewed", object_type="case", object_id=case.id,
                       unit_id=case.commune_id, with_reporter=False)
    history = await store.list_case_events(case.id, session=session, limit=5)
    return CaseCard(case, report, village, holder, due, history)


async def change_status(actor: Actor, case_id: int, *, expected: CaseStatus, target: CaseStatus,
                        closure_reason: ClosureReason | None = None, note: str = "",
                        session: AsyncSession, now: dt.datetime) -> tuple[Case, bool]:
    """Move the case; returns (case, whether it moved). InvalidInput("case_changed") if it
    is no longer where the button was drawn (someone else moved it)."""
    case = await _in_scope(actor, await store.get_case(case_id, session=session),
                           Action.UPDATE_CASE, session=session)
    current = CaseStatus(case.status)
    if current is target:
        return case, False  # pressed twice: nothing to do
    if current is not expected:
        raise InvalidInput("case_changed")
    change = transition(current, target, note=note, closure_reason=closure_reason)
    case.status = target
    case.updated_at = now
    case.step_started_at = now
    if target is CaseStatus.CLOSED:
        case.closure_reason, case.closed_at = str(closure_reason), now
    elif change.reopened:
        case.closure_reason, case.closed_at = None, None
    await store.add_case_event(CaseEvent(
        case_id=case.id, at=now, actor_user_id=actor.user_id,
        kind="reopened" if change.reopened else "status", from_status=current,
        to_status=target, note=change.note or (str(closure_reason) if closure_reason else None)),
        session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_status_changed", object_type="case", object_id=case.id,
                       unit_id=case.commune_id, before=str(current), after=str(target))
    return case, True


async def set_risk(actor: Actor, case_id: int, risk: RiskLevel, *, reason: str = "",
                   session: AsyncSession, now: dt.datetime) -> Case:
    case = await _in_scope(actor, await store.get_case(case_id, session=session),
                           Action.UPDATE_CASE, session=session)
    current = RiskLevel(case.risk) if case.risk else None
    if not change_risk(current, risk, reason):
        return case
    case.risk = str(risk)
    case.updated_at = now
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=actor.user_id,
                                         kind="risk", note=f"{current or '-'} → {risk}"
                                         + (f": {reason.strip()}" if reason.strip() else "")),
                               session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_risk_changed", object_type="case", object_id=case.id,
                       unit_id=case.commune_id, before=str(current), after=str(risk))
    return case
