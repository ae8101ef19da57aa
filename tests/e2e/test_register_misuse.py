# ruff: noqa: F811  (the `people` fixture comes from test_register)
"""The register's add flow and record card as people really use them: the name in two
messages, dates as villages write them, markup, very long text and emoji, buttons from
three screens ago and pressed twice, a command in the middle, a restart, two collaborators
on one child, a forwarded card pressed by another village. Then random sequences of all of
it, with the invariants checked after each step."""

from __future__ import annotations

import datetime as dt
import logging
import random

import pytest
from sqlmodel import select

from bot.app import stop_application
from bot.fakeapi.driver import SentMessage
from domain.errors import InvalidInput
from domain.register import parse_birth
from handlers.register import _step
from storage.models import PendingInput, RegisterEvent
from tests.conftest import start_bot
from tests.e2e.flows import (
    COLLABORATOR_ROLE,
    joined,
)
from tests.e2e.test_register import act, add_child, children, people  # noqa: F401

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(("typed", "expected"), [
    ("3/4/2015", (2015, dt.date(2015, 4, 3))),
    ("03-04-2015", (2015, dt.date(2015, 4, 3))),
    ("3.4.15", (2015, dt.date(2015, 4, 3))),
    ("3/4/15", (2015, dt.date(2015, 4, 3))),
    ("03/04/2015.", (2015, dt.date(2015, 4, 3))),
    ("ngày 3 tháng 4 năm 2015", (2015, dt.date(2015, 4, 3))),
    ("sinh ngày 3/4/2015", (2015, dt.date(2015, 4, 3))),
    ("2015", (2015, None)),
    ("năm 2015", (2015, None)),
    ("32/1/2015", "birth_impossible"),
    ("1/1/2030", "birth_future"),
    ("3/4/30", "birth_too_old"),  # 1930: not a child
    ("15", "birth_unreadable"),
    ("3/4", "birth_unreadable"),
])
def test_dates_as_villages_write_them(typed, expected):
    try:
        birth = parse_birth(typed, today=TODAY)
    except InvalidInput as problem:
        assert problem.code == expected, typed
    else:
        assert (birth.year, birth.date) == expected, typed


async def _to(user, step: str) -> SentMessage:
    """/tre → Thêm trẻ, then answers up to `step` (name, sex, birth, groups)."""
    question = await act(user, press=await act(user, "/tre"), label="Thêm trẻ")
    if step == "name":
        return question
    question = await act(user, "Hoàng Văn Tú")
    if step == "sex":
        return question
    question = await act(user, press=question, label="Nam")
    if step == "birth":
        return question
    return await act(user, "5/6/2016")


async def _pending(bot, user_id: int) -> dict | None:
    async with bot.db.session() as session:
        row = (await session.exec(select(PendingInput).where(
            PendingInput.user_id == user_id))).first()
        return dict(row.data) if row else None


async def test_the_name_in_two_messages(bot, people):
    lan = people["dong"]
    question = await _to(lan, "name")
    question = await act(lan, "Nguyễn Văn")
    assert "nam hay nữ" in question.text
    more = await act(lan, "An")  # the rest of the name, a moment later
    assert "Nguyễn Văn An" in more.text and "nam hay nữ" in more.text, more.text
    assert (await _pending(bot, lan.id))["name"] == "Nguyễn Văn An"
    # "nam" typed at the question is the answer, not more name.
    question = await act(lan, "nam")
    assert "ngày sinh" in question.text, question.text
    data = await _pending(bot, lan.id)
    assert data["name"] == "Nguyễn Văn An" and data["sex"] == "male"


async def test_dates_typed_at_the_question(bot, people):
    lan = people["dong"]
    await _to(lan, "birth")
    for typed, said in (("32/1/2015", "Không có ngày này"), ("1/1/2030", "chưa tới"),
                        ("hôm qua", "3/4/2015")):
        problem = await act(lan, typed)
        assert said in problem.text, (typed, problem.text)
        assert "ngày sinh" in problem.text
    question = await act(lan, "3.4.15")
    assert "Điều 10" in question.text, question.text
    assert (await _pending(bot, lan.id))["birth"] == {"year": 2015, "date": "2015-04-03"}


