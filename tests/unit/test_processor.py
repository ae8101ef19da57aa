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
