"""The register of children in special circumstances with 50,000 children in a province.

Seeds a fresh database (bulk inserts) with one province, 100 communes × 10 villages and N
children (default 50,000: 50 per village) with their support rows, then times, p50/p95 over
repeated runs (each in its own transaction, through the services the chat uses, audit
rows included):

- a village list page (the village's active children, Vietnamese sort),
- the filtered list "chưa có BHYT" of that village,
- a child's card (record, support, history),
- the duplicate lookup of the add flow,
- the register figures of /stats for one commune and for the province,
- the import of a 500-row XLSX into one commune (the dry run, then the import with its
  history and audit rows; in the largest commune, so each row is checked for a duplicate),
- the morning review pass: every village's list of children due, claimed once a day, with one
  collaborator per village (a few days in a row, each a fresh claim).

    .venv/bin/python bench/register.py [children] [postgresql+asyncpg://… to run on PostgreSQL too]

(or TEST_DATABASE_URL / BENCH_DATABASE_URL). PostgreSQL runs in a schema of its own,
dropped at the end. Not a test: it prints numbers. The issue's target: a list page < 100 ms.
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
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.lib.database import bench_database  # noqa: E402
from domain.cases import SpecialGroup  # noqa: E402
from domain.register import Birth, Sex, register_match_key, sixteenth_birthday  # noqa: E402
from domain.roles import Actor, Role, UnitKind, UnitScope  # noqa: E402
from services import register as service  # noqa: E402
from services import register_import  # noqa: E402
from storage.crypto import Keyring, blind_index, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Member, RegisterChild, RegisterSupport, Unit  # noqa: E402

use_keyring(Keyring.from_text(generate_key()))  # names are encrypted: a fresh key per run
warnings.filterwarnings("ignore", message=r"(?s).*session\.exec", category=DeprecationWarning)

COMMUNES, VILLAGES = 100, 10
RUNS = 30
TODAY = dt.date(2027, 11, 15)
NOW = dt.datetime(2027, 11, 15, 2, 0, tzinfo=dt.UTC)
# The /stats period: the figures by sex, age band, village, added and left, as /stats asks.
PERIOD = (dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC),
          dt.datetime(2027, 12, 31, 17, tzinfo=dt.UTC),
          dt.date(2027, 1, 1), dt.date(2027, 12, 31))
FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Hữu", "Gia"]
LAST = ["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phúc",
        "Quân", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến"]


Seeded = tuple[int, list[int], dict[int, list[int]], tuple[str, int]]


async def seed(db: Database, n: int) -> Seeded:
    rng = random.Random(13)
    started = time.perf_counter()
    async with db.session() as session:
        province = Unit(kind=UnitKind.PROVINCE, code="BENCH", name="Tỉnh Thử", created_at=NOW)
        session.add(province)
        await session.flush()
        communes, villages = [], {}
        for c in range(COMMUNES):
            commune = Unit(kind=UnitKind.COMMUNE, code=f"X{c:03d}", name=f"Xã {c + 1}",
                           created_at=NOW, parent_id=province.id)
            session.add(commune)
            await session.flush()
            communes.append(commune.id)
            rows = [Unit(kind=UnitKind.VILLAGE, code=f"T{v:02d}", name=f"Thôn {v + 1}",
                         created_at=NOW, parent_id=commune.id) for v in range(VILLAGES)]
            session.add_all(rows)
            await session.flush()
            villages[commune.id] = [r.id for r in rows]
        # One collaborator per village: the review pass has someone to ask everywhere.
        session.add_all([Member(telegram_user_id=100_000 + village_id,
                                display_name=f"CTV {village_id}", role=Role.COLLABORATOR,
                                unit_id=village_id, joined_at=NOW)
                         for ids in villages.values() for village_id in ids])
        province_id = province.id
    groups = [str(g) for g in SpecialGroup]
    places = [(c, v) for c in communes for v in villages[c]]
    probe = ("", 0)
    batch = 5000
    for first in range(0, n, batch):
        children, supports = [], []
        for i in range(first, min(n, first + batch)):
            commune_id, village_id = places[i % len(places)]
            name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)} {i}"
            born = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 15))
            if i == 0:
                probe = (name, born.year)
            children.append({
                "id": i + 1, "commune_id": commune_id, "village_id": village_id,
                "full_name": name,
                "match_key": register_match_key(name, born.year, commune_id,
                                                digest=blind_index),
                "sex": rng.choice([str(Sex.MALE), str(Sex.FEMALE)]), "birth_year": born.year,
                "birth_date": born, "leaves_on": sixteenth_birthday(Birth(born.year, born)),
                "caregiver": None, "caregiver_relation": None, "at_risk": rng.random() < 0.1,
                "groups": rng.sample(groups, k=rng.choice([1, 1, 2])), "risk_note": None,
                "notes": None, "status": "active", "leave_reason": None, "left_on": None,
                "leave_note": None, "source_case_id": None, "reviewed_on": TODAY,
                "review_due_on": TODAY + dt.timedelta(days=rng.randrange(-30, 90)),
                "created_at": NOW, "created_by": 1, "updated_at": NOW, "revision": 0})
            for kind in ("bhyt", "birth", "allowance"):
                supports.append({"child_id": i + 1, "kind": kind, "since": TODAY, "note": None,
                                 "status": rng.choice(["has", "has", "missing", "applied",
                                                       "not_eligible"])})
        async with db.session() as session:
            await session.execute(sa.insert(RegisterChild.__table__), children)
            await session.execute(sa.insert(RegisterSupport.__table__), supports)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(sa.text("SELECT setval(pg_get_serial_sequence("
                                       "'register_children', 'id'), :n)"), {"n": n})
            await conn.execute(sa.text("ANALYZE"))
    print(f"  seeded {n:,} children in {len(places):,} villages in "
          f"{time.perf_counter() - started:.1f} s")
    return province_id, communes, villages, probe


async def timed(db: Database, label: str, work) -> tuple[str, float, float, str]:  # noqa: ANN001
    times, detail = [], ""
    for _ in range(RUNS):
        started = time.perf_counter()
        async with db.session() as session:
            detail = await work(session)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return label, statistics.median(times), times[int(len(times) * 0.95) - 1], detail


async def measure(db: Database, n: int, label: str) -> None:
    print(f"== {label}")
    province_id, communes, villages, probe = await seed(db, n)
    commune_id = communes[len(communes) // 2]
    village_id = villages[commune_id][3]
    officer = Actor(user_id=1, role=Role.OFFICER, scope=UnitScope((province_id, commune_id)))
    async with db.session() as session:
        child_id = (await service.list_children(officer, commune_id, village_id,
                                                session=session, now=NOW))[0].id
    new = service.NewChild(commune_id=communes[0], village_id=villages[communes[0]][0],
                           full_name=probe[0], sex=Sex.MALE, birth=Birth(probe[1], None))

    async def village_page(session) -> str:  # noqa: ANN001
        rows = await service.list_children(officer, commune_id, village_id,
                                           session=session, now=NOW)
        return f"{len(rows)} children"

    async def no_bhyt(session) -> str:  # noqa: ANN001
        rows = await service.list_filtered(officer, commune_id, village_id, "bhyt",
                                           session=session, now=NOW, today=TODAY)
        return f"{len(rows)} children"

    async def card(session) -> str:  # noqa: ANN001
        record = await service.view(officer, child_id, session=session, now=NOW)
        return f"{len(record.supports)} supports"

    async def duplicate(session) -> str:  # noqa: ANN001
        return f"{len(await service.duplicates(officer, new, session=session))} found"

    async def commune_figures(session) -> str:  # noqa: ANN001
        f = await service.figures([commune_id], session=session, today=TODAY,
                                  period=PERIOD, villages=True)
        return f"{f.total} children"

    async def province_figures(session) -> str:  # noqa: ANN001
        f = await service.figures(communes, session=session, today=TODAY, period=PERIOD)
        return f"{f.total:,} children"

    rows = [await timed(db, "village list page", village_page),
            await timed(db, 'filtered list "chưa có BHYT"', no_bhyt),
            await timed(db, "child's card", card),
            await timed(db, "duplicate lookup", duplicate),
            await timed(db, "figures, one commune", commune_figures),
            await timed(db, "figures, province", province_figures)]
    print(f"  {'what':34} {'p50 ms':>8} {'p95 ms':>8}  result ({RUNS} runs)")
    for what, p50, p95, detail in rows:
        print(f"  {what:34} {p50:8.1f} {p95:8.1f}  {detail}")
    await time_import(db, officer, commune_id)
    await time_review_pass(db)


def import_file(rows: int) -> bytes:
    """A commune's list as villages keep it: the usual headings, Vietnamese dates."""
    import io

    from openpyxl import Workbook

    rng = random.Random(7)
    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH TRẺ EM CÓ HOÀN CẢNH ĐẶC BIỆT"])
    sheet.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Thôn", "Nhóm hoàn cảnh",
                  "BHYT", "Giấy khai sinh", "Người chăm sóc"])
    for i in range(rows):
        born = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 14))
        name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(MIDDLE)} {rng.choice(LAST)}"
        sheet.append([i + 1, name, f"{born.day}/{born.month}/{born.year}",
                      rng.choice(["Nam", "Nữ"]), f"Thôn {rng.randrange(VILLAGES) + 1}",
                      rng.choice(["Mồ côi", "Khuyết tật", "Bỏ học"]),
                      rng.choice(["có", "chưa có", "đang làm"]), "có", "Bà nội"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def time_import(db: Database, officer: Actor, commune_id: int, rows: int = 500) -> None:
    data = import_file(rows)
    started = time.perf_counter()
    async with db.session() as session:
        await register_import.plan(officer, commune_id, data, "danh-sach.xlsx",
                                         session=session, today=TODAY)
    dry_s = time.perf_counter() - started
    started = time.perf_counter()
    async with db.session() as session:
        done = await register_import.run(officer, commune_id, data, "danh-sach.xlsx",
                                         session=session, now=NOW, today=TODAY,
                                         review_months=3)
    run_s = time.perf_counter() - started
    print(f"  import of {rows} rows (XLSX {len(data) / 1e3:.0f} kB): dry run {dry_s:.2f} s, "
          f"import {run_s:.2f} s ({len(done.new)} added, {len(done.updates)} updated, "
          f"{len(done.problems)} refused{_reasons(done.problems)})")


def _reasons(problems: list[tuple[int, str]]) -> str:
    codes = sorted({code for _row, code in problems})
    return f": {', '.join(codes)}" if codes else ""


async def time_review_pass(db: Database, days: int = 3) -> None:
    times, villages, children = [], 0, 0
    for day in range(days):
        today = TODAY + dt.timedelta(days=day)
        started = time.perf_counter()
        async with db.session() as session:
            lists = await service.claim_review_lists(session=session, today=today, now=NOW)
        times.append(time.perf_counter() - started)
        villages, children = len(lists), sum(len(x.children) for x in lists)
    print(f"  review pass (one day, {villages:,} village lists, {children:,} children due): "
          f"{statistics.median(times):.2f} s median of {days} days")


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        async with bench_database(f"sqlite+aiosqlite:///{tmp}/bench.db") as db:
            await measure(db, n, f"SQLite, {n:,} children")
    pg = (sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DATABASE_URL")
          or os.environ.get("TEST_DATABASE_URL", ""))
    if pg.startswith("postgresql"):
        async with bench_database(pg) as db:
            await measure(db, n, f"PostgreSQL, {n:,} children")


if __name__ == "__main__":
    asyncio.run(main())
