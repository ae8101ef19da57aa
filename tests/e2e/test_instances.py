"""A province on several instances: real `treem run` processes against the fake Telegram.

Several instances start at the same instant and none fails; one of them is the active
scheduler; a process killed with SIGKILL right after a citizen's report was saved still
gets the officers told (after the restart); the active instance killed mid-broadcast is
replaced by a standby that finishes the broadcast and tells the administrator. The
multi-instance tests need PostgreSQL (TEST_DATABASE_URL); each makes its own database.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import json
import os
import pathlib
import signal
import socket
import statistics
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.fakeapi import FakeTelegram, FakeUser
from bot.fakeapi.driver import wait_until
from bot.fakeapi.server import SANDBOX_TOKEN, Limits
from domain.roles import Role
from domain.setup_file import load_setup_file
from services.setup import import_commune
from storage.db import Database
from storage.models import Delivery, Member, Subscription
from tests.conftest import EXAMPLE_SETUP, PG_URL, ROOT, TEST_DATA_KEY, worker_id
from tests.e2e.test_scale import REDIS_URL, _redis_or_skip

TREEM = [sys.executable, "-m", "bot.cli"]
ADMIN = 900_000_000_001
OFFICER = 2001
SECRET = "instances-test-secret_0123456789"
needs_pg = pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                              reason="several instances need PostgreSQL (TEST_DATABASE_URL)")


def _env(**extra: str) -> dict[str, str]:
    # Without PYTHONDONTWRITEBYTECODE (set on the development machines): a start then
    # reads the compiled modules the first one wrote instead of compiling all ~1,400 again,
    # which was half of the CPU of a start (8.8 of 18.7 s in a profile under load).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TREEM_", "TELEGRAM_", "DATABASE_URL", "PYTHONDONTWRITEBYTECODE"))}
    env["TREEM_DATA_KEY"] = TEST_DATA_KEY
    env.update(extra)
    return env


def _first_port() -> int:
    """Where this worker's webhook ports start: below the kernel's ephemeral range. A port
    found free by binding port 0 is an ephemeral one, and any outgoing connection on the
    machine (a bot's HTTP client, a database connection) may take it before the instance
    binds it: seen once in CI, an instance of the start-together trials stopped with "port
    in use". Each xdist worker has a block of 1,000."""
    try:
        low = int(pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    worker = worker_id()
    number = int(worker.removeprefix("gw")) if worker.startswith("gw") else 10
    return max(1024, low - 12_000) + 1_000 * number


_PORTS = itertools.count(_first_port())


def _free_port() -> int:
    for port in _PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (another program, or one of this worker's earlier instances)
            return port
    raise AssertionError("unreachable: the port counter never ends")


class ForkedProcess:
    """A `treem` process forked by the zygote (tests/e2e/zygote.py): what the tests use of
    asyncio's Process (signals, the exit code, waiting for it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.cpu = 0.0  # seconds, known once it has ended
        self._ended = asyncio.Event()

    def ended(self, code: int, cpu: float) -> None:
        self.returncode, self.cpu = code, cpu
        self._ended.set()

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        await self._ended.wait()
        return self.returncode


class Zygote:
    """One process that has imported the bot and forks `treem` processes on request: a
    start then costs what starting costs, not the ~1.5 s of CPU of the imports."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._ids = itertools.count()
        self._asked: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Zygote:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.zygote", cwd=ROOT, env=_env(),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._process.stdin.close()  # the zygote kills the children still running, and exits
        await asyncio.wait_for(self._process.wait(), 30)
        await self._reader

    async def spawn(self, argv: list[str], *, env: dict[str, str], cwd: pathlib.Path,
                    log: pathlib.Path) -> ForkedProcess:
        number = next(self._ids)
        asked = self._asked[number] = asyncio.get_running_loop().create_future()
        self._process.stdin.write(json.dumps({"id": number, "argv": argv, "env": env,
                                              "cwd": str(cwd), "log": str(log)}).encode()
                                  + b"\n")
        await self._process.stdin.drain()
        return await asyncio.wait_for(asked, 30)

    async def _read(self) -> None:
        async for line in self._process.stdout:
            message = json.loads(line)
            if "id" in message:  # the zygote reports a pid before its end: known here first
                child = self._children[message["pid"]] = ForkedProcess(message["pid"])
                self._asked.pop(message["id"]).set_result(child)
            else:
                self._children.pop(message["pid"]).ended(message["code"], message["cpu"])


class Instance:
    """One `treem run` process; its log goes to a file the test reads. With a zygote, the
    process is forked from it (already imported) instead of started from scratch."""

    def __init__(self, fake: FakeTelegram, url: str, workdir: pathlib.Path, name: str, *,
                 webhook: bool, env: dict[str, str] | None = None,
                 zygote: Zygote | None = None) -> None:
        self.fake, self.url, self.name = fake, url, name
        self.env = env or {}
        self.log_path = workdir / f"{name}.log"
        self.port = _free_port()
        self.webhook = webhook
        self.process: asyncio.subprocess.Process | ForkedProcess | None = None
        self.workdir = workdir
        self.zygote = zygote

    async def start(self) -> None:
        extra = {"TREEM_MODE": "webhook", "TREEM_WEBHOOK_URL": "https://bot.example.vn/telegram",
                 "TREEM_WEBHOOK_SECRET": SECRET, "TREEM_HTTP_PORT": str(self.port)} \
            if self.webhook else {}
        env = _env(TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=self.fake.url,
                   DATABASE_URL=self.url, TREEM_ADMIN_IDS=str(ADMIN), TREEM_LOG_LEVEL="INFO",
                   **extra, **self.env)
        if self.zygote is not None:
            self.process = await self.zygote.spawn(["run"], env=env, cwd=self.workdir,
                                                   log=self.log_path)
            return
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.process = await asyncio.create_subprocess_exec(
            *TREEM, "run", cwd=self.workdir, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)
        log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def started(self) -> bool:
        return "started (" in self.log

    @property
    def active(self) -> bool:
        return "scheduler: active" in self.log

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def receive_updates(self) -> None:
        """Point the fake Telegram's webhook here (as a load balancer would)."""
        self.fake.webhook = {"url": f"http://127.0.0.1:{self.port}/telegram",
                             "secret_token": SECRET, "allowed_updates": None}
        if self.fake._webhook_task is None or self.fake._webhook_task.done():
            self.fake._webhook_task = asyncio.create_task(self.fake._deliver_webhook())

    def kill(self) -> None:
        self.process.kill()

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@contextlib.asynccontextmanager
async def pg_database(template: str | None = None):
    """A new PostgreSQL database, empty or a copy of `template` (several processes cannot
    share a test schema)."""
    name = f"treem_inst_{uuid.uuid4().hex[:10]}"
    admin = Database(PG_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    async with admin.engine.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        async with admin.engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _add_officer(url: str, commune_id: int, fake: FakeTelegram) -> FakeUser:
    officer = FakeUser(fake, OFFICER, "Hùng")
    fake.chats[OFFICER].started = True
    db = Database(url)
    async with db.session() as session:
        session.add(Member(telegram_user_id=OFFICER, display_name="Hùng", role=Role.OFFICER,
                           unit_id=commune_id, joined_at=dt.datetime.now(dt.UTC)))
    await db.dispose()
    return officer


async def _report(citizen: FakeUser) -> str:
    """The citizen sends a short report through the bot; returns the thanks message."""
    await citizen.send("/baotin")
    _intro, danger = await citizen.replies(2, timeout=30)
    steps = [("press", danger, "Không, nhưng"), ("press", None, "Bị bỏ rơi"),
             ("send", None, "Cạnh chợ xã, nhà có mái tôn xanh"), ("press", None, "11–15 tuổi"),
             ("press", None, "1 em"), ("press", None, "Bỏ qua"),
             ("send", None, "Em bé thường ở nhà một mình cả ngày."), ("press", None, "Tiếp tục"),
             ("press", None, "Ẩn danh"), ("press", None, "Hàng xóm")]
    message = danger
    for kind, _given, value in steps:
        citizen.mark()
        if kind == "press":
            await citizen.press(message, value)
        else:
            await citizen.send(value)
        (message,) = await citizen.replies(1, timeout=30)
    assert "Gửi tin báo" in str(message.buttons)
    citizen.mark()
    await citizen.press(message, "Gửi tin báo")
    (thanks,) = await citizen.replies(1, timeout=30)
    return thanks.text


def _texts(user: FakeUser) -> list[str]:
    """Every message the bot sent this person, as it reads now (edits included)."""
    return [m.get("text") or "" for m in user.chat.messages.values()
            if m.get("from", {}).get("id") == user.server.bot_id]


def _backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgresql") else [])


@contextlib.asynccontextmanager
async def _database(backend: str, tmp_path: pathlib.Path):
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/treem.db"
    else:
        async with pg_database() as url:
            yield url


# --- a report's notice survives a kill right after the commit --------------------------


@pytest.mark.parametrize("backend", _backends())
async def test_kill_9_right_after_a_report_is_saved_the_officer_is_told_after_restart(
        fake, tmp_path, backend):
    """The citizen presses Send and gets the tracking code; the process is killed with
    SIGKILL before the officer's notice went out; after the restart the officer gets it,
    once, after the message that was ahead of it.

    To kill between the commit and the notice for certain, the officer's chat already
    has an older message waiting to be retried (as after a 429): messages to one chat go
    out in order, so the notice waits behind it in the outbox; its retry time comes while
    the bot is down."""
    async with _database(backend, tmp_path) as url:
        summary = await import_commune(url, load_setup_file(EXAMPLE_SETUP))
        officer = await _add_officer(url, summary.commune_id, fake)
        db = Database(url)
        async with db.session() as session:
            session.add(Delivery(kind="notice", chat_id=OFFICER, text="Tin nhắn trước",
                                 due_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))
        bot = Instance(fake, url, tmp_path, "first", webhook=False)
        await bot.start()
        citizen = FakeUser(fake, 1001, "Lan")
        try:
            thanks = await _report(citizen)
        finally:
            bot.kill()  # SIGKILL right after the tracking code arrived
            await bot.process.wait()
        assert "Mã theo dõi" in thanks
        assert officer.unread() == []  # not told yet: the notice is only a row

        async with db.session() as session:
            rows = (await session.exec(sa.select(Delivery.status, Delivery.text).where(
                Delivery.chat_id == OFFICER).order_by(Delivery.id))).all()
        assert [status for status, _t in rows] == ["pending", "pending"]
        async with db.session() as session:  # the older message's retry time has come
            await session.exec(sa.update(Delivery).where(Delivery.chat_id == OFFICER)
                               .values(due_at=dt.datetime.now(dt.UTC)))

        again = Instance(fake, url, tmp_path, "second", webhook=False)
        await again.start()
        try:
            messages = await officer.replies(2, timeout=60)
        finally:
            assert await again.stop() == 0
        await db.dispose()
    assert messages[0].text == "Tin nhắn trước"
    assert "Tin báo mới" in messages[1].text and "Nhận xử lý" in str(messages[1].buttons)
    await asyncio.sleep(0.5)
    assert len([t for t in _texts(officer) if "Tin báo mới" in t]) == 1
    assert [c for c in fake.violations if c.status != 429] == []


# --- instances started together -----------------------------------------------------------


# The 20 times, each on a fresh copy of the database. The instances are forked
# from a zygote that has imported the bot (tests/e2e/zygote.py), so a trial costs what the
# starts cost, not twenty times the imports. START_TRIALS=n for another number.
TRIALS = int(os.environ.get("START_TRIALS", "20"))


@needs_pg
@pytest.mark.timeout(600)
@pytest.mark.parametrize("count", [2, 3])
async def test_instances_started_at_the_same_instant_never_fail(fake, tmp_path, count):
    """`count` processes started together on a fresh copy of an imported commune (no
    reminder planned yet), 20 times: every one starts, exactly one is active, each
    reminder is planned once, and all stop cleanly."""
    async with pg_database() as template, Zygote() as zygote:
        await import_commune(template, load_setup_file(EXAMPLE_SETUP))
        await _start_together(fake, tmp_path, count, template, zygote)
    assert fake.violations == []


async def _start_together(fake, tmp_path, count, template, zygote) -> None:
    began = time.monotonic()
    phases: dict[str, list[float]] = collections.defaultdict(list)  # seconds, per trial
    for trial in range(1, TRIALS + 1):
        mark = time.monotonic()

        def lap(phase: str) -> None:
            nonlocal mark
            phases[phase].append(time.monotonic() - mark)
            mark = time.monotonic()

        async with pg_database(template) as url:
            lap("copy the database")
            workdir = tmp_path / f"trial-{trial}"
            workdir.mkdir()
            instances = [Instance(fake, url, workdir, f"i{n}", webhook=True, zygote=zygote)
                         for n in range(count)]
            await asyncio.gather(*(i.start() for i in instances))
            try:
                await wait_until(lambda: all(i.started or i.exited for i in instances),
                                 timeout=90)
                lap("start (all answering)")
                failed = [i.log for i in instances if i.exited]
                assert failed == [], failed[0][-3000:]
                await wait_until(lambda: any(i.active for i in instances), timeout=10)
                await asyncio.sleep(0.5)
                assert sum(i.active for i in instances) == 1, [i.log[-500:] for i in instances]
                lap("one active, checked")
            finally:
                codes = await asyncio.gather(*(i.stop() for i in instances))
            lap("stop (SIGTERM)")
            phases["CPU of the processes"].append(sum(i.process.cpu for i in instances))
            assert codes == [0] * count, [i.log[-2000:] for i in instances]
            logs = "".join(i.log for i in instances)
            assert "Traceback" not in logs and "IntegrityError" not in logs, logs[-3000:]
            db = Database(url)
            async with db.session() as session:
                planned, distinct = (await session.exec(sa.text(
                    "SELECT count(*), count(DISTINCT (event_id, year, lead_days)) "
                    "FROM reminders"))).one()
            await db.dispose()
            assert planned == distinct > 0
        lap("check and drop")
    print(f"{count} instances, {TRIALS} trials in {time.monotonic() - began:.1f} s; "
          "median per trial: " + ", ".join(f"{phase} {statistics.median(times):.2f} s"
                                           for phase, times in phases.items()))


# --- the active instance killed mid-broadcast ---------------------------------------------


@needs_pg
async def test_active_instance_killed_mid_broadcast_standby_finishes_it(fake, tmp_path):
    """Two instances; the administrator confirms a broadcast to 150 chats on the standby
    (its webhook); the active one sends it and is killed with SIGKILL part-way. The
    standby takes over within 30 s, sends the rest, ends the progress message and sends
    the summary. Nobody gets it twice; at most the requests in flight at the kill
    (≤ 2, TREEM_SEND_CONCURRENCY) are uncertain and counted in the summary."""
    text = "Thông báo: họp giao ban công tác trẻ em chiều thứ Sáu"
    async with pg_database() as url:
        summary = await import_commune(url, load_setup_file(EXAMPLE_SETUP))
        users = [FakeUser(fake, 20_000 + i, f"U{i}") for i in range(150)]
        db = Database(url)
        async with db.session() as session:
            for user in users:
                fake.chats[user.id].started = True
                session.add(Subscription(chat_id=user.id, commune_id=summary.commune_id,
                                         kind="person", role="officer", created_by=1,
                                         created_at=dt.datetime.now(dt.UTC)))
        first = Instance(fake, url, tmp_path, "first", webhook=True)
        await first.start()
        await wait_until(lambda: first.active or first.exited, timeout=60)
        second = Instance(fake, url, tmp_path, "second", webhook=True)
        await second.start()
        await wait_until(lambda: second.started or second.exited, timeout=60)
        assert first.active and not second.active and not second.exited
        # Both registered the public webhook URL; the load balancer sends to the standby.
        await wait_until(lambda: sum(c.method == "setWebhook" for c in fake.calls) >= 2,
                         timeout=30)
        second.receive_updates()

        def received() -> dict[int, int]:
            return {u.id: sum(1 for m in u.chat.messages.values() if m.get("text") == text)
                    for u in users}

        admin = FakeUser(fake, ADMIN, "Mai")
        try:
            admin.mark()
            await admin.send("/broadcast")
            await admin.reply(timeout=30)
            admin.mark()
            await admin.send(text)
            (audience,) = await admin.replies(1, timeout=30)
            admin.mark()
            await admin.press(audience, "Tất cả nơi đã đăng ký")
            _preview, ask = await admin.replies(2, timeout=30)
            admin.mark()
            await admin.press(ask, "Gửi ngay")
            await wait_until(lambda: sum(received().values()) >= 40, timeout=60)
            first.kill()
            killed_at = time.monotonic()
            await first.process.wait()
            at_kill = sum(received().values())
            assert at_kill < len(users)  # really interrupted mid-way
            await wait_until(lambda: sum(received().values()) > at_kill + 2, timeout=30)
            failover = time.monotonic() - killed_at
            await wait_until(lambda: any("thành công" in t for t in _texts(admin)), timeout=60)
        finally:
            if not first.exited:
                first.kill()
            assert await second.stop() == 0
        async with db.session() as session:
            statuses = dict((await session.exec(sa.text(
                "SELECT status, count(*) FROM deliveries WHERE broadcast_id IS NOT NULL "
                "AND kind = 'broadcast' GROUP BY status"))).all())
            unsure = {row[0] for row in (await session.exec(sa.text(
                "SELECT chat_id FROM deliveries WHERE status IN ('sending', 'uncertain')"))).all()}
        await db.dispose()
    assert second.active
    counts = received()
    assert max(counts.values()) == 1  # nothing twice
    missing = {chat for chat, n in counts.items() if n == 0}
    assert missing <= unsure and len(unsure) <= 2, (missing, unsure)
    assert statuses.get("sending", 0) == 0 and statuses.get("pending", 0) == 0
    summary_text = next(t for t in _texts(admin) if "thành công" in t)
    sent = statuses.get("sent", 0)
    assert f"{sent} thành công" in summary_text
    assert f"{len(unsure)} không rõ đã nhận chưa" in summary_text
    assert "Đã gửi xong: 150/150." in _texts(admin)  # the progress message, finished
    assert failover <= 30, failover
    print(f"failover {failover:.1f} s, uncertain {len(unsure)}, duplicates 0")
    assert [c for c in fake.violations if c.status != 429] == []



# --- a large broadcast with three instances sharing one token -----------------------------


BROADCAST_CHATS = 2000
BROADCAST_SCALE = 4  # every rate-limit window 4 times shorter, on both sides: 120/s allowed


@needs_pg
@pytest.mark.timeout(420)  # under a minute on an idle machine; minutes on a busy one
async def test_three_instances_send_2000_messages_once_never_above_the_limit(fake, tmp_path):
    """Three instances of one token, sharing its rate limit through Redis. The administrator
    confirms a broadcast to 2,000 chats on a standby; the active instance sends it while
    people write to the two standbys (whose answers count against the same limit). Every
    chat gets it exactly once, and the fake Telegram, counting every request of the token
    in every window of one (scaled) second, never has to refuse one (no 429)."""
    await _redis_or_skip()
    fake.limits = Limits(time_scale=BROADCAST_SCALE)
    text = "Thông báo: lịch tiêm chủng mở rộng tháng này"
    accepted: list[float] = []  # when the fake let a request through its rate check
    check_rate = fake._check_rate

    def counted(chat_id, now):
        check_rate(chat_id, now)
        accepted.append(now)

    fake._check_rate = counted
    received: collections.Counter = collections.Counter()  # chat -> copies of the broadcast
    record = fake._record

    def recorded(chat, message, event):
        if event == "sent" and chat.id in chats and message.get("text") == text:
            received[chat.id] += 1
        record(chat, message, event)

    fake._record = recorded
    chats = range(30_000, 30_000 + BROADCAST_CHATS)
    env = {"REDIS_URL": REDIS_URL, "TREEM_RATE_LIMIT_TIME_SCALE": str(BROADCAST_SCALE)}
    async with pg_database() as url:
        summary = await import_commune(url, load_setup_file(EXAMPLE_SETUP))
        db = Database(url)
        async with db.session() as session:
            for chat_id in chats:
                fake.add_user(chat_id, "U")
                fake.chats[chat_id].started = True
                session.add(Subscription(chat_id=chat_id, commune_id=summary.commune_id,
                                         kind="person", role="officer", created_by=1,
                                         created_at=dt.datetime.now(dt.UTC)))
        instances = [Instance(fake, url, tmp_path, f"i{n}", webhook=True, env=env)
                     for n in range(3)]
        await asyncio.gather(*(i.start() for i in instances))

        admin = FakeUser(fake, ADMIN, "Mai")
        visitors = [FakeUser(fake, 40_000 + n, f"Khách {n}") for n in range(12)]
        try:
            await wait_until(lambda: all(i.started or i.exited for i in instances), timeout=90)
            assert not any(i.exited for i in instances), [i.log[-2000:] for i in instances]
            await wait_until(lambda: sum(c.method == "setWebhook" for c in fake.calls) >= 3,
                             timeout=30)
            await wait_until(lambda: any(i.active for i in instances), timeout=30)
            standbys = [i for i in instances if not i.active]
            assert len(standbys) == 2
            standbys[0].receive_updates()
            admin.mark()
            await admin.send("/broadcast")
            await admin.reply(timeout=30)
            admin.mark()
            await admin.send(text)
            (audience,) = await admin.replies(1, timeout=30)
            admin.mark()
            await admin.press(audience, "Tất cả nơi đã đăng ký")
            _preview, ask = await admin.replies(2, timeout=30)
            admin.mark()
            await admin.press(ask, "Gửi ngay")
            confirmed = time.monotonic()
            await wait_until(lambda: received, timeout=30)
            for n, visitor in enumerate(visitors):  # while it is being sent
                standbys[n % 2].receive_updates()
                visitor.mark()
                await visitor.start()
                await visitor.reply(timeout=30)
            await wait_until(lambda: len(received) == BROADCAST_CHATS, timeout=240)
            elapsed = time.monotonic() - confirmed
            await wait_until(lambda: any("thành công" in t for t in _texts(admin)), timeout=60)
        finally:
            codes = await asyncio.gather(*(i.stop() for i in instances if not i.exited))
        assert set(codes) == {0}
        async with db.session() as session:
            statuses = dict((await session.exec(sa.text(
                "SELECT status, count(*) FROM deliveries WHERE kind = 'broadcast' "
                "GROUP BY status"))).all())
        await db.dispose()
    twice = {chat: n for chat, n in received.items() if n != 1}
    assert set(received) == set(chats) and twice == {}, (twice, statuses)  # once, every chat
    assert statuses == {"sent": BROADCAST_CHATS}
    assert "Đã gửi xong: 2.000/2.000." in _texts(admin)  # the progress message, finished
    assert any("✅ Đã gửi xong: 2.000 thành công" in t for t in _texts(admin))
    assert [c for c in fake.calls if c.status == 429] == []
    assert fake.violations == []
    window, busiest, lo = 1 / BROADCAST_SCALE, 0, 0
    for hi, at in enumerate(accepted):
        while accepted[lo] <= at - window:
            lo += 1
        busiest = max(busiest, hi - lo + 1)
    assert busiest <= fake.limits.global_per_second
    rate, limit = BROADCAST_CHATS / elapsed, 30 * BROADCAST_SCALE
    print(f"2,000 chats in {elapsed:.1f} s ({rate:.1f}/s = {rate / limit:.2f} of the scaled "
          f"limit {limit}/s); busiest window {busiest} requests; 429: 0; duplicates 0; "
          "missing 0")