async def test_markup_emoji_and_very_long_text(bot, people):
    lan = people["dong"]
    await _to(lan, "name")
    refused = await act(lan, "😀😀")
    assert "họ và tên" in refused.text and "nam hay nữ" not in refused.text, refused.text
    # 5.000 characters: Telegram delivers 4.096 + 904; neither piece becomes the name.
    long_name = ("Nguyễn Văn An " * 400)[:5000]
    first = await act(lan, long_name[:4096])
    assert "quá dài" in first.text
    second = await act(lan, long_name[4096:])
    assert "nam hay nữ" not in second.text, second.text
    assert "name" not in await _pending(bot, lan.id)
    question = await act(lan, "<b>Lò Thị Mỷ</b> 🌸")
    assert "nam hay nữ" in question.text
    name = (await _pending(bot, lan.id))["name"]
    assert "Lò Thị Mỷ" in name
    assert "<b>Lò" not in question.html  # shown as typed text, never as markup
    # A long risk note: 4.200 characters arrive as 4.096 + 104; the tail is not the note.
    question = await act(lan, press=question, label="Nữ")
    question = await act(lan, "2016")
    question = await act(lan, press=question, label="Có nguy cơ")
    question = await act(lan, press=question, label="Xong")
    assert "Nguy cơ gì" in question.text
    note = ("Bố mẹ đi làm xa, ở với bà đã già yếu. " * 120)[:4200]
    refused = await act(lan, note[:4096])
    assert "quá dài" in refused.text
    tail = await act(lan, note[4096:])
    assert "chăm sóc" not in tail.text, tail.text
    assert "risk" not in await _pending(bot, lan.id)
    question = await act(lan, "Bố mẹ đi làm xa 🙏")
    assert "chăm sóc" in question.text
    assert (await _pending(bot, lan.id))["risk"] == "Bố mẹ đi làm xa 🙏"


async def test_an_old_add_button_keeps_what_was_typed(bot, people):
    lan = people["dong"]
    listing = await act(lan, "/tre")
    question = await act(lan, press=listing, label="Thêm trẻ")
    question = await act(lan, "Đinh Thị Hương")
    question = await act(lan, press=question, label="Nữ")
    question = await act(lan, "4/5/2014")
    # "➕ Thêm trẻ" on the list of three screens ago: the child half-added is not thrown away.
    again = await act(lan, press=listing, label="Thêm trẻ")
    assert "Đinh Thị Hương" in again.text and "Điều 10" in again.text, again.text
    data = await _pending(bot, lan.id)
    assert data["name"] == "Đinh Thị Hương" and data["birth"]["year"] == 2014
    # The sex buttons of two screens ago: the question due now, nothing changed.
    stale = await act(lan, press=question, data=question.buttons[0]["callback_data"])
    assert "Điều 10" in stale.text
    assert (await _pending(bot, lan.id))["sex"] == "female"


async def test_save_pressed_twice_fast_adds_one_child(bot, people):
    lan = people["dong"]
    listing = await act(lan, "/tre")
    question = await act(lan, press=listing, label="Thêm trẻ")
    question = await act(lan, "Vũ Minh Khang")
    question = await act(lan, press=question, label="Nam")
    question = await act(lan, "2017")
    question = await act(lan, press=question, label="Khuyết tật")
    question = await act(lan, press=question, label="Xong")
    question = await act(lan, press=question, label="Bỏ qua")
    assert "Lưu" in " ".join(b["text"] for b in question.buttons)
    save = question.button("Lưu")["callback_data"]
    lan.mark()
    await lan.press_data(question, save)
    await lan.press_data(question, save)
    said = await lan.replies(2)
    assert any("Đã thêm vào danh sách" in m.text for m in said), [m.text for m in said]
    assert len(await children(bot)) == 1


async def test_the_review_shows_what_will_be_saved(bot, people):
    lan = people["dong"]
    question = await _to(lan, "name")
    question = await act(lan, "Cao Thị Ngọc")
    question = await act(lan, press=question, label="Nữ")
    question = await act(lan, "7/8/2013")
    question = await act(lan, press=question, label="Mồ côi")
    question = await act(lan, press=question, label="Xong")
    question = await act(lan, "Cao Văn Hải")
    question = await act(lan, press=question, label="Bố")
    for shown in ("Cao Thị Ngọc", "Nữ", "07/08/2013", "Thôn Đông", "Mồ côi", "Cao Văn Hải"):
        assert shown in question.text, (shown, question.text)


