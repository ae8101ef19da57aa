"""The daily retention pass: erase reporters' contacts, de-identify old closed cases.

One transaction claims the day in retention_runs, does the work and records the counts:
exactly once per local day across instances and restarts (a crash rolls the claim back,
so the next hourly tick does it again)."""

from __future__ import annotations

import datetime as dt
import logging

from domain.retention import RetentionRules
from storage import audit
from storage import retention as store
from storage.db import Database
from storage.models import RetentionRun

log = logging.getLogger(__name__)

DEIDENTIFY_BATCH = 500  # report ids per UPDATE … IN (…)


async def run_retention(db: Database, *, rules: RetentionRules, now: dt.datetime,
                        tz: dt.tzinfo) -> RetentionRun | None:
    """Today's pass, or None when it already ran today (here or on another instance)."""
    day = now.astimezone(tz).date()
    async with db.session() as session:
        run = await store.claim_day(day, session=session, now=now)
        if run is None:
            return None
        contacts = await store.erase_contacts(before=rules.contact_closed_before(now),
                                              session=session, now=now)
        pairs = await store.reports_to_deidentify(before=rules.content_closed_before(now),
                                                  session=session)
        media = 0
        for start in range(0, len(pairs), DEIDENTIFY_BATCH):
            chunk = pairs[start:start + DEIDENTIFY_BATCH]
            media += await store.deidentify([r for r, _ in chunk], [c for _, c in chunk],
                                            session=session, now=now)
        await store.finish_run(run, session=session, now=now, contacts=contacts,
                               cases=len(pairs), media=media)
        await audit.record(session=session, at=now, actor_user_id=None, action="retention",
                           object_type="retention_run", object_id=run.id,
                           contacts_erased=contacts, cases_deidentified=len(pairs),
                           media_dropped=media)
    log.info("retention %s: %d contacts erased, %d cases de-identified, %d media ids dropped",
             day, contacts, len(pairs), media)
    return run
