"""The minutely case job and the officers' lists with many open cases.

Seeds N open cases (default 20,000) in one commune of a temporary SQLite database (or
DATABASE_URL when it is PostgreSQL), a third of them overdue, and times:
- the first alert pass (queues a delivery row per alert and recipient),
- the next passes, which must find nothing new and should cost little,
- the first page of /cases "all" and of "overdue" with a village filter.

    .venv/bin/python bench/cases.py [cases]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from domain.cases import CaseStatus, DeadlineRules, next_alert_at  # noqa: E402
from domain.roles import Role  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from services import cases as case_service  # noqa: E402
from services.identity import resolve_actor  # noqa: E402
from storage import members as member_store  # noqa: E402
from storage import migrate  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, Delivery, Report, Unit  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 in Hà Nội
CONFIG = case_service.CaseConfig(tz=dt.timezone(dt.timedelta(hours=7)), rules=DeadlineRules())


async def seed(db: Database, count: int) -> None:
    async with db.session() as session:
        summary = await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                                     session=session, now=NOW)
        del summary
        commune = (await session.exec(sa.select(Unit.id).where(Unit.kind == "commune"))).first()[0]
        villages = [row[0] for row in (await session.exec(
            sa.select(Unit.id).where(Unit.kind == "village"))).all()]
        officer = await member_store.upsert_member(
            session=session, telegram_user_id=2001, display_name="Hùng", role=Role.OFFICER,
            unit_id=commune, agency_id=None, invited_by=None, now=NOW)
        await member_store.upsert_member(
            session=session, telegram_user_id=3001, display_name="Quang", role=Role.ADMIN,
            unit_id=commune, agency_id=None, invited_by=None, now=NOW)
    batch = 2000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        async with db.session() as session:
            reports = [{"code": f"B{start + i:08d}"[:9], "commune_id": commune,
                            "village_id": villages[(start + i) % len(villages)],
                            "category": ("violence", "neglect", "labour")[(start + i) % 3],
                            "urgent": False, "age_group": "6-10", "child_count": 1, "story": "x",
                            "channel": "phone",
                            "created_at": NOW - dt.timedelta(days=(start + i) % 9)}
                       for i in range(n)]
            ids = (await session.exec(sa.insert(Report).returning(Report.id), params=reports)).all()
            cases = []
            for i, (report_id,) in enumerate(ids):
                k = start + i
                received = reports[i]["created_at"]
                # A third overdue, a third due within a day, a third later.
                due = NOW + dt.timedelta(hours=(-30, 10, 200)[k % 3])
                cases.append({"report_id": report_id, "commune_id": commune,
                              "status": CaseStatus.ASSESSING, "urgent": False,
                              "assigned_member_id": officer.id if k % 2 else None,
                              "created_at": received, "updated_at": received,
                              "step_started_at": received, "due_at": due, "revision": 0,
                              "special_groups": [],
                              "next_alert_at": next_alert_at(due, step_started=received,
                                                             alerted=None,
                                                             rules=CONFIG.alerts)})
            await session.exec(sa.insert(Case), params=cases)


async def timed(label: str, coro) -> object:  # noqa: ANN001
    started = time.perf_counter()
    result = await coro
    print(f"{label:<48} {time.perf_counter() - started:8.3f} s")
    return result


async def main(count: int) -> None:
    url = os.environ.get("DATABASE_URL", "")
    tmp = tempfile.TemporaryDirectory()
    if not url.startswith("postgresql"):
        url = f"sqlite+aiosqlite:///{pathlib.Path(tmp.name) / 'bench.db'}"
    db = Database(url)
    await migrate.upgrade(db)
    print(f"backend: {db.backend}, open cases: {count:,}")
    await timed("seed", seed(db, count))

    async def alert_pass() -> int:
        async with db.session() as session:
            return await case_service.queue_alerts(session=session, now=NOW, config=CONFIG,
                                                   render=lambda alert: "text")

    first = await timed("alerts, first pass", alert_pass())
    again = await timed("alerts, second pass (nothing new)", alert_pass())
    third = await timed("alerts, third pass (nothing new)", alert_pass())
    async with db.session() as session:
        rows = (await session.exec(sa.select(sa.func.count()).select_from(Delivery))).one()[0]
    print(f"deliveries queued: {first:,} (table: {rows:,}); later passes: {again}, {third}")

    async def page(view: str, village: int | None) -> int:
        async with db.session() as session:
            actor = await resolve_actor(2001, session=session, superadmin_ids=set())
            listing = await case_service.list_cases(actor, view, village_id=village,
                                                    session=session, now=NOW)
            return listing.total

    async with db.session() as session:
        village = (await session.exec(sa.select(Unit.id).where(Unit.kind == "village"))).first()[0]
    total = await timed("/cases all, first page", page("all", None))
    late = await timed("/cases overdue in one village, first page", page("late", village))
    print(f"listed totals: all {total:,}, overdue in the village {late:,}")
    await db.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