async def test_commands_mid_flow_and_a_restart(fake, db, clock, commune):
    bot = await start_bot(fake, db, clock)
    try:
        lan = await joined(bot, 4001, "Lan", COLLABORATOR_ROLE, "Thôn Đông")
        question = await _to(lan, "birth")
        # Walk away: a restart, three hours later, then the date typed at the question.
        await stop_application(bot.application)
        bot = await start_bot(fake, db, clock)
        clock.set(clock.now() + dt.timedelta(hours=3))
        question = await act(lan, "5/6/2016")
        assert "Điều 10" in question.text, question.text
        question = await act(lan, press=question, label="Khuyết tật")
        # A command mid-flow is told plainly what happened to the child half-added.
        for command in ("/start", "/baotin", "/tre"):
            lan.mark()
            await lan.send(command)
            said = " ".join(m.text for m in await lan.settle(first=10.0))
            assert said, command
        assert "Hoàng Văn Tú" not in " ".join(
            c.full_name for c in await children(bot))
        stale = await act(lan, press=question, label="Xong")
        assert "/tre" in stale.text
        lan.mark()
        await lan.send("/huy")
        await lan.settle()
    finally:
        await stop_application(bot.application)
    assert fake.violations == []


async def test_a_long_destination_in_two_pieces(bot, people):
    lan = people["dong"]
    card = await add_child(lan, "Tạ Văn Lâm", "2015")
    reasons = await act(lan, press=card, label="Ra khỏi danh sách")
    prompt = await act(lan, press=reasons, label="Chuyển đi xã khác")
    assert "chuyển đến" in prompt.text
    where = ("Xã Hòa Bình, huyện Tân Lạc, tỉnh Hòa Bình. " * 110)[:4200]
    refused = await act(lan, where[:4096])
    assert "quá dài" in refused.text
    tail = await act(lan, where[4096:])  # 104 characters: would fit, but it is only the rest
    assert "phần còn lại" in tail.text, tail.text
    (child,) = await children(bot)
    assert child.status == "active"
    card = await act(lan, "Xã Hòa Bình, huyện Tân Lạc")
    (child,) = await children(bot)
    assert child.status == "left" and child.leave_note == "Xã Hòa Bình, huyện Tân Lạc"


async def test_two_collaborators_on_one_child(bot, people):
    lan, officer = people["dong"], people["officer"]
    card = await add_child(lan, "Phan Thị Lụa", "2015")
    listing = await act(officer, "/tre")
    listing = await act(officer, press=listing, label="Thôn Đông")
    other = await act(officer, press=listing, label="Phan Thị Lụa")
    # Both press "BHYT" on the same card revision at the same moment.
    lan.mark()
    officer.mark()
    await lan.press(card, "BHYT")
    await officer.press(other, "BHYT")
    said = [(await lan.reply()).text, (await officer.reply()).text]
    assert sum("vừa thay đổi" in s for s in said) == 1, said
    async with bot.db.session() as session:
        events = (await session.exec(select(RegisterEvent).where(
            RegisterEvent.kind == "support"))).all()
    # add_child set BHYT to missing; exactly one more step was recorded.
    assert len(events) == 1, [e.changes for e in events]


async def test_another_villages_collaborator_presses_a_forwarded_card(bot, people):
    lan, minh = people["dong"], people["doai"]
    card = await add_child(lan, "Mạc Văn Sơn", "2016")
    before = (await children(bot))[0]
    raw = {**card.raw, "chat": {"id": minh.chat_id, "type": "private"},
           "forward_origin": {"type": "user", "date": card.raw["date"],
                              "sender_user": lan.user}}
    forwarded = SentMessage(minh.chat_id, card.message_id, raw)
    for button in card.buttons:
        minh.mark()
        await minh.press_data(forwarded, button["callback_data"])
        said = " ".join(m.text for m in await minh.settle(first=10.0))
        assert said, button
        assert "Mạc Văn Sơn" not in said, (button, said)
    (after,) = await children(bot)
    assert after.revision == before.revision and after.status == "active"


TYPED_VALUES = ("Nguyễn Văn An", "Lê Thị <b>Hoa</b>", "😀", "Trần Bình 🌸", "3/4/2015", "3.4.15",
                "năm 2016", "32/1/2015", "1/1/2030", "nam", "nữ", "Bà ngoại & <i>cô</i>")
