"""Whose turn it is in the outbox: a poke asks in one read which of its rows may go now and
whether any waits behind an older row of its chat (bot/sender.py `deliver`)."""

from __future__ import annotations

import datetime as dt

from storage import outbox
from storage.models import Delivery

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


async def test_rows_ready_and_rows_waiting_behind_an_older_one_come_from_one_read(db):
    async with db.session() as session:
        older, newer, other, later = await outbox.add_messages([
            Delivery(kind="digest", chat_id=1, text="cũ", due_at=NOW),
            Delivery(kind="notice", chat_id=1, text="mới", due_at=NOW),
            Delivery(kind="notice", chat_id=2, text="khác", due_at=NOW),
            Delivery(kind="notice", chat_id=3, text="sau", due_at=NOW + dt.timedelta(seconds=5)),
        ], session=session)
    async with db.session() as session:  # the older row of chat 1 is being sent
        assert await outbox.claim(older, session=session, now=NOW, instance=1) is not None
    asked = [newer, other, later]
    async with db.session() as session:
        assert await outbox.turns_of(asked, NOW, session=session) == ([(other, 2)], True)
    async with db.session() as session:
        await outbox.finish(older, {"status": "sent", "sent_at": NOW}, session=session)
    # Once the older row is out, the newer one is ready, never "neither ready nor waiting"
    # (the two reads it replaces could see that between them, and the poke stopped).
    async with db.session() as session:
        assert await outbox.turns_of(asked, NOW, session=session) == (
            [(newer, 1), (other, 2)], False)
    async with db.session() as session:  # a row not yet due is neither
        assert await outbox.turns_of([later], NOW, session=session) == ([], False)
