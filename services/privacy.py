"""People's rights over their data (see it, withdraw the contact) and the access report.

No Telegram here. Every request is logged with the date it came and the deadline to answer
it; the chat answers at once, so it is answered when it is logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.data_rights import VIEW, WITHDRAW, answer_due
from domain.errors import NotAllowed, NotFound
from domain.periods import Period
from domain.roles import Action, Actor, Role, UnitKind, can
from services.reports import officers_to_notify
from storage import audit, units
from storage import privacy as store
from storage import stats as stats_store
from storage.members import get_member
from storage.models import AuditEntry, Case, DataRequest, Report, ReportReporter


@dataclass(frozen=True)
class KeptReport:
    report: Report
    reporter: ReportReporter
    case: Case | None
    messages: list[tuple[dt.datetime, str]]


@dataclass(frozen=True)
class Kept:
    reports: list[KeptReport]
    request: DataRequest


async def _log_request(user_id: int, kind: str, report_id: int | None, *,
                       session: AsyncSession, now: dt.datetime, working_days: int,
                       tz: dt.tzinfo) -> DataRequest:
    return await store.add_request(DataRequest(
        user_id=user_id, kind=kind, report_id=report_id, received_at=now,
        due_at=answer_due(now, working_days, tz), answered_at=now), session=session)


async def what_is_kept(user_id: int, *, session: AsyncSession, now: dt.datetime,
                       working_days: int, tz: dt.tzinfo) -> Kept:
    """Everything kept about this person as a reporter: contact and messages per report."""
    found = []
    for report, reporter, case in await store.list_own_reports(user_id, session=session):
        messages = await store.list_own_messages(user_id, report.id,
                                                 case.id if case else None, session=session)
        found.append(KeptReport(report, reporter, case, messages))
    request = await _log_request(user_id, VIEW, None, session=session, now=now,
                                 working_days=working_days, tz=tz)
    return Kept(found, request)


async def own_report(user_id: int, report_id: int, *, session: AsyncSession
                     ) -> tuple[Report, ReportReporter]:
    """One of this person's reports and what is kept about them on it (no request logged:
    the confirmation before a withdrawal). NotFound for anyone else's."""
    for report, reporter, _case in await store.list_own_reports(user_id, session=session):
        if report.id == report_id:
            return report, reporter
    raise NotFound("report")


@dataclass(frozen=True)
class Withdrawn:
    report: Report
    case: Case | None
    notify_user_id: int | None  # the officer handling the case, if any
    notify_others: Sequence[int]  # nobody handles it: the commune's officers
    request: DataRequest
    already: bool  # the contact had been withdrawn (or never left) before


def has_contact(reporter: ReportReporter) -> bool:
    return bool(reporter.name or reporter.phone)


async def withdraw_contact(user_id: int, report_id: int, *, session: AsyncSession,
                           now: dt.datetime, working_days: int, tz: dt.tzinfo) -> Withdrawn:
    """Erases the reporter's name and phone from one of their reports; the case goes on.
    NotFound for a report that is not theirs (nobody learns whose it is)."""
    own = {r.id: (r, rep, c) for r, rep, c in await store.list_own_reports(user_id,
                                                                          session=session)}
    if report_id not in own:
        raise NotFound("report")
    report, reporter, case = own[report_id]
    already = reporter.contact_withdrawn_at is not None or not has_contact(reporter)
    request = await _log_request(user_id, WITHDRAW, report.id, session=session, now=now,
                                 working_days=working_days, tz=tz)
    holder_id, others = None, ()
    if not already:
        reporter.name = None
        reporter.phone = None
        reporter.anonymous = True
        reporter.contact_withdrawn_at = now
        session.add(reporter)
        if case is not None:
            holder = (await get_member(case.assigned_member_id, session=session)
                      if case.assigned_member_id else None)
            if holder is not None and holder.active:
                holder_id = holder.telegram_user_id
            else:
                others = tuple(m.telegram_user_id for m in await officers_to_notify(
                    case.commune_id, session=session))
            await audit.record(session=session, at=now, actor_user_id=user_id,
                               action="reporter_contact_withdrawn", object_type="case",
                               object_id=case.id, unit_id=case.commune_id)
        await session.flush()
    return Withdrawn(report, case, holder_id, others, request, already)


# --- the access report ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessReport:
    period: Period
    unit_name: str | None  # None: the whole installation
    total: int
    entries: Sequence[AuditEntry]
    names: dict[int, str]  # Telegram id → member's display name
    case_codes: dict[int, str]  # case id → tracking code
    unit_names: dict[int, str]  # unit id → name (figures viewed or exported)


async def access_scope(actor: Actor, *, session: AsyncSession
                       ) -> tuple[list[int] | None, str | None]:
    """The units whose access an administrator may list (None: everything, for an
    installation administrator), and their name. NotAllowed for anyone else."""
    if actor.is_superadmin and actor.scope is None:
        return None, None
    if actor.role is not Role.ADMIN or actor.scope is None:
        raise NotAllowed(Action.VIEW_AUDIT)
    unit_id = actor.scope.unit_id
    if not can(actor, Action.VIEW_AUDIT, await units.get_unit_scope(unit_id, session=session)):
        raise NotAllowed(Action.VIEW_AUDIT)
    unit = await units.get_unit(unit_id, session=session)
    if unit is None or unit.kind is UnitKind.VILLAGE:
        raise NotAllowed(Action.VIEW_AUDIT)
    return [unit_id], unit.name


async def access_report(actor: Actor, period: Period, *, session: AsyncSession,
                        now: dt.datetime, tz: dt.tzinfo, offset: int = 0,
                        limit: int | None = None, exported: bool = False) -> AccessReport:
    """Who viewed or exported what in the period (newest first); the look itself is
    audited, so an inspector sees who looked at the access report too."""
    unit_ids, unit_name = await access_scope(actor, session=session)
    since, until = period.bounds(tz)
    total = await store.count_access(session=session, since=since, until=until,
                                     unit_ids=unit_ids)
    entries = await store.list_access(session=session, since=since, until=until,
                                      unit_ids=unit_ids, offset=offset, limit=limit)
    names = await store.member_names(
        sorted({e.actor_user_id for e in entries if e.actor_user_id is not None}),
        session=session)
    case_ids = sorted({int(e.object_id) for e in entries
                       if e.object_type == "case" and e.object_id.isdigit()})
    codes = await store.report_codes_of_cases(case_ids, session=session)
    unit_ids_seen = sorted({int(e.object_id) for e in entries
                            if e.object_type == "unit" and e.object_id.isdigit()})
    names_of_units = await stats_store.unit_names(unit_ids_seen, session=session)
    _kind, start, end = period.key()
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="access_exported" if exported else "access_report_read",
                       object_type="unit", object_id=unit_ids[0] if unit_ids else 0,
                       unit_id=unit_ids[0] if unit_ids else None, start=start, end=end)
    return AccessReport(period, unit_name, total, entries, names, codes, names_of_units)
