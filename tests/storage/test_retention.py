"""Retention: contacts erased after the contact period, closed cases de-identified after the
closed period, exactly the cases past it; once a day across runs; figures unchanged."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from domain.retention import RetentionRules
from services.retention import run_retention
from storage import stats as stats_store
from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseReferral,
    Delivery,
    Report,
    ReportAddition,
    ReportMedia,
    ReportReporter,
    RetentionRun,
)
from tests.conftest import START
from tests.storage.seed_private import SECRETS, commune_id, seed_case

HANOI = dt.timezone(dt.timedelta(hours=7))
DAY = dt.timedelta(days=1)
NOW = START + 6 * 366 * DAY
RULES = RetentionRules(contact_after=90 * DAY, closed_after=1826 * DAY)


async def _seed(db) -> dict[str, int]:
    """Report ids by what retention should do to them."""
    cases = {
        # closed long ago: de-identified (and contact erased)
        "old_closed": {"status": "closed", "closed_at": NOW - 1827 * DAY},
        # closed 100 days ago: contact erased, content kept
        "recent_closed": {"status": "closed", "closed_at": NOW - 100 * DAY},
        # closed 89 days ago: untouched
        "just_closed": {"status": "closed", "closed_at": NOW - 89 * DAY},
        # opened six years ago and still open: untouched
        "old_open": {"status": "supporting", "closed_at": None},
    }
    ids = {}
    async with db.session() as session:
        for n, (name, kw) in enumerate(cases.items()):
            report, _case = await seed_case(session, now=START, code=f"RT{n:06d}",
                                            user_id=5000 + n, **kw)
            ids[name] = report.id
    return ids


async def _figures(db) -> tuple:
    async with db.session() as session:
        cid = await commune_id(session)
        lo, hi = START - DAY, NOW
        ids = await stats_store.list_case_ids([cid], lo, hi, session=session)
        return (await stats_store.reports_by("category", [cid], lo, hi, session=session),
                await stats_store.cases_by("status", [cid], lo, hi, session=session),
                await stats_store.list_case_rows(ids, session=session))


async def test_retention_erases_and_deidentifies_exactly_the_cases_past_their_period(db,
                                                                                      commune):
    ids = await _seed(db)
    before = await _figures(db)
    run = await run_retention(db, rules=RULES, now=NOW, tz=HANOI)
    assert (run.contacts_erased, run.cases_deidentified, run.media_dropped) == (2, 1, 2)
    async with db.session() as session:
        reporters = {r.report_id: r for r in (await session.exec(select(ReportReporter))).all()}
        reports = {r.id: r for r in (await session.exec(select(Report))).all()}
        for name in ("old_closed", "recent_closed"):
            reporter = reporters[ids[name]]
            assert (reporter.name, reporter.phone, reporter.telegram_user_id) == (None, None, 0)
            assert reporter.contact_erased_at == NOW
            assert reporter.relation == "neighbour"  # a figure, not a contact
        for name in ("just_closed", "old_open"):
            assert reporters[ids[name]].phone == SECRETS["phone"]
        old = reports[ids["old_closed"]]
        assert (old.story, old.child_name, old.address, old.latitude) == ("", None, None, None)
        assert old.deidentified_at == NOW
        for name in ("recent_closed", "just_closed", "old_open"):
            assert reports[ids[name]].story == SECRETS["story"]
            assert reports[ids[name]].deidentified_at is None
        old_case = (await session.exec(select(Case).where(Case.report_id == old.id))).one()
        assert old_case.public_note is None and old_case.status == "closed"
        events = (await session.exec(select(CaseEvent).where(CaseEvent.case_id == old_case.id))
                  ).all()
        assert events and all(e.note is None and e.file_id is None for e in events)
        assert (await session.exec(select(ReportMedia).where(ReportMedia.report_id == old.id))
                ).all() == []
        assert len((await session.exec(select(ReportMedia))).all()) == 3  # the others' kept
        addition = (await session.exec(select(ReportAddition)
                                        .where(ReportAddition.report_id == old.id))).one()
        assert addition.text == ""
        referral = (await session.exec(select(CaseReferral)
                                        .where(CaseReferral.case_id == old_case.id))).one()
        assert referral.note is None
        delivery = (await session.exec(select(Delivery)
                                        .where(Delivery.case_id == old_case.id))).one()
        assert delivery.text is None
        audit = (await session.exec(select(AuditEntry)
                                     .where(AuditEntry.action == "retention"))).one()
        assert audit.details == {"contacts_erased": 2, "cases_deidentified": 1,
                                 "media_dropped": 2}
    assert await _figures(db) == before  # the figures keep counting them


async def test_retention_runs_once_a_day_and_is_idempotent(db, commune):
    await _seed(db)
    first, second = await asyncio.gather(
        run_retention(db, rules=RULES, now=NOW, tz=HANOI),
        run_retention(db, rules=RULES, now=NOW + dt.timedelta(hours=1), tz=HANOI))
    assert [run is None for run in (first, second)].count(True) == 1  # one instance does it
    assert await run_retention(db, rules=RULES, now=NOW + 2 * dt.timedelta(hours=1),
                               tz=HANOI) is None
    tomorrow = await run_retention(db, rules=RULES, now=NOW + DAY, tz=HANOI)
    assert (tomorrow.contacts_erased, tomorrow.cases_deidentified,
            tomorrow.media_dropped) == (0, 0, 0)  # nothing done twice
    async with db.session() as session:
        runs = (await session.exec(select(RetentionRun).order_by(RetentionRun.day))).all()
    assert [r.day for r in runs] == [NOW.astimezone(HANOI).date(),
                                     (NOW + DAY).astimezone(HANOI).date()]
    assert runs[0].contacts_erased == 2 and runs[0].finished_at is not None
