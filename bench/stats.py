"""Report figures and the XLSX export with 100,000 cases.

Seeds a temporary SQLite database (bulk inserts: reports, cases, history rows, referrals,
special groups) with N cases in one commune's annual-report period, then times:

- the figures (every aggregating query /stats runs),
- the chart,
- the whole export: figures, the workbook with its case list read page by page, the CSV.

    .venv/bin/python bench/stats.py [cases] [postgresql+asyncpg://… to run on PostgreSQL too]

Not a test: it prints numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import random
import resource
import sys
import tempfile
import time
import warnings
import zoneinfo

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.lib.database import bench_database  # noqa: E402
from domain.cases import CaseStatus, SpecialGroup  # noqa: E402
from domain.periods import PeriodKind, report_period  # noqa: E402
from domain.reports import AgeGroup, Category  # noqa: E402
from domain.roles import Actor, Role, UnitScope  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from handlers import stats as stats_handlers  # noqa: E402
from services import stats as service  # noqa: E402
from services.stats_export import WorkbookWriter, render_chart, totals_csv  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Agency, Case, CaseEvent, CaseReferral, Report, Unit  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
# sqlmodel suggests exec() for selects; bulk inserts need execute().
warnings.filterwarnings("ignore", message=r"(?s).*session\.exec", category=DeprecationWarning)
BATCH = 5000


async def seed(db: Database, n: int) -> tuple[int, int]:
    now = dt.datetime(2027, 11, 15, 1, 0, tzinfo=dt.UTC)
    async with db.session() as session:
        summary = await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                                     session=session, now=now)
        commune_id = summary.commune_id
        province_id = (await session.get(Unit, commune_id)).parent_id
        villages = (await session.exec(sa.select(Unit.id).where(
            Unit.parent_id == commune_id))).scalars().all()
        agencies = (await session.exec(sa.select(Agency.id).where(
            Agency.commune_id == commune_id))).scalars().all()
    rng = random.Random(1)
    period = report_period(PeriodKind.ANNUAL, 2027)
    lo, hi = period.bounds(HANOI)
    span = int((hi - lo).total_seconds())
    groups = [str(g) for g in SpecialGroup]
    statuses = list(CaseStatus)
    started = time.perf_counter()
    for first in range(0, n, BATCH):
        reports, cases, events, referrals = [], [], [], []
        for i in range(first, min(n, first + BATCH)):
            created = lo + dt.timedelta(seconds=rng.randrange(span))
            urgent = rng.random() < 0.3
            risk = rng.choice([None, "high", "medium", "low"])
            status = rng.choice(statuses)
            reports.append({"id": i + 1, "code": f"B{i:08d}", "commune_id": commune_id,
                            "village_id": rng.choice([*villages, None]),
                            "category": rng.choice(list(Category)).value, "urgent": urgent,
                            "age_group": rng.choice(list(AgeGroup)).value, "child_count": 1,
                            "story": "", "channel": rng.choice(["telegram", "phone", "school"]),
                            "created_at": created})
            cases.append({"id": i + 1, "report_id": i + 1, "commune_id": commune_id,
                          "status": status, "urgent": urgent, "created_at": created,
                          "updated_at": created, "risk": risk, "escalation_count": 0,
                          "assessed_at": created + dt.timedelta(hours=rng.randrange(1, 30))
                          if risk else None,
                          "due_at": created + dt.timedelta(days=rng.randrange(1, 40)),
                          "special_groups": rng.sample(groups, k=rng.choice([0, 0, 1, 2])),
                          "revision": 0})
            events.append({"case_id": i + 1, "at": created, "kind": "opened",
                           "to_status": "received"})
            if status in (CaseStatus.SUPPORTING, CaseStatus.REVIEWING, CaseStatus.CLOSED):
                events.append({"case_id": i + 1, "kind": "status", "to_status": "supporting",
                               "at": created + dt.timedelta(hours=rng.randrange(2, 400))})
            if rng.random() < 0.3:
                referrals.append({"case_id": i + 1, "agency_id": rng.choice(agencies),
                                  "referred_at": created + dt.timedelta(days=1),
                                  "referred_by": 1, "active": True})
        async with db.session() as session:
            for table, rows in ((Report.__table__, reports), (Case.__table__, cases),
                                (CaseEvent.__table__, events),
                                (CaseReferral.__table__, referrals)):
                await session.execute(sa.insert(table), _complete(table, rows))
    print(f"  seeded {n:,} cases in {time.perf_counter() - started:.1f} s")
    return province_id, commune_id


def _complete(table: sa.Table, rows: list[dict]) -> list[dict]:
    """Every column named in every row (executemany needs the same keys)."""
    names = {c.name for c in table.columns} - {"id"} | ({"id"} if "id" in rows[0] else set())
    return [{name: row.get(name, _default(table, name)) for name in names} for row in rows]


def _default(table: sa.Table, name: str):  # noqa: ANN202
    column = table.columns[name]
    if column.default is not None and getattr(column.default, "is_scalar", False):
        return column.default.arg
    return None


async def measure(db: Database, n: int, label: str) -> None:
    print(f"== {label}")
    province_id, commune_id = await seed(db, n)
    officer = Actor(user_id=1, role=Role.OFFICER, scope=UnitScope((province_id, commune_id)))
    period = report_period(PeriodKind.ANNUAL, 2027)
    now = dt.datetime(2027, 11, 15, 1, 0, tzinfo=dt.UTC)
    async with db.session() as session:
        scope = await service.scope_for(officer, session=session)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        async with db.session() as session:
            figures = await service.figures(scope, period, session=session, tz=HANOI, now=now)
        timings.append(time.perf_counter() - started)
    print(f"  figures: {min(timings) * 1000:,.0f} ms (best of 3; {figures.total.reports:,} "
          f"reports, median plan {figures.total.median_plan_days} working days)")
    started = time.perf_counter()
    png = render_chart(stats_handlers.chart_of(figures))
    print(f"  chart: {(time.perf_counter() - started) * 1000:,.0f} ms, {len(png) // 1024} KiB")

    started = time.perf_counter()
    async with db.session() as session:
        figures = await service.figures(scope, period, session=session, tz=HANOI, now=now)
        agencies = await service.agency_names_of(scope, session=session)
        villages = await service.village_names_of(scope, session=session)
    table = stats_handlers.appendix(figures, HANOI)
    writer = WorkbookWriter(table, "Danh sách vụ việc", stats_handlers.case_header())
    words = stats_handlers.CaseRowWords(agencies, villages, HANOI, now)
    read = 0.0
    mark = time.perf_counter()
    async for page in service.case_rows(db, scope, period, tz=HANOI):
        read += time.perf_counter() - mark
        writer.add_cases(words(page))
        mark = time.perf_counter()
    xlsx = writer.finish()
    csv_bytes = totals_csv(table)
    total = time.perf_counter() - started
    print(f"  export: {total:.1f} s for {words.count:,} case rows (reading pages "
          f"{read:.1f} s), XLSX {len(xlsx) / 1e6:.1f} MB, CSV {len(csv_bytes) / 1e3:.1f} kB")
    print(f"  peak memory of the process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_database(f"sqlite+aiosqlite:///{tmp}/bench.db") as db:
            await measure(db, n, f"SQLite, {n:,} cases")
    pg = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DATABASE_URL", "")
    if pg.startswith("postgresql"):
        async with bench_database(pg) as db:
            await measure(db, n, f"PostgreSQL, {n:,} cases")


if __name__ == "__main__":
    asyncio.run(main())
