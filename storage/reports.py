"""Queries on report drafts, reports, reporters, media and cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.names import sorted_by_name
from domain.roles import Role
from storage.models import (
    Case,
    CaseEvent,
    Member,
    Report,
    ReportAddition,
    ReportDraft,
    ReportMedia,
    ReportReporter,
    StatusLookup,
)

# Statements an ordinary update runs are built once, with named parameters: building the
# expression and its cache key again on every call cost about as much CPU as running it
# (profiled on the throughput bench). SQLAlchemy finds the compiled form by the cache key.
_DRAFT_OF = select(ReportDraft).where(ReportDraft.user_id == sa.bindparam("user_id"))
_REPORT_BY_CODE = select(Report).where(Report.code == sa.bindparam("code"))
_FAILED_LOOKUPS = select(func.count()).select_from(StatusLookup).where(
    StatusLookup.user_id == sa.bindparam("user_id"), col(StatusLookup.success).is_(False),
    StatusLookup.at >= sa.bindparam("since"))
_OPEN_CONVERSATIONS = (
    select(Case, Report).join(Report, Report.id == Case.report_id)
    .join(ReportReporter, ReportReporter.report_id == Report.id)
    .where(ReportReporter.telegram_user_id == sa.bindparam("user_id"),
           col(Case.status).in_(sa.bindparam("statuses", expanding=True)),
           select(CaseEvent.id).where(CaseEvent.case_id == Case.id,
                                      CaseEvent.kind == "relay_out").exists())
    .order_by(col(Case.id).desc()).limit(sa.bindparam("limit")))

# --- drafts -------------------------------------------------------------------------------


async def get_draft(user_id: int, *, session: AsyncSession) -> ReportDraft | None:
    return (await session.exec(_DRAFT_OF, params={"user_id": user_id})).first()


async def create_draft(
    user_id: int, *, session: AsyncSession, step: str, answers: dict, now: dt.datetime,
    kind: str = "report", report_id: int | None = None,
) -> ReportDraft:
    draft = ReportDraft(user_id=user_id, kind=kind, report_id=report_id, step=step,
                        answers=answers, created_at=now, updated_at=now)
    session.add(draft)
    await session.flush()
    return draft


async def save_draft(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    # Answers are changed in place; a JSON column needs to be told, or nothing is written.
    flag_modified(draft, "answers")
    draft.updated_at = now
    draft.reminded_at = None
    session.add(draft)
    await session.flush()


async def delete_draft(draft: ReportDraft, *, session: AsyncSession) -> None:
    await session.delete(draft)
    await session.flush()


async def list_drafts_to_remind(*, session: AsyncSession, idle_since: dt.datetime,
                                limit: int = 200) -> Sequence[ReportDraft]:
    stmt = (select(ReportDraft)
            .where(ReportDraft.updated_at <= idle_since, col(ReportDraft.reminded_at).is_(None))
            .order_by(ReportDraft.updated_at).limit(limit))
    return (await session.exec(stmt)).all()


async def claim_draft_reminder(draft_id: int, *, session: AsyncSession, now: dt.datetime,
                               idle_since: dt.datetime) -> bool:
    """Mark the reminder as sent; False if another instance did, or the user came back."""
    result = await session.exec(
        update(ReportDraft)
        .where(ReportDraft.id == draft_id, col(ReportDraft.reminded_at).is_(None),
               ReportDraft.updated_at <= idle_since)
        .values(reminded_at=now))
    return result.rowcount == 1


async def list_expired_drafts(*, session: AsyncSession, idle_since: dt.datetime,
                              limit: int = 200) -> Sequence[ReportDraft]:
    stmt = (select(ReportDraft).where(ReportDraft.updated_at <= idle_since)
            .order_by(ReportDraft.updated_at).limit(limit))
    return (await session.exec(stmt)).all()


# --- reports --------------------------------------------------------------------------------


async def code_exists(code: str, *, session: AsyncSession) -> bool:
    return (await session.exec(select(Report.id).where(Report.code == code))).first() is not None


async def add_report(report: Report, reporter: ReportReporter, media: list[ReportMedia], *,
                     session: AsyncSession) -> Report:
    session.add(report)
    await session.flush()
    reporter.report_id = report.id
    session.add(reporter)
    for item in media:
        item.report_id = report.id
        session.add(item)
    await session.flush()
    return report


async def get_report(report_id: int, *, session: AsyncSession) -> Report | None:
    return await session.get(Report, report_id)


async def get_reports(report_ids: Sequence[int], *,
                      session: AsyncSession) -> dict[int, Report]:
    if not report_ids:
        return {}
    stmt = select(Report).where(col(Report.id).in_(list(report_ids)))
    return {r.id: r for r in (await session.exec(stmt)).all()}


async def get_report_by_code(code: str, *, session: AsyncSession) -> Report | None:
    return (await session.exec(_REPORT_BY_CODE, params={"code": code})).first()


async def get_report_sent_from(user_id: int, draft_id: int, *,
                               session: AsyncSession) -> Report | None:
    stmt = (select(Report).join(ReportReporter, ReportReporter.report_id == Report.id)
            .where(Report.draft_id == draft_id, ReportReporter.telegram_user_id == user_id))
    return (await session.exec(stmt)).first()


async def get_reporter(report_id: int, *, session: AsyncSession) -> ReportReporter | None:
    return await session.get(ReportReporter, report_id)


async def count_reports_since(user_id: int, since: dt.datetime, *, session: AsyncSession) -> int:
    stmt = (select(func.count()).select_from(Report)
            .join(ReportReporter, ReportReporter.report_id == Report.id)
            .where(ReportReporter.telegram_user_id == user_id, Report.created_at >= since))
    return (await session.exec(stmt)).one()


async def list_media(report_id: int, *, session: AsyncSession) -> Sequence[ReportMedia]:
    stmt = select(ReportMedia).where(ReportMedia.report_id == report_id).order_by(ReportMedia.id)
    return (await session.exec(stmt)).all()


async def add_addition(report_id: int, text: str, media: list[tuple[str, str]], *,
                       session: AsyncSession, now: dt.datetime) -> ReportAddition:
    addition = ReportAddition(report_id=report_id, text=text, created_at=now)
    session.add(addition)
    await session.flush()
    for kind, file_id in media:
        session.add(ReportMedia(report_id=report_id, kind=kind, file_id=file_id, added_at=now,
                                addition_id=addition.id))
    await session.flush()
    return addition


async def list_additions(report_id: int, *, session: AsyncSession) -> Sequence[ReportAddition]:
    stmt = (select(ReportAddition).where(ReportAddition.report_id == report_id)
            .order_by(ReportAddition.id))
    return (await session.exec(stmt)).all()


async def list_open_conversations(user_id: int, statuses: Sequence[str], *,
                                  session: AsyncSession, limit: int = 10
                                  ) -> Sequence[tuple[Case, Report]]:
    """Cases this person reported, still in `statuses`, on which an officer wrote to them
    (newest first)."""
    params = {"user_id": user_id, "statuses": list(statuses), "limit": limit}
    return (await session.exec(_OPEN_CONVERSATIONS, params=params)).all()


async def list_reports_of(user_id: int, *, session: AsyncSession,
                          limit: int = 10) -> Sequence[tuple[Report, Case]]:
    """The reports this person sent, newest first, with their cases."""
    stmt = (select(Report, Case).join(ReportReporter, ReportReporter.report_id == Report.id)
            .join(Case, Case.report_id == Report.id)
            .where(ReportReporter.telegram_user_id == user_id)
            .order_by(col(Report.id).desc()).limit(limit))
    return (await session.exec(stmt)).all()


# --- cases --------------------------------------------------------------------------------


async def add_case(case: Case, *, session: AsyncSession) -> Case:
    session.add(case)
    await session.flush()
    return case


async def get_case(case_id: int, *, session: AsyncSession) -> Case | None:
    return await session.get(Case, case_id)


async def get_case_for_report(report_id: int, *, session: AsyncSession) -> Case | None:
    return (await session.exec(select(Case).where(Case.report_id == report_id))).first()


async def add_case_event(event: CaseEvent, *, session: AsyncSession) -> None:
    session.add(event)
    await session.flush()


async def claim_case(case_id: int, member_id: int, *, session: AsyncSession,
                     now: dt.datetime) -> bool:
    """Assign the case to `member_id` unless someone already has it (two officers pressing
    "take" at once: one wins)."""
    result = await session.exec(
        update(Case).where(Case.id == case_id, col(Case.assigned_member_id).is_(None))
        .values(assigned_member_id=member_id, assigned_at=now, updated_at=now,
                revision=Case.revision + 1))
    return result.rowcount == 1


async def list_cases_to_escalate(*, session: AsyncSession, received_before: dt.datetime,
                                 escalated_before: dt.datetime, status: str,
                                 limit: int = 100) -> Sequence[Case]:
    stmt = (select(Case).where(
        col(Case.urgent).is_(True), col(Case.assigned_member_id).is_(None),
        Case.status == status, Case.created_at <= received_before,
        col(Case.escalated_at).is_(None) | (Case.escalated_at <= escalated_before))
        .order_by(Case.created_at).limit(limit))
    return (await session.exec(stmt)).all()


async def claim_escalation(case: Case, *, session: AsyncSession, now: dt.datetime) -> bool:
    """Record that this round of escalation is being sent; False if another instance did."""
    condition = (col(Case.escalated_at).is_(None) if case.escalated_at is None
                 else Case.escalated_at == case.escalated_at)
    result = await session.exec(
        update(Case).where(Case.id == case.id, col(Case.assigned_member_id).is_(None), condition)
        .values(escalated_at=now, escalation_count=Case.escalation_count + 1))
    return result.rowcount == 1


async def list_commune_members(commune_id: int, roles: Sequence[Role], *,
                               session: AsyncSession) -> Sequence[Member]:
    stmt = (select(Member).where(Member.unit_id == commune_id, col(Member.active).is_(True),
                                 col(Member.role).in_([str(r) for r in roles]))
            .order_by(Member.id))
    return sorted_by_name((await session.exec(stmt)).all(), name=lambda m: m.display_name)


# --- tracking-code look-ups -------------------------------------------------------------


async def record_lookup(user_id: int, success: bool, *, session: AsyncSession,
                        now: dt.datetime) -> None:
    session.add(StatusLookup(user_id=user_id, success=success, at=now))
    await session.flush()


async def count_failed_lookups(user_id: int, since: dt.datetime, *, session: AsyncSession) -> int:
    return (await session.exec(_FAILED_LOOKUPS,
                               params={"user_id": user_id, "since": since})).one()


async def list_case_events(case_id: int, *, session: AsyncSession,
                           limit: int = 5) -> Sequence[CaseEvent]:
    stmt = (select(CaseEvent).where(CaseEvent.case_id == case_id)
            .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc()).limit(limit))
    return (await session.exec(stmt)).all()
