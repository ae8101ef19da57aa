"""Webhook mode: an aiohttp server that takes updates from Telegram, plus /healthz.

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token;
anything without it is refused. Telegram retries an update it thinks failed, and
several instances may sit behind one URL, so update ids are claimed in the database.
"""

from __future__ import annotations

import hmac
import json
import logging
import urllib.parse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.runtime import Runtime
from storage import updates as update_store

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(webhook_url: str | None) -> str:
    path = urllib.parse.urlparse(webhook_url or "").path
    return path if path and path != "/" else "/telegram"


class WebhookServer:
    def __init__(self, application: Application, runtime: Runtime, *, secret: str,
                 host: str, port: int, path: str = "/telegram") -> None:
        self.application = application
        self.runtime = runtime
        self._secret = secret.encode("utf-8")
        self.host, self.port, self.path = host, port, path
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=2 * 1024 * 1024)
        self.app.router.add_post(path, self.receive_update)
        self.app.router.add_get("/healthz", self.healthz)

    async def receive_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook call with a wrong or missing secret refused")
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        async with self.runtime.db.session() as session:
            fresh = await update_store.claim_update(update.update_id, session=session,
                                                    now=self.runtime.clock.now())
        if fresh:
            # Take the update's place in its chat's queue across instances (Redis) before
            # Telegram hears back, so the chat's next update, wherever it lands, waits for it.
            announce = getattr(self.application.update_processor, "announce", None)
            if announce is not None:
                await announce(update)
            await self.application.update_queue.put(update)
        else:
            log.info("repeated update_id=%s ignored", update.update_id)
        return web.Response(status=200)

    async def healthz(self, _request: web.Request) -> web.Response:
        db_ok = await self.runtime.db.ping()
        body = {"status": "ok" if db_ok else "degraded", "database": db_ok,
                "bot": self.runtime.bot_username}
        return web.json_response(body, status=200 if db_ok else 503)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        log.info("webhook server on %s:%s%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
