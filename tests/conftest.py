"""Fixtures: a clean database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
a controllable clock, the fake Telegram and the real bot running against it."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import pathlib
import shutil
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.app import build_application, start_application, stop_application
from bot.fakeapi import FakeTelegram, FakeUser
from bot.fakeapi.server import SANDBOX_TOKEN, Limits
from bot.runtime import Runtime
from bot.settings import load_settings
from domain.clock import ManualClock
from domain.setup_file import load_setup_file
from storage import migrate
from storage.crypto import Keyring, use_keyring
from storage.db import Database
from storage.setup_import import import_setup

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE_SETUP = ROOT / "examples" / "minh-tan.toml"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgresql") else [])
START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 09:00 in Hà Nội
# The data key of every test (a fixed one: no TREEM_DATA_KEY is needed to run the suite).
# Installed for the whole process so storage tests read and write encrypted columns;
# the bots started by tests get it through TREEM_DATA_KEY, subprocesses through _env.
TEST_DATA_KEY = "dHJlZW0tYm90IHRlc3Qga2V5LCBuZXZlciByZWFsISE="
use_keyring(Keyring.from_text(TEST_DATA_KEY))


def pytest_report_header(config) -> str:
    return f"treem database backends: {', '.join(BACKENDS)}"


# Tests of a minute or so (several bot processes, long random walks) go first: started
# last, one of them alone would keep a worker busy after the others have finished. `make
# test` hands tests to the workers one at a time (--dist load --maxschedchunk 1), so these
# spread over all workers instead of filling the first worker's initial chunk.
LONG_FIRST = ("tests/e2e/test_instances.py", "tests/e2e/test_conversation_walk.py",
              "tests/e2e/test_scale.py", "tests/e2e/test_process.py")


def pytest_collection_modifyitems(config, items) -> None:
    def weight(item) -> int:
        path = item.nodeid.split("::")[0]
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=weight)  # stable: the order within each group stays as written


def pytest_collection_finish(session) -> None:
    """What collection made (every test module, pytest's own objects) lives to the end of
    the run: frozen, the collector no longer scans it in each full collection. Measured on
    two e2e files: full collections paused a test up to 284 ms, 171 ms with this; a pause
    that long is a stall the time-scaled tests feel."""
    gc.collect()
    gc.freeze()


# --- databases ----------------------------------------------------------------------------

# Every PostgreSQL test empties its schema with TRUNCATE, and every run creates and drops a
# schema per worker: each leaves dead rows in the system catalogs (a TRUNCATE gives a table
# a new file, so its pg_class row is rewritten). With autovacuum off, as on the CI machines
# here, nothing reclaims them: after a day of runs pg_class held 157,038 dead rows beside
# 4,080 live ones (14 MB instead of 176 kB), and each run cost the server more than the
# one before. So the run vacuums the catalogs it churns, once before the workers start and
# once at the end (a plain VACUUM: no lock that stops another run).
CHURNED_CATALOGS = ("pg_class", "pg_attribute", "pg_depend", "pg_type", "pg_index",
                    "pg_constraint", "pg_attrdef", "pg_sequence", "pg_trigger",
                    "pg_namespace", "pg_proc", "pg_statistic")


def _vacuum_catalogs() -> None:
    """On the run's controlling process only (not in each xdist worker)."""
    if "postgresql" not in BACKENDS or worker_id() != "main":
        return

    async def run() -> None:
        db = Database(PG_URL)
        try:
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.text(
                    "VACUUM " + ", ".join(f"pg_catalog.{name}" for name in CHURNED_CATALOGS)))
        finally:
            await db.dispose()

    asyncio.run(run())


def pytest_sessionstart(session) -> None:
    _vacuum_catalogs()


def pytest_sessionfinish(session, exitstatus) -> None:
    _vacuum_catalogs()



@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> pathlib.Path:
    """A migrated SQLite file, copied for each test (migrating every time is slow).

    One per xdist worker: each worker has its own base temporary directory.
    """
    path = tmp_path_factory.mktemp(f"template-{worker_id()}") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(db)
        await db.dispose()  # the last connection closing folds the WAL into the file

    asyncio.run(build())
    return path


def worker_id() -> str:
    """The pytest-xdist worker running this process ("gw0", "gw1", …), "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_schema() -> str | None:
    """A private schema in the PostgreSQL test database, migrated once, dropped at the end.

    Session fixtures run once per xdist worker, and the name carries the worker and a random
    part, so parallel workers (and parallel CI runs) never share tables.
    """
    if "postgresql" not in BACKENDS:
        yield None
        return
    schema = f"treem_test_{worker_id()}_{uuid.uuid4().hex[:8]}"

    async def run(sql: str, migrate_it: bool = False) -> None:
        db = Database(PG_URL)
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(sql))
        await db.dispose()
        if migrate_it:
            db = pg_database(schema)
            await migrate.upgrade(db)
            await db.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"', migrate_it=True))
    yield schema
    asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


# Empties the test's schema as the migration left it: only the tables something wrote to are
# truncated, and only the sequences something used are restarted (a TRUNCATE of all ~60
# tables took about 80 ms for each of ~1,700 PostgreSQL tests, even after a test that wrote
# nothing).
PG_EMPTY_SCHEMA = """
DO $$
DECLARE
    t record;
    filled text[] := '{}';
    has_rows boolean;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename <> 'alembic_version' LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', t.tablename) INTO has_rows;
        IF has_rows THEN
            filled := filled || format('%I', t.tablename);
        END IF;
    END LOOP;
    IF cardinality(filled) > 0 THEN
        EXECUTE 'TRUNCATE ' || array_to_string(filled, ', ') || ' CASCADE';
    END IF;
    FOR t IN SELECT sequencename FROM pg_sequences
             WHERE schemaname = current_schema() AND last_value IS NOT NULL LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', t.sequencename);
    END LOOP;
