"""What encryption at rest costs: opening a case card and the statistics export, with and
without encryption, in the same run on the same data.

Seeds two SQLite databases with the same N cases (default 2,000), each with a story of
about 600 characters, the child's name, an address and a location, the reporter's name and
phone, and three history notes; one is written through the AES-256-GCM keyring, the other
through a keyring that stores plain text (the same column types, so only the cipher
differs). Then times:

- the case card an officer opens (services.cases.card: the report, the case, its history,
  the audit row), 300 cases × 5, each opened on both databases in turn (median);
- the decryption alone of one card's values;
- the whole statistics export (figures, the XLSX with the case list, the CSV), best of 5.

    .venv/bin/python bench/crypto.py [cases]

Not a test: it prints numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import random
import statistics
import sys
import tempfile
import time
import warnings
import zoneinfo

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from domain.cases import CaseStatus  # noqa: E402
from domain.periods import PeriodKind, report_period  # noqa: E402
from domain.reports import AgeGroup, Category  # noqa: E402
from domain.roles import Actor, Role, UnitScope  # noqa: E402
from domain.setup_file import load_setup_file  # noqa: E402
from handlers import stats as stats_handlers  # noqa: E402
from services import cases as case_service  # noqa: E402
from services import stats as stats_service  # noqa: E402
from services.stats_export import WorkbookWriter, totals_csv  # noqa: E402
from storage import migrate  # noqa: E402
from storage.crypto import Keyring, generate_key, use_keyring  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Case, CaseEvent, Report, ReportReporter, Unit  # noqa: E402
from storage.setup_import import import_setup  # noqa: E402

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2027, 11, 15, 1, 0, tzinfo=dt.UTC)
warnings.filterwarnings("ignore", message=r"(?s).*session\.exec", category=DeprecationWarning)
STORY = ("Cháu bé khoảng 8 tuổi ở xóm dưới thường xuyên bị bố đánh, tối qua hàng xóm nghe "
         "tiếng khóc rất lâu, sáng nay thấy tay cháu có vết bầm tím và cháu không đi học. ") * 4
CARDS = 300
ROUNDS = 5


class PlainKeyring:
    """The same interface, no cipher: what the columns cost without encryption."""

    current_id = "plain"

    def encrypt(self, text: str) -> str:
        return text

    def decrypt(self, value: str) -> str:
        return value


class CountingKeyring:
    """The real cipher, counting the values it decrypts: a measure no machine load skews."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring, self.decrypted = keyring, 0
        self.current_id = keyring.current_id

    def encrypt(self, text: str) -> str:
        return self.keyring.encrypt(text)

    def decrypt(self, value: str) -> str:
        self.decrypted += 1
        return self.keyring.decrypt(value)


async def seed(db: Database, n: int) -> tuple[int, int]:
    async with db.session() as session:
        summary = await import_setup(load_setup_file(ROOT / "examples" / "minh-tan.toml"),
                                     session=session, now=NOW)
        commune_id = summary.commune_id
        province_id = (await session.get(Unit, commune_id)).parent_id
    rng = random.Random(7)
    lo, hi = report_period(PeriodKind.ANNUAL, 2027).bounds(HANOI)
    span = int((hi - lo).total_seconds())
    reports, reporters, cases, events = [], [], [], []
    for i in range(1, n + 1):
        created = lo + dt.timedelta(seconds=rng.randrange(span))
        reports.append({"id": i, "code": f"C{i:08d}", "commune_id": commune_id,
                        "village_id": None, "category": rng.choice(list(Category)).value,
                        "urgent": False, "age_group": rng.choice(list(AgeGroup)).value,
                        "child_count": 1, "child_name": f"Nguyễn Thị Bé {i}", "story": STORY,
                        "address": f"Số {i}, ngõ 12, thôn Đông", "latitude": 20.25 + i / 1e6,
                        "longitude": 105.97, "channel": "telegram", "created_at": created,
                        "draft_id": None, "deidentified_at": None})
        reporters.append({"report_id": i, "telegram_user_id": 10_000 + i, "anonymous": False,
                          "name": "Lê Văn Báo", "phone": f"09{i:08d}", "relation": "neighbour",
                          "contact_erased_at": None})
        cases.append({"id": i, "report_id": i, "commune_id": commune_id,
                      "status": rng.choice(list(CaseStatus)).value, "urgent": False,
                      "created_at": created, "updated_at": created, "escalation_count": 0,
                      "special_groups": [], "revision": 0})
        for k in range(3):
            events.append({"case_id": i, "at": created + dt.timedelta(hours=k), "kind": "note",
                           "note": f"Ghi chú {k}: đã gặp gia đình và cô giáo chủ nhiệm."})
    async with db.session() as session:
        for table, rows in ((Report.__table__, reports), (ReportReporter.__table__, reporters),
                            (Case.__table__, cases), (CaseEvent.__table__, events)):
            await session.execute(sa.insert(table), rows)
    return province_id, commune_id


