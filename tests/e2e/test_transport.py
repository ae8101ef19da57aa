"""The Bot API transport (bot/transport.py) over real HTTP: what it sends, how long it waits,
and which PTB error each failure becomes (the outbox sender relies on the difference:
TimedOut may have reached Telegram, NetworkError did not)."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiohttp import web
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut

from bot.fakeapi import FakeUser
from bot.fakeapi.server import SANDBOX_TOKEN
from bot.transport import AiohttpRequest, NotSent


def _bot(url: str, **request_kwargs) -> Bot:
    return Bot(SANDBOX_TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot",
               request=AiohttpRequest(8, **request_kwargs),
               get_updates_request=AiohttpRequest(1, **request_kwargs))


class _Stub:
    """A Bot API that answers every call after `delay` seconds and counts the calls."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[str] = []
        self.targets: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(request.match_info.get("method", ""))
        self.targets.append(str(request.url))
        await request.read()
        await asyncio.sleep(self.delay)
        if request.match_info.get("method", "").lower() == "getme":
            return web.json_response({"ok": True, "result": {
                "id": 1, "is_bot": True, "first_name": "Bot", "username": "stub_bot"}})
        return web.json_response({"ok": True, "result": []})

    async def __aenter__(self) -> _Stub:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.runner.cleanup()


async def test_messages_files_and_downloads_reach_the_fake(fake):
    fake.limits.enabled = False
    lan = FakeUser(fake, 1001, "Lan")
    fake.chats[1001].started = True
    async with _bot(fake.url) as bot:
        sent = await bot.send_message(lan.id, "<b>Chào</b> bạn &amp; gia đình",
                                      parse_mode=ParseMode.HTML)
        chat = fake.chats[1001]
        assert chat.events[-1] == ("sent", sent.message_id)
        assert chat.messages[sent.message_id]["text"] == "Chào bạn & gia đình"
        # A file upload goes as multipart, with its name, beside the other fields.
        data = "Mã;Tên\n1;Nguyễn Văn A\n".encode()
        document = await bot.send_document(lan.id, io.BytesIO(data),
                                           filename="danh sách trẻ.csv", caption="Danh sách")
        assert document.document.file_name == "danh sách trẻ.csv"  # as typed, not %-encoded
        assert fake.files[document.document.file_id][1] == data
        # And back: a download is a GET on the file URL.
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == data


async def test_an_answer_that_never_comes_is_a_timeout():
    async with _Stub(delay=0) as stub, _bot(stub.url, read_timeout=0.3) as bot:
        stub.delay = 5
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimedOut):
            await bot.send_message(1, "hello")
        assert asyncio.get_running_loop().time() - started < 2
        assert stub.calls[-1] == "sendMessage"  # it was sent: TimedOut means "may have arrived"


async def test_a_long_poll_may_take_longer_than_the_read_timeout():
    # PTB adds the poll's own timeout to the read timeout for getUpdates.
    async with _Stub(delay=0) as stub, _bot(stub.url, read_timeout=0.3) as bot:
        stub.delay = 0.6
        assert await bot.get_updates(timeout=1) == ()


async def test_a_refused_connection_is_a_network_error():
    async with _Stub(delay=0) as stub:
        url = f"{stub.url}/bot{SANDBOX_TOKEN}/sendMessage"
    request = AiohttpRequest(1)  # the stub is gone: nothing listens on its port
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(url)
        assert not isinstance(raised.value, TimedOut)  # not sent: the outbox may retry
        assert SANDBOX_TOKEN not in str(raised.value)  # it is stored as the row's last error
    finally:
        await request.shutdown()


async def test_a_full_pool_times_out_without_sending():
    async with _Stub(delay=1.0) as stub:
        request = AiohttpRequest(1, pool_timeout=0.2)
        await request.initialize()
        try:
            url = f"{stub.url}/bot{SANDBOX_TOKEN}/sendMessage"
            first = asyncio.create_task(request.post(url))
            await asyncio.sleep(0.1)  # the one connection is busy with the first request
            with pytest.raises(NotSent, match="not sent") as raised:
                await request.post(url)
            # Never sent, so safe to send again: the outbox retries it (not "uncertain").
            assert isinstance(raised.value, NetworkError)
            assert not isinstance(raised.value, TimedOut)
            await first
            assert stub.calls.count("sendMessage") == 1
        finally:
            await request.shutdown()


async def test_a_connection_that_never_opens_times_out_without_sending():
    """A server that accepts TCP but never answers the TLS handshake: the connection is
    not open after connect_timeout, so nothing of the request left: NotSent (retried by the
    outbox), not TimedOut (uncertain)."""
    received: list[bytes] = []
    writers = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # kept open, never answered
        received.append(await reader.read(65536))

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(1, connect_timeout=0.3)
    await request.initialize()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(NotSent, match="not sent") as raised:
            await request.post(f"https://127.0.0.1:{port}/bot{SANDBOX_TOKEN}/sendMessage")
        assert asyncio.get_running_loop().time() - started < 3
        assert not isinstance(raised.value, TimedOut)
        # All the server ever got was the start of a TLS handshake, no HTTP request.
        assert received and received[0][:1] == b"\x16" and b"sendMessage" not in received[0]
    finally:
        await request.shutdown()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_the_proxy_from_the_environment_is_used_and_no_proxy_respected(monkeypatch):
    async with _Stub(delay=0) as proxy, _Stub(delay=0) as direct:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        request = AiohttpRequest(2)
        await request.initialize()  # the environment is read here, once
        try:
            await request.post(f"http://api.telegram.invalid/bot{SANDBOX_TOKEN}/getMe")
        finally:
            await request.shutdown()
        assert proxy.targets == [f"http://api.telegram.invalid/bot{SANDBOX_TOKEN}/getMe"]

        monkeypatch.setenv("no_proxy", "127.0.0.1")
        request = AiohttpRequest(2)
        await request.initialize()
        try:
            await request.post(f"{direct.url}/bot{SANDBOX_TOKEN}/getMe")
        finally:
            await request.shutdown()
        assert len(proxy.targets) == 1 and direct.calls == ["getMe"]
