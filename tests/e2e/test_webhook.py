"""Webhook mode: the secret header is checked, repeats are ignored, /healthz answers."""

from __future__ import annotations

import json
import logging
import socket

import aiohttp
import pytest

from bot.app import build_application, start_application, stop_application
from bot.runtime import Runtime
from bot.webhook import SECRET_HEADER, WebhookServer
from tests.conftest import make_settings

SECRET = "s3cret-webhook-token_0123456789"


@pytest.fixture
async def webhook_bot(fake, db, clock, commune):
    runtime = Runtime(settings=make_settings(fake, db), db=db, clock=clock)
    application = build_application(runtime, with_updater=False)
    await start_application(application, runtime, polling=False)
    server = WebhookServer(application, runtime, secret=SECRET, host="127.0.0.1", port=0)
    await server.start()
    url = f"http://127.0.0.1:{server.port}/telegram"
    await application.bot.set_webhook(url, secret_token=SECRET)
    yield fake, server, url
    await server.stop()
    await stop_application(application)
    assert fake.violations == []


def _update(update_id: int, user_id: int, text: str) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_790_000_000, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "Lan"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


async def test_updates_arrive_through_the_webhook(webhook_bot):
    fake, _server, _url = webhook_bot
    from bot.fakeapi import FakeUser

    citizen = FakeUser(fake, 1001, "Lan")
    await citizen.start()
    menu = await citizen.reply()
    assert "Chào Lan" in menu.text
    assert fake.delivered_webhook  # it came through the webhook, not getUpdates


async def test_wrong_or_missing_secret_is_refused(webhook_bot):
    _fake, _server, url = webhook_bot
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
            async with http.post(url, json=_update(5000, 1001, "/start"), headers=headers) as r:
                assert r.status == 403
        async with http.post(url, data=b"not json", headers={SECRET_HEADER: SECRET}) as r:
            assert r.status == 400


async def test_repeated_update_is_processed_once(webhook_bot):
    fake, _server, url = webhook_bot
    from bot.fakeapi import FakeUser

    citizen = FakeUser(fake, 1002, "Lan")
    fake.chats[1002].started = True
    async with aiohttp.ClientSession() as http:
        for _attempt in range(3):  # Telegram retrying the same update
            async with http.post(url, json=_update(7001, 1002, "/start"),
                                 headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
    await citizen.reply()
    assert await citizen.settle(quiet=0.5) == []  # one answer only


async def test_healthz(webhook_bot):
    _fake, server, _url = webhook_bot
    async with (aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{server.port}/healthz") as response):
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] is True


def _nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


BAD_BODIES = {
    "array": json.dumps([_update(7101, 1003, "/start")]).encode(),
    "null": b"null",
    "number": b"42",
    "string": b'"update"',
    "huge update_id": json.dumps(_update(2**70, 1003, "/start")).encode(),
    "negative update_id": json.dumps(_update(-1, 1003, "/start")).encode(),
    "text update_id": json.dumps({**_update(1, 1003, "/start"), "update_id": "abc"}).encode(),
    "float update_id": json.dumps({**_update(1, 1003, "/start"), "update_id": 7102.5}).encode(),
    "boolean update_id": json.dumps({**_update(1, 1003, "/start"), "update_id": True}).encode(),
    "no update_id": json.dumps({"message": _update(1, 1003, "/start")["message"]}).encode(),
    "200,000 levels deep": _nested(200_000),
    "deep inside an update": json.dumps(_update(7103, 1003, "/start"))[:-1].encode()
    + b', "extra": ' + _nested(200_000) + b"}",
    "message of the wrong shape": json.dumps({"update_id": 7104, "message": [1, 2]}).encode(),
    "not UTF-8": b'{"update_id": 7105, "x": "' + bytes([0xFF, 0xFE]) + b'"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_malformed_bodies_get_400_and_one_log_line(webhook_bot, body, caplog):
    fake, _server, url = webhook_bot
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={SECRET_HEADER: SECRET,
                                                      "Content-Type": "application/json"}) as r:
            assert r.status == 400
        caplog.clear()
        async with http.post(url, data=body, headers={SECRET_HEADER: SECRET}) as r:
            assert r.status == 400
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].name == "bot.webhook", records
    assert records[0].exc_info is None and "\n" not in records[0].getMessage()
    # The bot goes on answering real updates.
    from bot.fakeapi import FakeUser

    citizen = FakeUser(fake, 1004, "Lan")
    await citizen.start()
    assert "Chào Lan" in (await citizen.reply()).text


async def test_database_outage_answers_at_once_and_accepts_the_update(webhook_bot, fake):
    """Telegram retries a 500 for minutes while the person waits in silence: instead, when
    the update cannot be stored, the person is told it was not saved, and Telegram gets 200."""
    from bot.fakeapi import FakeUser
    from storage.db import Database

    _fake, server, url = webhook_bot
    citizen = FakeUser(fake, 1005, "Lan")
    fake.chats[1005].started = True
    working = server.runtime.db
    with socket.socket() as closed:  # a port nothing listens on: the database is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    server.runtime.db = Database(f"postgresql+asyncpg://treem@127.0.0.1:{port}/treem")
    try:
        citizen.mark()
        async with aiohttp.ClientSession() as http:
            response = await http.post(url, json=_update(7201, 1005, "/start"),
                                       headers={SECRET_HEADER: SECRET})
            assert response.status == 200
            inline = {"update_id": 7202, "inline_query": {
                "id": "q", "from": {"id": 1005, "is_bot": False, "first_name": "Lan"},
                "query": "", "offset": ""}}
            # A chat-less update cannot be answered: it is left to Telegram's retries.
            response = await http.post(url, json=inline, headers={SECRET_HEADER: SECRET})
            assert response.status == 503
        answer = await citizen.reply(timeout=5)
        assert "chưa được lưu" in answer.text and "113" in answer.text
    finally:
        await server.runtime.db.dispose()
        server.runtime.db = working
    citizen.mark()
    await citizen.start()
    assert "Chào Lan" in (await citizen.reply()).text
