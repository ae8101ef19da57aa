"""A property-style test: random sequences of what a citizen and an officer really do —
commands, texts (empty, invisible, HTML, too long, codes, phone numbers), photos, locations,
presses of any button ever shown to them, and restarts of the bot — over the report and the
case flows. Whatever the sequence:

- the bot never makes a call Telegram would refuse, and answers every button press;
- no update ends in an unhandled error;
- nothing reaches the reporter from an officer that the officer did not confirm under a
  preview;
- a part of a story the bot acknowledged ("đã dùng …/3.000 ký tự", "Mình đã thêm …") is in
  the draft right after.

Each seed is a reproducible walk; a failure prints the steps that led to it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re

import pytest
from sqlmodel import select

from bot.app import stop_application
from bot.fakeapi.driver import wait_until
from domain.text import visible_strip
from storage.models import ReportDraft
from tests.conftest import ADMIN_ID, start_bot
from tests.e2e.flows import CODE, Reporter, create_invite, join, shortest_report

STEPS = 60
# (seed, share of the citizen's actions): two walks centred on the report, two on the case.
WALKS = [(11, 0.7), (23, 0.55), (47, 0.25), (90, 0.2)]

TEXTS = [
    "Em bé bị đánh",
    "<",
    "<b>nhà & ngõ</b>",
    "\u200b\u200d\u2060",
    "   ",
    "0912 345 678 Lan",
    "ABCD-EFGH",
    "x" * 3500,
    "Một đoạn kể thêm về chuyện em bị bỏ đói.",
    "có",
    "🙈 Tôi muốn ẩn danh",
    "↩️ Quay lại",
]
CITIZEN_COMMANDS = ["/start", "/baotin", "/help", "/hotline", "/huy", "/status", "/lenhla"]
OFFICER_COMMANDS = ["/start", "/cases", "/deadlines", "/huy", "/help", "/newcase"]
FOCUS = ("Nhắn người báo tin", "📨 Gửi", "✏️ Sửa", "Thêm ghi chú", "Trả lời", "📁 Mở vụ việc")
RELAYED = re.compile(r"Tin nhắn của cán bộ xử lý tin báo [A-Z2-9-]+ của bạn\n\n(.*)\n\n",
                     re.S)
QUOTED = re.compile(r"của vụ việc [A-Z2-9-]+\n\n(.*)\n\nNgười báo tin sẽ thấy đúng nội dung này",
                    re.S)


class Walk:
    def __init__(self, seed: int, running, citizen, officer) -> None:
        self.rng = random.Random(seed)
        self.running = running
        self.citizen = citizen
        self.officer = officer
        self.confirmed: set[str] = set()  # what the officer sent under a preview
        self.log: list[str] = []

    def buttons(self, person) -> list[tuple[object, dict]]:
        found = []
        for mid in person.chat.messages:
            message = person.message(mid)
            if message.raw.get("from", {}).get("is_bot"):
                found += [(message, b) for b in message.buttons if "callback_data" in b]
        return found

    def reply_keyboard_texts(self, person) -> list[str]:
        texts: list[str] = []
        for mid in person.chat.messages:
            texts += person.message(mid).reply_keyboard
        return texts

    async def act(self, person, commands: list[str]) -> None:
        roll = self.rng.random()
        last = person.message(max(person.chat.messages)) if person.chat.messages else None
        if last is not None and "gõ" in last.text.lower() and self.rng.random() < 0.6:
            roll = 0.7  # asked to type: people usually do
        person.mark()
        focus = [c for c in self.buttons(person) if any(word in c[1]["text"] for word in FOCUS)]
        if last is not None and "Gửi nhé?" in last.text and self.rng.random() < 0.5:
            focus = [(last, b) for b in last.buttons if "Gửi" in b["text"]] or focus
            roll = 0.0
        if roll < 0.3 and focus:
            # The risky buttons (writing to the reporter, notes, sending), old ones included.
            roll = 0.0
            choices = focus
        else:
            choices = self.buttons(person)
        if roll < 0.45 and choices:
            # Mostly the newest buttons (what is on screen), sometimes any old one.
            recent = [c for c in choices if c[0].message_id >= choices[-1][0].message_id - 1]
            message, button = self.rng.choice(recent if self.rng.random() < 0.7 else choices)
            self.log.append(f"{person.id} presses {button['text']!r} ({button['callback_data']})")
            if person is self.officer and button["callback_data"].startswith("1:cs:rs:"):
                quoted = QUOTED.search(message.text)
                if quoted:
                    self.confirmed.add(quoted.group(1))
            await person.press_data(message, button["callback_data"])
        elif roll < 0.65:
            command = self.rng.choice(commands)
            self.log.append(f"{person.id} sends {command}")
            await person.send(command)
        elif roll < 0.92:
            text = self.rng.choice(TEXTS + self.reply_keyboard_texts(person))
            self.log.append(f"{person.id} types {text[:30]!r}")
            await person.send(text)
        elif roll < 0.96:
            self.log.append(f"{person.id} sends a photo")
            await person.send_photo(caption=self.rng.choice([None, "Ảnh cái ao"]))
        else:
            self.log.append(f"{person.id} sends a location")
            await person.send_location(20.25, 105.97)
        got = await person.settle(quiet=0.4)
        await self.check_acknowledged(person, got)

    async def check_acknowledged(self, person, got) -> None:
        """A story part the bot said it kept is in the draft."""
        typed = self.log[-1]
        if person is not self.citizen or " types " not in typed:
            return
        acknowledged = ("Đã lưu (đã dùng", "Mình đã thêm đoạn này", "Đã thêm vào lời kể")
        if not any(words in m.text for m in got for words in acknowledged):
            return
        text = self.citizen_last_text()
        async with self.running.db.session() as session:
            draft = (await session.exec(select(ReportDraft).where(
                ReportDraft.user_id == self.citizen.id))).first()
        kept = visible_strip(text)
        assert draft is not None and kept in draft.answers.get("story", ""), self.log

    def citizen_last_text(self) -> str:
        chat = self.citizen.chat
        for mid in sorted(chat.messages, reverse=True):
            raw = chat.messages[mid]
            if not raw.get("from", {}).get("is_bot") and "text" in raw:
                return raw["text"]
        return ""

    def check_reporter_saw_only_confirmed(self) -> None:
        for mid in self.citizen.chat.messages:
            match = RELAYED.search(self.citizen.message(mid).text)
            if match:
                assert match.group(1) in self.confirmed, (match.group(1), self.log)


@pytest.mark.parametrize(("seed", "citizen_share"), WALKS)
async def test_random_walks_never_break_the_rules(seed, citizen_share, fake, db, clock, commune,
                                                  caplog):
    caplog.set_level(logging.ERROR)
    running = await start_bot(fake, db, clock)
    try:
        root = running.user(ADMIN_ID, "Mai")
        officer = running.user(2001, "Hùng")
        await join(officer, await create_invite(root, "Người làm công tác bảo vệ trẻ em"))
        await officer.settle()
        citizen = running.user(1001, "Lan")
        await shortest_report(Reporter(citizen))
        notice = await officer.reply()
        officer.mark()
        await officer.press(notice, "Nhận xử lý")
        await officer.settle()
        code = CODE.search(citizen.message(max(citizen.chat.messages)).text).group(1)
        await officer.send(f"/case {code}")  # the officer starts on the case card
        await officer.settle()
        walk = Walk(seed, running, citizen, officer)
        officer_commands = [*OFFICER_COMMANDS, f"/case {code}", f"/case {code}"]
        for step in range(STEPS):
            if walk.rng.random() < 0.05:
                walk.log.append("restart")
                await stop_application(running.application)
                running = await start_bot(fake, db, clock)
                walk.running = running
                continue
            if step == 0 or walk.rng.random() < 0.4:  # people do a few things in a row
                person, commands = ((citizen, CITIZEN_COMMANDS)
                                    if walk.rng.random() < citizen_share
                                    else (officer, officer_commands))
            await walk.act(person, commands)
            assert fake.violations == [], ([(c.method, c.description) for c in fake.violations],
                                           walk.log)
            def unanswered() -> list[str]:
                return [q for q, state in fake.callback_queries.items() if not state["answered"]]

            with contextlib.suppress(TimeoutError, AssertionError):
                await wait_until(lambda: not unanswered(), timeout=15)  # a busy machine
            assert unanswered() == [], (step, walk.log[-3:])
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert errors == [], ([r.getMessage() for r in errors], walk.log)
        walk.check_reporter_saw_only_confirmed()
    finally:
        await stop_application(running.application)
