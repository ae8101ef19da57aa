"""Retention queries: erase reporters' contacts and de-identify closed cases, once a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from storage.models import (
    Case,
    CaseEvent,
    CaseReferral,
    Delivery,
    PendingInput,
    Report,
    ReportAddition,
    ReportMedia,
    ReportReporter,
    RetentionRun,
)


async def claim_day(day: dt.date, *, session: AsyncSession, now: dt.datetime
                    ) -> RetentionRun | None:
    """The run of `day`, if this transaction is the first to claim it (once across
    instances: a second instance waits for the first's commit, then finds the day taken)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.exec(insert(RetentionRun).values(day=day, started_at=now)
                                .on_conflict_do_nothing(index_elements=["day"]))
    if (result.rowcount or 0) != 1:
        return None
    return (await session.exec(select(RetentionRun).where(RetentionRun.day == day))).one()


def _closed_before(before: dt.datetime):  # noqa: ANN202
    return (select(Case.report_id)
            .where(Case.status == CaseStatus.CLOSED.value, col(Case.closed_at).is_not(None),
                   col(Case.closed_at) < before))


async def erase_contacts(*, before: dt.datetime, session: AsyncSession, now: dt.datetime) -> int:
    """Name, phone and Telegram id of the reporters of cases closed before `before`."""
    stmt = (sa.update(ReportReporter)
            .where(col(ReportReporter.contact_erased_at).is_(None),
                   col(ReportReporter.report_id).in_(_closed_before(before)))
            .values(name=None, phone=None, telegram_user_id=0, contact_erased_at=now))
    return (await session.exec(stmt)).rowcount or 0


async def reports_to_deidentify(*, before: dt.datetime, session: AsyncSession
                                ) -> Sequence[tuple[int, int]]:
    """(report id, case id) of the cases closed before `before` not yet de-identified."""
    stmt = (select(Report.id, Case.id).join(Case, Case.report_id == Report.id)
            .where(col(Report.deidentified_at).is_(None),
                   col(Report.id).in_(_closed_before(before)))
            .order_by(Report.id))
    return (await session.exec(stmt)).all()


async def deidentify(report_ids: Sequence[int], case_ids: Sequence[int], *,
                     session: AsyncSession, now: dt.datetime) -> int:
    """Clear the content of these reports and cases; returns how many media ids dropped.
    What the figures count (dates, category, age group, urgency, risk, statuses) stays."""
    if not report_ids:
        return 0
    await session.exec(sa.update(Report).where(col(Report.id).in_(report_ids)).values(
        child_name=None, story="", address=None, latitude=None, longitude=None,
        deidentified_at=now))
    await session.exec(sa.update(ReportReporter)
                       .where(col(ReportReporter.report_id).in_(report_ids))
                       .values(name=None, phone=None, telegram_user_id=0,
                               contact_erased_at=sa.func.coalesce(
                                   ReportReporter.contact_erased_at, now)))
    await session.exec(sa.update(ReportAddition)
                       .where(col(ReportAddition.report_id).in_(report_ids)).values(text=""))
    media = (await session.exec(sa.delete(ReportMedia)
                                .where(col(ReportMedia.report_id).in_(report_ids)))).rowcount
    media += (await session.exec(sa.update(CaseEvent)
                                 .where(col(CaseEvent.case_id).in_(case_ids),
                                        col(CaseEvent.file_id).is_not(None))
                                 .values(file_id=None))).rowcount or 0
    await session.exec(sa.update(CaseEvent).where(col(CaseEvent.case_id).in_(case_ids))
                       .values(note=None))
    await session.exec(sa.update(CaseReferral).where(col(CaseReferral.case_id).in_(case_ids))
                       .values(note=None))
    await session.exec(sa.update(Case).where(col(Case.id).in_(case_ids))
                       .values(public_note=None, approval_data={}))
    await session.exec(sa.update(Delivery)
                       .where(col(Delivery.case_id).in_(case_ids),
                              col(Delivery.status).not_in(["pending", "sending"]))
                       .values(text=None))
    await session.exec(sa.delete(PendingInput).where(col(PendingInput.case_id).in_(case_ids)))
    return media or 0


async def finish_run(run: RetentionRun, *, session: AsyncSession, now: dt.datetime,
                     contacts: int, cases: int, media: int) -> None:
    run.finished_at, run.contacts_erased = now, contacts
    run.cases_deidentified, run.media_dropped = cases, media
    session.add(run)
    await session.flush()


async def list_runs(*, session: AsyncSession, limit: int = 30) -> Sequence[RetentionRun]:
    return (await session.exec(select(RetentionRun)
                               .order_by(col(RetentionRun.day).desc()).limit(limit))).all()