COMMANDS = ("/start", "/tre", "/baotin")


def _expected(step: str, before: dict, value: str) -> dict:
    """The add flow's data after `value` is typed at `step`, by the rules themselves."""
    from domain.register import clean_name, clean_text, parse_sex

    after = dict(before)
    try:
        if step == "name":
            after["name"] = clean_name(value)
        elif step == "sex":
            sex = parse_sex(value)
            if sex is not None:
                after["sex"] = str(sex)
            else:
                after["name"] = clean_name(f"{before['name']} {value}")
        elif step == "birth":
            birth = parse_birth(value, today=TODAY)
            after["birth"] = {"year": birth.year,
                              "date": birth.date.isoformat() if birth.date else None}
        elif step == "risk":
            after["risk"] = clean_text(value)
        elif step == "caregiver":
            after["caregiver"] = clean_text(value, limit=200)
    except InvalidInput:
        return dict(before)
    return after


@pytest.mark.parametrize("seed", range(30))
async def test_random_add_sequences_keep_the_invariants(fake, db, clock, commune, seed, caplog):
    """Type a value, press a visible button, press a stale one, send a command, restart:
    after each step the bot has answered with no error in its log, a typed value is in the
    field asked for (or refused and stored nowhere), and a saved record is what the last
    look before Save showed."""
    caplog.set_level(logging.INFO)
    rng = random.Random(seed)
    clock.set(dt.datetime(2026, 12, 3, 3, 0, tzinfo=dt.UTC))
    bot = await start_bot(fake, db, clock)
    try:
        lan = await joined(bot, 4001, "Lan", COLLABORATOR_ROLE, "Thôn Đông")
        seen: list[SentMessage] = []
        log: list[str] = []
        for step in range(rng.randint(8, 15)):
            action = rng.choice(("type", "type", "type", "press", "press", "press", "stale",
                                 "command", "restart"))
            where = f"seed {seed} step {step} {action} after {log}"
            before = await _pending(bot, lan.id)
            if action == "restart":
                log.append("restart")
                await stop_application(bot.application)
                bot = await start_bot(fake, db, clock)
                continue
            lan.mark()
            if before is None and action in ("type", "press"):
                log.append("open")  # nothing under way: start adding
                await lan.send("/tre")
                listing = next(m for m in await lan.settle(first=10.0)
                               if any("Thêm trẻ" in b["text"] for b in m.buttons))
                seen.append(await act(lan, press=listing, label="Thêm trẻ"))
                continue
            saved_before = len(await children(bot))
            shown: SentMessage | None = None
            if action == "type":
                value = rng.choice(TYPED_VALUES)
                log.append(f"type {value!r}")
                await lan.send(value)
            elif action == "command":
                command = rng.choice(COMMANDS)
                log.append(command)
                await lan.send(command)
            else:
                pool = [m for m in (seen[-1:] if action == "press" else seen[:-1])
                        if [b for b in m.buttons if "Hủy" not in b["text"]]]
                if not pool:
                    continue
                shown = rng.choice(pool)
                button = rng.choice([b for b in shown.buttons if "Hủy" not in b["text"]])
                log.append(f"{action} {button['text']!r}")
                await lan.press_data(shown, button["callback_data"])
            got = await lan.settle(first=10.0)
            assert got and all(m.text for m in got), where
            seen += [m for m in got if m.buttons]
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR], where
            after = await _pending(bot, lan.id)
            if action == "type" and before is not None:
                expected = _expected(_step(before), before, value)
                assert after is not None, where
                assert {k: v for k, v in after.items() if k != "continued"} == expected, where
            saved = await children(bot)
            if len(saved) > saved_before:
                child = saved[-1]
                assert before is not None and shown is not None, where
                assert child.full_name == before["name"], where
                assert child.birth_year == before["birth"]["year"], where
                assert child.sex == before["sex"] and child.groups == before.get("groups", [])
                assert child.caregiver == (before.get("caregiver") or None), where
                look = next((m for m in reversed(seen[:-1]) if "Sẽ lưu" in m.text), None)
                assert look is not None and child.full_name in look.text, where
    finally:
        await stop_application(bot.application)
    assert fake.violations == []
