"""What one officer waits for, and what the minutely alert pass costs, as a province's archive
grows. Seeds each size (bulk inserts) into a temporary SQLite database (or a private schema
of the PostgreSQL database given as DATABASE_URL, dropped after), then prints side by side:

- `/case CODE`: finding the case and building its card (p50, p95 of 50 random cases),
- a `/cases` page: each view (mine, new, overdue, all) and a later page (p50, p95),
- the alert pass with nothing due, and with 100 alerts due,
- one batch of the background deadline recompute (5,000 case ids, at most 500 open cases:
  the longest the database is held), and the whole recompute estimated from it.

A tenth of the cases are open (a third of those overdue, alerts already out), the rest
closed: an archive, spread over a province's 100 communes (BENCH_COMMUNES; 1 puts them all
in the officer's commune). Sizes default to 10,000 and 1,000,000; seeding a million takes
about ten minutes.

    .venv/bin/python bench/scale.py [sizes…]        # e.g. bench/scale.py 10000 200000
    BENCH_COMMUNES=1 .venv/bin/python bench/scale.py 100000
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.lib.database import bench_database  # noqa: E402
from domain.cases import (  # noqa: E402
    OPEN_STATUSES,
    AlertKind,
    AlertRules,
    CaseStatus,
    DeadlineRules,
    alert_marker,
    next_alert_at,
)
from domain.reports import CODE_ALPHABET, CODE_LENGTH  # noqa: E402
from domain.roles import Role  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from services import cases as case_service  # noqa: E402
from services.identity import resolve_actor  # noqa: E402
from storage import members as member_store  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, Report, Unit  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

# The sensitive columns are encrypted: a fresh key for this run.
BENCH_DATA_KEY = generate_key()
use_keyring(Keyring.from_text(BENCH_DATA_KEY))

NOW = dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 in Hà Nội
CONFIG = case_service.CaseConfig(tz=dt.timezone(dt.timedelta(hours=7)), rules=DeadlineRules(),
                                 alerts=AlertRules())
OFFICER = 2001
BATCH = 5000
# A province's communes (Ninh Bình has about 120 since 2025); BENCH_COMMUNES=1 puts every
# case in the officer's commune (the worst case for /cases, which lists one commune).
COMMUNES = int(os.environ.get("BENCH_COMMUNES", "100"))


def _code(k: int) -> str:
    """A valid tracking code per case number (base 32 over the code alphabet)."""
    digits = []
    for _ in range(CODE_LENGTH):
        k, digit = divmod(k, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    raw = "".join(reversed(digits))
    return f"{raw[:4]}-{raw[4:]}"


async def seed(db: Database, count: int) -> None:
    async with db.session() as session:
        await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                           session=session, now=NOW)
        commune, province = (await session.exec(sa.select(Unit.id, Unit.parent_id).where(
            Unit.kind == "commune"))).first()
        # The rest of the province: the officer's commune gets 1/COMMUNES of the cases.
        others = [{"kind": "commune", "code": f"xa-{i:03d}", "name": f"Xã thử {i}",
                       "parent_id": province, "hotlines": [], "active": True, "created_at": NOW}
                  for i in range(1, COMMUNES)]
        if others:
            await session.exec(sa.insert(Unit), params=others)
        communes = [commune] + [row[0] for row in (await session.exec(
            sa.select(Unit.id).where(Unit.kind == "commune", Unit.id != commune)
            .order_by(Unit.id))).all()]
        villages = [row[0] for row in (await session.exec(
            sa.select(Unit.id).where(Unit.kind == "village"))).all()]
        officer = await member_store.upsert_member(
            session=session, telegram_user_id=OFFICER, display_name="Hùng", role=Role.OFFICER,
            unit_id=commune, agency_id=None, invited_by=None, now=NOW)
    open_statuses = [CaseStatus.ASSESSING, CaseStatus.PLANNING, CaseStatus.SUPPORTING]
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        async with db.session() as session:
            reports = [{"code": _code(start + i), "commune_id": communes[(start + i) % COMMUNES],
                            "village_id": villages[(start + i) // COMMUNES % len(villages)]
                            if (start + i) % COMMUNES == 0 else None,
                            "category": ("violence", "neglect", "labour")[(start + i) % 3],
                            "urgent": False, "age_group": "6-10", "child_count": 1, "story": "x",
                            "channel": "phone",
                            "created_at": NOW - dt.timedelta(hours=(count - start - i) % 50_000)}
                       for i in range(n)]
            ids = (await session.exec(sa.insert(Report).returning(Report.id), params=reports)).all()
            cases = []
            for i, (report_id,) in enumerate(ids):
                k = start + i
                received = reports[i]["created_at"]
                mine = reports[i]["commune_id"] == commune
                j = k // COMMUNES  # the case's number within its commune
                row = {"report_id": report_id, "commune_id": reports[i]["commune_id"],
                           "urgent": False,
                           "assigned_member_id": officer.id if mine and j // 10 % 2 else None,
                           "created_at": received, "updated_at": received,
                           "step_started_at": received,
                           "revision": 0, "special_groups": [], "due_at": None, "alerted": None,
                           "next_alert_at": None}
                if j % 10:  # the archive
                    row.update(status=CaseStatus.CLOSED, closure_reason="safe",
                               closed_at=received + dt.timedelta(days=20))
                else:  # open: a third overdue, a third due within a day, a third later
                    due = NOW + dt.timedelta(hours=(-30, 10, 200)[(j // 10) % 3])
                    kind = AlertKind.ESCALATED if due < NOW else AlertKind.DUE_SOON
                    alerted = alert_marker(due, kind) if due < NOW + dt.timedelta(hours=24) \
                        else None
                    row.update(status=open_statuses[j % 3], due_at=due, alerted=alerted,
                               step_started_at=min(received, due - dt.timedelta(days=5)),
                               next_alert_at=next_alert_at(
                                   due, step_started=min(received, due - dt.timedelta(days=5)),
                                   alerted=alerted, rules=CONFIG.alerts))
                cases.append(row)
            await session.exec(sa.insert(Case), params=cases)
    async with db.engine.begin() as conn:
        if db.backend == "sqlite":
            await conn.exec_driver_sql("ANALYZE")
        else:
            await conn.exec_driver_sql("ANALYZE cases")
            await conn.exec_driver_sql("ANALYZE reports")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(db: Database, count: int) -> dict[str, str]:
    figures: dict[str, str] = {}
    rng = random.Random(7)

    async def case_card(code: str) -> None:
        async with db.session() as session:
            actor = await resolve_actor(OFFICER, session=session, superadmin_ids=set())
            loaded = await case_service.find_case(actor, code, session=session)
            await case_service.card(actor, loaded.case.id, session=session, now=NOW)

    samples = []
    for _ in range(50):  # cases of the officer's commune
        code = _code(rng.randrange(count // COMMUNES) * COMMUNES)
        started = time.perf_counter()
        await case_card(code)
        samples.append(time.perf_counter() - started)
    figures["/case (p50 / p95)"] = \
        f"{_pct(samples, .5)*1000:.0f} / {_pct(samples, .95)*1000:.0f} ms"

    async def page(view: str, number: int) -> None:
        async with db.session() as session:
            actor = await resolve_actor(OFFICER, session=session, superadmin_ids=set())
            await case_service.list_cases(actor, view, page=number, session=session, now=NOW)

    samples = []
    for view in ("mine", "new", "late", "all"):
        for number in (0, 0, 0, 3, 40):
            started = time.perf_counter()
            await page(view, number)
            samples.append(time.perf_counter() - started)
    figures["/cases page (p50 / p95)"] = \
        f"{_pct(samples, .5)*1000:.0f} / {_pct(samples, .95)*1000:.0f} ms"

    async def alert_pass() -> int:
        async with db.session() as session:
            return await case_service.queue_alerts(session=session, now=NOW, config=CONFIG,
                                                   render=lambda alert: "text")

    await alert_pass()  # a reused database may have alerts due from an earlier run
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        queued = await alert_pass()
        samples.append(time.perf_counter() - started)
        assert queued == 0, queued
    figures["alert pass, nothing due (worst of 5)"] = f"{max(samples)*1000:.1f} ms"

    async with db.session() as session:  # 100 open cases of the officer's commune fall due
        commune = (await session.exec(sa.select(Unit.id).where(
            Unit.kind == "commune").order_by(Unit.id))).first()[0]
        ids = (await session.exec(sa.select(Case.id).where(
            Case.commune_id == commune,
            sa.column("status").in_([str(s) for s in OPEN_STATUSES])).limit(100))).all()
        await session.exec(sa.update(Case).where(Case.id.in_([i[0] for i in ids]))
                           .values(alerted=None, next_alert_at=NOW - dt.timedelta(minutes=1)))
    started = time.perf_counter()
    queued = await alert_pass()
    figures["alert pass, 100 cases due"] = \
        f"{(time.perf_counter() - started)*1000:.0f} ms ({queued} rows)"

    after, batches = 0, []
    for _ in range(4):  # the first pays for loading the holiday calendars
        started = time.perf_counter()
        async with db.session() as session:
            after, _changed = await case_service.refresh_due_batch(
                session=session, config=CONFIG, now=NOW, after_id=after or 0, limit=500)
        batches.append(time.perf_counter() - started)
    batch = statistics.median(batches[1:])
    open_cases = count // 10
    figures["deadline recompute: one batch"] = f"{batch*1000:.0f} ms"
    figures["deadline recompute: all, background"] = \
        f"~{batch * count / 5000:.0f} s ({open_cases:,} open)"
    return figures


def _use_kept_key(path: pathlib.Path) -> None:
    """A kept database was encrypted with the key of the run that seeded it: keep the key
    beside it (a bench key, never a real one)."""
    if not path.exists():
        path.write_text(BENCH_DATA_KEY)
        path.chmod(0o600)
    use_keyring(Keyring.from_text(path.read_text().strip()))


async def run(count: int) -> dict[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    tmp = tempfile.TemporaryDirectory()
    keep = os.environ.get("BENCH_KEEP")  # a directory: seeded databases are kept and reused
    folder = pathlib.Path(keep or tmp.name)
    path = folder / f"scale-{count}-{COMMUNES}.db"
    if not url.startswith("postgresql"):
        url = f"sqlite+aiosqlite:///{path}"
    reuse = keep is not None and path.exists() and url.startswith("sqlite")
    if keep is not None:
        _use_kept_key(folder / "bench-data-key")
    async with bench_database(url) as db:
        figures = {"seeding (bulk inserts)": "reused"}
        if not reuse:
            started = time.perf_counter()
            await seed(db, count)
            seeded = time.perf_counter() - started
            print(f"{count:,} cases in {COMMUNES} communes seeded in {seeded:.0f} s "
                  f"({db.backend})", flush=True)
            figures = {"seeding (bulk inserts)": f"{seeded:.0f} s"}
        figures.update(await measure(db, count))
    tmp.cleanup()
    return figures


async def main(sizes: list[int]) -> None:
    columns = []
    for size in sizes:
        columns.append(await run(size))
    labels = list(columns[0])
    width = max(len(label) for label in labels) + 2
    print()
    print("".ljust(width) + "".join(f"{size:>22,}" for size in sizes) + "  cases")
    for label in labels:
        print(label.ljust(width) + "".join(f"{column[label]:>22}" for column in columns))


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [10_000, 1_000_000]))