END $$;
"""


def pg_database(schema: str) -> Database:
    return Database(PG_URL, connect_args={"server_settings": {"search_path": schema}})


@pytest.fixture(scope="session")
def worker_databases(tmp_path_factory, sqlite_template, pg_schema) -> dict[str, Database]:
    """One Database per backend for the whole worker, emptied before each test.

    SQLAlchemy caches compiled statements per engine: with a new engine per test, every
    test compiled every statement it ran again. Connections never outlive a test (each test
    disposes the pool, and each test has its own event loop).
    """
    folder = tmp_path_factory.mktemp(f"db-{worker_id()}")
    databases = {"sqlite": Database(f"sqlite+aiosqlite:///{folder / 'treem.db'}")}
    if pg_schema is not None:
        databases["postgresql"] = pg_database(pg_schema)
    return databases


@pytest.fixture(params=BACKENDS)
async def db(request, sqlite_template, worker_databases):
    """A migrated, empty database on each backend."""
    database = worker_databases[request.param]
    if request.param == "sqlite":
        path = pathlib.Path(make_url(database.url).database)
        for leftover in (path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)  # a new file: nothing still open sees the copy
        shutil.copy(sqlite_template, path)
    else:
        async with database.engine.begin() as conn:
            await conn.execute(sa.text(PG_EMPTY_SCHEMA))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def commune(db, clock):
    """The example commune (xã Minh Tân) imported; returns the import summary."""
    async with db.session() as session:
        return await import_setup(load_setup_file(EXAMPLE_SETUP), session=session, now=clock.now())


def without_bot_settings(monkeypatch) -> None:
    """No TELEGRAM_*, TREEM_* or DATABASE_URL from the machine reaches a CLI test."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "TREEM_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


# --- the fake Telegram and the bot ---------------------------------------------------------

ADMIN_ID = 900_000_000_001  # above 2**31: ids must be BIGINT everywhere
# The bot and the fake Telegram run their rate-limit windows this many times faster in
# end-to-end tests (one message a second in a chat becomes ten): the same rules, less waiting.
# `@pytest.mark.time_scale(n)` chooses another factor.
TEST_TIME_SCALE = 10


@pytest.fixture
async def fake():
    server = FakeTelegram(token=SANDBOX_TOKEN, limits=Limits())
    await server.start()
    yield server
    await server.stop()


@dataclass
class RunningBot:
    fake: FakeTelegram
    runtime: Runtime
    application: object
    clock: ManualClock

    def user(self, user_id: int, first_name: str, **kwargs) -> FakeUser:
        return FakeUser(self.fake, user_id, first_name, **kwargs)

    @property
    def db(self) -> Database:
        return self.runtime.db


def make_settings(fake: FakeTelegram, db: Database, **overrides):
    values = {"TREEM_RATE_LIMIT_TIME_SCALE": str(TEST_TIME_SCALE),
              "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN, "TELEGRAM_API_URL": fake.url,
              "DATABASE_URL": "sqlite+aiosqlite:///unused.db", "TREEM_ADMIN_IDS": str(ADMIN_ID),
              "TREEM_MODE": "polling", "TREEM_WEBHOOK_URL": None, "TREEM_WEBHOOK_SECRET": None,
              "TREEM_DATA_KEY": TEST_DATA_KEY, "TREEM_DATA_KEY_OLD": None}
    values.update(overrides)
    settings = load_settings(**values)
    fake.limits.time_scale = settings.rate_limit_time_scale  # both sides keep the same rules
    return settings


async def start_bot(fake: FakeTelegram, db: Database, clock: ManualClock,
                    **overrides) -> RunningBot:
    runtime = Runtime(settings=make_settings(fake, db, **overrides), db=db, clock=clock)
    application = build_application(runtime)
    await start_application(application, runtime, poll_interval=0.0)
    # Tests run the scheduled jobs themselves, on the manual clock.
    application.job_queue.scheduler.pause()
    return RunningBot(fake=fake, runtime=runtime, application=application, clock=clock)


@pytest.fixture
async def bot(request, fake, db, clock, commune):
    """The real Application polling the fake Telegram, with the example commune loaded.

    At the end, the test fails if the bot made any call Telegram would refuse.
    `@pytest.mark.time_scale(n)` shortens every rate-limit window n times on both sides
    (for tests that simulate months of messages in seconds).
    """
    marker = request.node.get_closest_marker("time_scale")
    overrides = {}
    if marker:
        overrides["TREEM_RATE_LIMIT_TIME_SCALE"] = str(marker.args[0])
    running = await start_bot(fake, db, clock, **overrides)
    yield running
    await stop_application(running.application)
    assert fake.violations == [], [(c.method, c.description) for c in fake.violations]