async def open_cards(dbs: dict[str, Database], keyrings: dict, actors: dict[str, Actor],
                     n: int) -> dict[str, list[float]]:
    """Each card opened on both databases one after the other (alternating which goes
    first), so both see the same machine load; the time of every opening."""
    ids = random.Random(3).sample(range(1, n + 1), min(CARDS, n))
    times: dict[str, list[float]] = {label: [] for label in dbs}
    for i, case_id in enumerate(ids * ROUNDS):
        labels = list(dbs) if i % 2 else list(dbs)[::-1]
        for label in labels:
            use_keyring(keyrings[label])
            started = time.perf_counter()
            async with dbs[label].session() as session:
                card = await case_service.card(actors[label], case_id, session=session,
                                               now=NOW)
            times[label].append(time.perf_counter() - started)
            assert card.report.story == STORY
    return times


async def export(db: Database, actor: Actor) -> float:
    period = report_period(PeriodKind.ANNUAL, 2027)
    started = time.perf_counter()
    async with db.session() as session:
        scope = await stats_service.scope_for(actor, session=session)
        figures = await stats_service.figures(scope, period, session=session, tz=HANOI, now=NOW)
        agencies = await stats_service.agency_names_of(scope, session=session)
        villages = await stats_service.village_names_of(scope, session=session)
    table = stats_handlers.appendix(figures, HANOI)
    writer = WorkbookWriter(table, "Danh sách vụ việc", stats_handlers.case_header())
    words = stats_handlers.CaseRowWords(agencies, villages, HANOI, NOW)
    async for page in stats_service.case_rows(db, scope, period, tz=HANOI):
        writer.add_cases(words(page))
    writer.finish()
    totals_csv(table)
    return time.perf_counter() - started


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    keyrings = {"plain": PlainKeyring(), "AES-256-GCM": Keyring.from_text(generate_key())}
    with tempfile.TemporaryDirectory() as tmp:
        dbs, actors = {}, {}
        for label, keyring in keyrings.items():
            use_keyring(keyring)
            db = dbs[label] = Database(f"sqlite+aiosqlite:///{tmp}/{label[:5]}.db")
            await migrate.upgrade(db)
            started = time.perf_counter()
            province_id, commune_id = await seed(db, n)
            print(f"  {label}: seeded {n:,} cases in {time.perf_counter() - started:.2f} s")
            actors[label] = Actor(user_id=1, role=Role.OFFICER,
                                  scope=UnitScope((province_id, commune_id)))
        cards = await open_cards(dbs, keyrings, actors, n)
        exports: dict[str, list[float]] = {label: [] for label in keyrings}
        for round_ in range(ROUNDS):  # alternate, so both see the same machine load
            order = list(keyrings.items())
            for label, keyring in order if round_ % 2 else order[::-1]:
                use_keyring(keyring)
                exports[label].append(await export(dbs[label], actors[label]))
        plain, aes = (statistics.median(cards[k]) for k in ("plain", "AES-256-GCM"))
        print(f"case card ({min(CARDS, n)} cards × {ROUNDS}, median): plain "
              f"{plain * 1000:.2f} ms, encrypted {aes * 1000:.2f} ms per card: "
              f"ratio {aes / plain:.2f}")
        keyring = keyrings["AES-256-GCM"]
        values = [STORY, "Nguyễn Thị Bé 1", "Số 1, ngõ 12, thôn Đông", "20.250001", "105.97",
                  *["Ghi chú 0: đã gặp gia đình và cô giáo chủ nhiệm."] * 3]
        stored = [keyring.encrypt(v) for v in values]
        started = time.perf_counter()
        for _ in range(2000):
            for value in stored:
                keyring.decrypt(value)
        per_card = (time.perf_counter() - started) / 2000
        print(f"  the cipher alone: {per_card * 1e6:.0f} µs to decrypt one card's {len(values)} "
              f"values (story {len(STORY)} characters)")
        counting = CountingKeyring(keyring)
        use_keyring(counting)
        async with dbs["AES-256-GCM"].session() as session:
            await case_service.card(actors["AES-256-GCM"], 1, session=session, now=NOW)
        on_card, counting.decrypted = counting.decrypted, 0
        await export(dbs["AES-256-GCM"], actors["AES-256-GCM"])
        print(f"  values decrypted: {on_card} to open a card, {counting.decrypted} for the whole "
              f"export of {n:,} cases")
        plain, aes = (min(exports[k]) for k in ("plain", "AES-256-GCM"))
        print(f"statistics export of {n:,} cases (best of {ROUNDS}): plain {plain:.2f} s, "
              f"encrypted {aes:.2f} s: ratio {aes / plain:.2f}")
        for db in dbs.values():
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
