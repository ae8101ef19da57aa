"""`treem sandbox`: the real bot against the fake Telegram, chatted with from a terminal.

No token and no internet needed. The example commune (xã Minh Tân) is imported into
a separate sandbox database, an officer, a commune administrator and the commune's leader
join through real invitations, and you play the citizen, the officer, the administrator or
the leader (who approves the officer's plans and closings).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import sys
from typing import TextIO

from bot import logsafety
from bot.app import build_application, start_application, stop_application
from bot.fakeapi import FakeTelegram, FakeUser, SentMessage
from bot.fakeapi.server import SANDBOX_TOKEN
from bot.i18n import _
from bot.runtime import Runtime
from bot.settings import load_settings
from domain.clock import SystemClock
from domain.roles import Role
from domain.setup_file import load_setup_file
from services import membership
from services.setup import create_invite_by_codes
from storage import migrate
from storage.db import Database
from storage.members import get_member_by_user
from storage.setup_import import import_setup

EXAMPLE_SETUP = pathlib.Path(__file__).resolve().parent.parent / "examples" / "minh-tan.toml"

# (Telegram id, first name, role to join with or None for a citizen)
PERSONAS: dict[str, tuple[int, str, Role | None]] = {
    "citizen": (1001, "Lan", None),
    "officer": (2001, "Hùng", Role.OFFICER),
    "admin": (3001, "Mai", Role.ADMIN),
    "leader": (2201, "Thảo", Role.LEADER),  # Chủ tịch UBND xã: approves plans and closings
}


def _help() -> str:
    return _(
        "Type a message and press Enter to send it to the bot.\n"
        "  #N              press button N of the last message with buttons\n"
        "  #M.N            press button N of message [#M] (the number before each message "
        "with buttons)\n"
        "  :as NAME        switch person: citizen, officer, admin, leader\n"
        "  :loc LAT LON    share a location      :photo   send a photo\n"
        "  :contact PHONE  share a phone number  :sticker send a sticker\n"
        "  :help           this help             :quit    leave\n"
        "Messages that arrive while you are not typing are shown at once."
    )


def _attachment(raw: dict) -> str:
    """What a message carries besides text: '[ảnh]', '[tệp] bao-cao.xlsx', …"""
    if "photo" in raw:
        return _("[photo]")
    if "document" in raw:
        return _("[file] {name}").format(name=raw["document"].get("file_name", ""))
    if "voice" in raw:
        return _("[voice message]")
    if "location" in raw:
        return _("[location]")
    return ""


def render(message: SentMessage, out: TextIO) -> None:
    label = f"[#{message.message_id}] " if message.buttons else ""
    body = " ".join(part for part in (_attachment(message.raw), message.text) if part)
    out.write("\n🤖 " + label + body.replace("\n", "\n   ") + "\n")
    for number, button in enumerate(message.buttons, start=1):
        target = button.get("url")
        out.write(f"   [{number}] {button['text']}" + (f"  ({target})" if target else "") + "\n")
    keys = message.reply_keyboard
    if keys:
        out.write("   " + " | ".join(keys) + "\n")
    out.flush()


async def _prepare_people(db: Database, fake: FakeTelegram, ttl) -> dict[str, FakeUser]:  # noqa: ANN001
    """Import the example commune; let the officer and admin join through invitations."""
    clock = SystemClock()
    setup = load_setup_file(EXAMPLE_SETUP)
    async with db.session() as session:
        await import_setup(setup, session=session, now=clock.now())
    people = {}
    for key, (user_id, name, role) in PERSONAS.items():
        people[key] = FakeUser(fake, user_id, name)
        if role is None:
            continue
        async with db.session() as session:
            if await get_member_by_user(user_id, session=session):
                continue
        created = await create_invite_by_codes(
            db, province=setup.province.code, commune=setup.commune.code, role=role, agency=None,
            village=None, ttl=ttl, now=clock.now())
        async with db.session() as session:
            await membership.redeem_invite(created.code, user_id=user_id, display_name=name,
                                           session=session, now=clock.now())
        fake.chats[user_id].started = True
    return people


async def run_sandbox(*, database: str, reset: bool = False, script: TextIO | None = None,
                      out: TextIO = sys.stdout) -> int:
    logsafety.configure("WARNING")
    path = pathlib.Path(database)
    if reset:
        _remove_database_files(path)
    fake = FakeTelegram(token=SANDBOX_TOKEN)
    await fake.start()
    settings = load_settings(
        TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN, TELEGRAM_API_URL=fake.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{path}", TREEM_MODE="polling",
        TREEM_ADMIN_IDS="", TREEM_WEBHOOK_URL=None, TREEM_WEBHOOK_SECRET=None,
        TREEM_DATA_KEY=sandbox_key(path), TREEM_DATA_KEY_OLD=None)
    runtime = Runtime(settings=settings, db=Database(settings.database_url))
    await migrate.upgrade(runtime.db)
    people = await _prepare_people(runtime.db, fake, settings.invite_ttl)
    application = build_application(runtime)
    await start_application(application, runtime, poll_interval=0.0)
    try:
        out.write(_("treem-bot sandbox – the real bot on a fake Telegram, data in {path}.")
                  .format(path=path) + "\n" + _help() + "\n")
        current = "citizen"
        await _act(people[current], "/start", out)
        await _repl(people, current, script, out)
    finally:
        await stop_application(application)
        await runtime.db.dispose()
        await fake.stop()
    if fake.violations:
        out.write(f"\n[fake Telegram refused {len(fake.violations)} call(s): "
                  f"{[(c.method, c.description) for c in fake.violations]}]\n")
    return 0


async def _read_line(script: TextIO | None) -> str | None:
    source = script or sys.stdin
    line = await asyncio.get_running_loop().run_in_executor(None, source.readline)
    return line.rstrip("\n") if line else None


IDLE_CHECK_SECONDS = 0.3


async def read_line_showing_arrivals(user: FakeUser, source: TextIO | None, out: TextIO,
                                     prompt: str) -> str | None:
    """Wait for the next line; what the bot sends meanwhile (a reminder, a colleague's case,
    a reply to the reporter) is shown at once, and the prompt again."""
    reading = asyncio.ensure_future(_read_line(source))
    while True:
        done, _pending = await asyncio.wait({reading}, timeout=IDLE_CHECK_SECONDS)
        if done:
            return reading.result()
        arrived = user.unread()
        for message in arrived:
            render(message, out)
        if arrived:
            out.write(prompt)
            out.flush()


async def _repl(people: dict[str, FakeUser], current: str, script: TextIO | None,
                out: TextIO) -> None:
    while True:
        prompt = f"\n[{current}] > "
        out.write(prompt)
        out.flush()
        line = await read_line_showing_arrivals(people[current], script, out, prompt)
        if line is None:
            out.write("\n")
            return
        if script is not None:
            out.write(line + "\n")
        line = line.strip()
        if not line:
            continue
        if line in {":quit", ":q", ":exit"}:
            return
        if line == ":help":
            out.write(_help() + "\n")
            continue
        if line.startswith(":as"):
            name = line[3:].strip()
            if name not in people:
                out.write(_("Unknown person. Choose one of: {names}").format(
                    names=", ".join(people)) + "\n")
                continue
            current = name
            out.write(_("You are now: {name}").format(name=name) + "\n")
            for message in people[current].unread():  # what arrived while you were away
                render(message, out)
            continue
        await _act(people[current], line, out)


async def _act(user: FakeUser, line: str, out: TextIO) -> None:
    for message in user.unread():
        render(message, out)
    try:
        if _BUTTON.fullmatch(line):
            message, index = _target(user, line)
            if message is None or not 0 <= index < len(message.buttons):
                out.write(_("There is no button with that number.") + "\n")
                return
            button = message.buttons[index]
            if "callback_data" not in button:
                out.write(_("That button opens a link: {url}").format(url=button.get("url")) + "\n")
                return
            await user.press_data(message, button["callback_data"])
        elif line.startswith(":loc"):
            lat, lon = (float(x) for x in line.split()[1:3])
            await user.send_location(lat, lon)
        elif line == ":photo":
            await user.send_photo()
        elif line == ":sticker":
            await user.send_sticker()
        elif line.startswith(":contact"):
            await user.send_contact(line.split(maxsplit=1)[1] if " " in line else "0912345678")
        else:
            await user.send(line)
    except (ValueError, IndexError):
        out.write(_("I could not read that command; type :help.") + "\n")
        return
    try:  # the bot answers every action; on a busy machine the answer may take a while
        answered = await user.replies(1, timeout=15)
    except AssertionError:
        answered = []
    for message in answered + await user.settle(quiet=0.6, timeout=15):
        render(message, out)


_BUTTON = re.compile(r"#(?:(\d+)\.)?(\d+)")


def _target(user: FakeUser, line: str) -> tuple[SentMessage | None, int]:
    """'#N': button N of the last message with buttons; '#M.N': button N of message [#M]."""
    match = _BUTTON.fullmatch(line)
    index = int(match[2]) - 1
    if match[1] is None:
        return _last_with_buttons(user), index
    raw = user.chat.messages.get(int(match[1]))
    if raw is None or raw.get("from", {}).get("id") != user.server.bot_id:
        return None, index
    return user.message(int(match[1])), index


def _last_with_buttons(user: FakeUser) -> SentMessage | None:
    bot_id = user.server.bot_id
    for message_id in sorted(user.chat.messages, reverse=True):
        raw = user.chat.messages[message_id]
        if raw.get("from", {}).get("id") == bot_id and raw.get("_keyboard"):
            return user.message(message_id)
    return None


def key_file(database: pathlib.Path) -> pathlib.Path:
    return database.with_name(database.name + ".key")


def sandbox_key(database: pathlib.Path) -> str:
    """The sandbox's own data key, in a file next to its database (created mode 600 on first
    use): the sandbox holds only invented cases, so it needs no TREEM_DATA_KEY, and a real
    key is never written to disk by the bot."""
    from storage.crypto import generate_key

    path = key_file(database)
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(generate_key() + "\n")
    return path.read_text(encoding="ascii").strip()


def _remove_database_files(path: pathlib.Path) -> None:
    """The SQLite file and its write-ahead log, for --reset."""
    for suffix in ("", "-wal", "-shm"):
        pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
