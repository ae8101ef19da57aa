"""Scripted people on the fake Telegram: they send, press buttons and wait for replies."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.fakeapi.server import Chat, FakeTelegram

_query_ids = itertools.count(1)


@dataclass
class SentMessage:
    """A message the bot sent, as it is now (edits included)."""

    chat_id: int
    message_id: int
    raw: dict

    @property
    def text(self) -> str:
        return self.raw.get("text") or self.raw.get("caption") or ""

    @property
    def html(self) -> str:
        return self.raw.get("_html", "")

    @property
    def buttons(self) -> list[dict]:
        """Inline buttons, row by row flattened, each {"text", "callback_data"|"url"}."""
        keyboard = self.raw.get("_keyboard") or {}
        rows = keyboard.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def reply_keyboard(self) -> list[str]:
        keyboard = self.raw.get("_keyboard") or {}
        rows = keyboard.get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    def button(self, label: str) -> dict:
        """The first inline button whose text contains `label`."""
        for button in self.buttons:
            if label in button["text"]:
                return button
        labels = [b["text"] for b in self.buttons]
        raise LookupError(f"no button {label!r} in {labels}")

    def __repr__(self) -> str:
        return f"SentMessage({self.message_id}, {self.text[:60]!r}, buttons={len(self.buttons)})"


class _Participant:
    def __init__(self, server: FakeTelegram, chat_id: int) -> None:
        self.server = server
        self.chat_id = chat_id
        self._seen = 0

    @property
    def chat(self) -> Chat:
        return self.server.chats[self.chat_id]

    def mark(self) -> None:
        """Forget earlier events: the next wait sees only what comes after now."""
        self._seen = len(self.chat.events)

    async def replies(self, count: int = 1, timeout: float = 10.0) -> list[SentMessage]:
        """Wait for `count` new messages or edits from the bot in this chat and return them
        (as they are now)."""
        target = self._seen + count
        try:
            await self.server.wait_for_events(self.chat_id, target, timeout)
        except TimeoutError:
            got = [self.chat.messages.get(mid, {}).get("text", "?")[:80]
                   for _e, mid in self.chat.events[self._seen:]]
            raise AssertionError(
                f"expected {count} bot message(s) in chat {self.chat_id}, got {got}") from None
        events = self.chat.events[self._seen:target]
        self._seen = target
        return [self.message(mid) for _event, mid in events if mid in self.chat.messages]

    def unread(self) -> list[SentMessage]:
        """What the bot sent or edited here since the last mark, without waiting."""
        events = self.chat.events[self._seen:]
        self._seen = len(self.chat.events)
        return [self.message(mid) for _event, mid in events if mid in self.chat.messages]

    async def reply(self, timeout: float = 10.0) -> SentMessage:
        (message,) = await self.replies(1, timeout)
        return message

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0, *,
                     first: float | None = None) -> list[SentMessage]:
        """Collect whatever the bot sends until it has been quiet for `quiet` seconds;
        `first`: when an answer is owed, wait up to that long for its first message (a busy
        machine may take longer than `quiet` to start answering)."""
        deadline = time.monotonic() + timeout
        collected: list[SentMessage] = []
        wait = quiet if first is None else first
        while time.monotonic() < deadline:
            try:
                collected += await self.replies(1, timeout=wait)
            except AssertionError:
                return collected
            wait = quiet
        return collected

    def message(self, message_id: int) -> SentMessage:
        return SentMessage(self.chat_id, message_id, self.chat.messages[message_id])

    @property
    def last(self) -> SentMessage:
        """The newest message the bot sent in this chat."""
        bot_id = self.server.bot_id
        ids = [mid for mid, m in self.chat.messages.items()
               if m.get("from", {}).get("id") == bot_id]
        return self.message(max(ids))


class FakeUser(_Participant):
    """A person in a private chat with the bot."""

    def __init__(self, server: FakeTelegram, user_id: int, first_name: str, *,
                 username: str | None = None, last_name: str | None = None) -> None:
        self.user = server.add_user(user_id, first_name, username=username, last_name=last_name)
        super().__init__(server, user_id)
        self.id = user_id
        self.last_message_id: int | None = None  # of the newest message this person sent

    # --- what a person does ---------------------------------------------------------

    def _base_message(self, chat: Chat) -> dict:
        return {"message_id": self.server.next_message_id(chat), "date": int(time.time()),
                "chat": chat.as_dict(), "from": self.user}

    async def _send(self, content: dict, chat_id: int | None = None) -> int:
        chat = self.server.chats[chat_id or self.chat_id]
        if chat.type == "private":
            chat.started = True
        message = {**self._base_message(chat), **content}
        chat.messages[message["message_id"]] = message
        self.last_message_id = message["message_id"]
        return await self.server.push_update("message", message)

    async def send(self, text: str, *, chat_id: int | None = None,
                   reply_to: SentMessage | None = None) -> int:
        """Type and send `text`; a leading /command becomes a bot_command entity;
        `reply_to` answers a message with Telegram's "Reply"."""
        content: dict[str, Any] = {"text": text}
        if reply_to is not None:
            content["reply_to_message"] = {k: v for k, v in reply_to.raw.items()
                                           if not k.startswith("_")}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.encode("utf-16-le")) // 2}]
        return await self._send(content, chat_id)

    async def edit(self, message_id: int, text: str, *, chat_id: int | None = None) -> int:
        """Edit a message this person sent (its text, or its caption for a photo): Telegram
        sends the whole message again as an `edited_message` update, same id, new words."""
        chat = self.server.chats[chat_id or self.chat_id]
        original = chat.messages[message_id]
        if original.get("from", {}).get("id") != self.id:
            raise ValueError("a user can only edit their own messages")
        field_name = "caption" if "caption" in original or "photo" in original else "text"
        edited = {**original, field_name: text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        chat.messages[message_id] = edited
        return await self.server.push_update("edited_message", edited)

    async def start(self, payload: str | None = None) -> int:
        """Press Start (optionally through a t.me/bot?start=payload link)."""
        return await self.send("/start" + (f" {payload}" if payload else ""))

    async def send_location(self, latitude: float, longitude: float) -> int:
        return await self._send({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(self, phone_number: str, *, own: bool = True) -> int:
        contact = {"phone_number": phone_number, "first_name": self.user["first_name"]}
        if own:
            contact["user_id"] = self.id
        return await self._send({"contact": contact})

    async def send_photo(self, data: bytes = b"\xff\xd8fake-jpeg\xff\xd9", *,
                         caption: str | None = None) -> int:
        file_id = self.server.store_file(data, kind="photos", ext="jpg")
        content: dict[str, Any] = {"photo": [{"file_id": file_id, "file_unique_id": f"u{file_id}",
                                              "width": 800, "height": 600,
                                              "file_size": len(data)}]}
        if caption:
            content["caption"] = caption
        return await self._send(content)

    async def send_voice(self, data: bytes = b"OggS-fake-voice", duration: int = 3) -> int:
        file_id = self.server.store_file(data, kind="voice", ext="oga")
        return await self._send({"voice": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                           "duration": duration, "file_size": len(data)}})

    async def send_document(self, data: bytes, file_name: str) -> int:
        file_id = self.server.store_file(data, kind="documents", ext=file_name.rsplit(".", 1)[-1])
        return await self._send({"document": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                              "file_name": file_name, "file_size": len(data)}})

    async def send_sticker(self) -> int:
        file_id = self.server.store_file(b"sticker", kind="stickers", ext="webp")
        return await self._send({"sticker": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                             "width": 512, "height": 512, "is_animated": False,
                                             "is_video": False, "type": "regular"}})

    async def press(self, message: SentMessage, label: str) -> int:
        """Press the inline button labelled (in part) `label` under `message`."""
        button = message.button(label)
        if "callback_data" not in button:
            raise LookupError(f"button {label!r} is a link, not a callback button")
        return await self.press_data(message, button["callback_data"])

    async def press_data(self, message: SentMessage, data: str) -> int:
        """Send a callback query with any data (a forged or stale button).

        Like in Telegram, one can only press buttons of messages in one's own chats.
        """
        if message.chat_id != self.chat_id and self.server.chats[message.chat_id].type == "private":
            raise ValueError("a user can only press buttons in their own chats")
        query_id = str(next(_query_ids))
        query = {"id": query_id, "from": self.user, "chat_instance": str(message.chat_id),
                 "data": data,
                 "message": {k: v for k, v in message.raw.items() if not k.startswith("_")}}
        self.server.callback_queries[query_id] = {"answered": False}
        return await self.server.push_update("callback_query", query)

    async def press_inline(self, data: str) -> int:
        """Press a button of a message sent through inline mode: the query has no message and
        no chat, only an inline_message_id."""
        query_id = str(next(_query_ids))
        query = {"id": query_id, "from": self.user, "chat_instance": "inline",
                 "inline_message_id": f"inline-{query_id}", "data": data}
        self.server.callback_queries[query_id] = {"answered": False}
        return await self.server.push_update("callback_query", query)

    def block(self) -> None:
        self.chat.blocked = True

    def unblock(self) -> None:
        self.chat.blocked = False

    def commands(self) -> list[str]:
        """The command menu Telegram would show this user."""
        scoped = self.server.commands.get(f"chat:{self.id}")
        chosen = scoped if scoped is not None else self.server.commands.get("default", [])
        return [c["command"] for c in chosen]


class FakeGroup(_Participant):
    """A group chat with the bot in it; people in it send as themselves."""

    def __init__(self, server: FakeTelegram, chat_id: int, title: str) -> None:
        server.add_group(chat_id, title)
        super().__init__(server, chat_id)
        self.id = chat_id

    async def send(self, user: FakeUser, text: str) -> int:
        return await user.send(text, chat_id=self.chat_id)

    async def remove_bot(self) -> None:
        self.chat.blocked = True


async def wait_until(predicate, timeout: float = 20.0, interval: float = 0.02) -> None:  # noqa: ANN001
    """Poll `predicate` until true (for state the bot changes without messaging). The bound
    only decides when to give up: a loaded CI machine has taken more than 5 s to deliver an
    outbox row."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
