"""One chat's updates run in order; other chats do not wait for it."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.processor import PerChatOrderedProcessor


def _update(update_id: int, chat_id: int) -> Update:
    message = Message(update_id, None, Chat(chat_id, "private"), text=str(update_id))
    return Update(update_id, message=message)


async def test_same_chat_in_order_other_chats_concurrently():
    processor = PerChatOrderedProcessor(16)
    log: list[tuple[str, int]] = []
    slow_chat_started = asyncio.Event()

    async def work(chat_id: int, update_id: int, delay: float) -> None:
        log.append(("start", update_id))
        if chat_id == 1:
            slow_chat_started.set()
        await asyncio.sleep(delay)
        log.append(("end", update_id))

    tasks = [asyncio.create_task(processor.process_update(_update(i, 1), work(1, i, 0.05)))
             for i in range(1, 4)]
    await slow_chat_started.wait()
    other = asyncio.create_task(processor.process_update(_update(99, 2), work(2, 99, 0)))
    await asyncio.gather(*tasks, other)
    chat1 = [entry for entry in log if entry[1] != 99]
    assert chat1 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 3), ("end", 3)]
    assert log.index(("end", 99)) < log.index(("end", 1))  # chat 2 did not wait for chat 1
    assert processor._locks == {}  # no lock kept for idle chats


async def test_an_update_waiting_behind_a_slow_one_keeps_its_place_across_instances():
    """Instance A has updates 1 (slow, longer than a lease) and 2 of a chat; instance B
    has 3. Update 2 waits in A behind 1 for more than its lease: it must still run before
    3 (its lease is renewed while it waits, so B does not take it for dead)."""
    import uuid

    import pytest
    import redis.asyncio as redis

    from bot.chatturns import ChatTurns

    client = redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:  # noqa: BLE001
        await client.aclose()
        pytest.skip("no Redis at 127.0.0.1:6379")
    namespace = f"test:{uuid.uuid4().hex}:"
    turns_a, turns_b = ChatTurns(client, namespace), ChatTurns(client, namespace)
    for turns in (turns_a, turns_b):
        turns.LEASE = 0.3
    a = PerChatOrderedProcessor(8, turns=turns_a)
    b = PerChatOrderedProcessor(8, turns=turns_b)
    order: list[int] = []

    async def work(update_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        order.append(update_id)

    try:
        for processor, update_id in ((a, 1), (a, 2), (b, 3)):  # received in this order
            await processor.announce(_update(update_id, 7))
        tasks = [asyncio.create_task(a.process_update(_update(1, 7), work(1, 1.0))),
                 asyncio.create_task(a.process_update(_update(2, 7), work(2, 0))),
                 asyncio.create_task(b.process_update(_update(3, 7), work(3, 0)))]
        await asyncio.sleep(0.7)  # more than two leases: 2 still waits behind 1 in A
        _queue, lease_prefix = turns_a._keys(7)
        assert await client.exists(f"{lease_prefix}2") == 1  # alive: B must wait for it
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert order == [1, 2, 3]
        assert await client.exists(f"{lease_prefix}2") == 0  # done: nothing left behind
    finally:
        await client.aclose()
