"""Webhook mode: an aiohttp server that takes updates from Telegram, plus /healthz.

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token;
anything without it is refused. Telegram retries an update it thinks failed, and
several instances may sit behind one URL, so update ids are claimed in the database.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import urllib.parse

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.errors import apologise, chat_to_answer
from bot.runtime import Runtime
from storage import updates as update_store

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(webhook_url: str | None) -> str:
    path = urllib.parse.urlparse(webhook_url or "").path
    return path if path and path != "/" else "/telegram"


# Update ids are stored in a BIGINT column; Telegram's are far smaller (they count up from
# a random 32-bit start), so anything outside this range is not from Telegram.
MAX_UPDATE_ID = 2**63 - 1


def decode_update(body: bytes, bot: Bot) -> tuple[Update | None, str]:
    """The update in a webhook body, or None and why it was refused (no content in the why).

    Telegram posts one JSON object with an integer update_id; anything else (an array,
    null, a number, absurd or non-integer ids, bodies nested too deep to parse) is refused.
    """
    try:
        data = json.loads(body)
    except RecursionError:
        return None, "JSON nested too deep"
    except ValueError:  # JSONDecodeError and undecodable bytes
        return None, "not JSON"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__}, not an object"
    update_id = data.get("update_id")
    if type(update_id) is not int:
        return None, "update_id missing or not an integer"
    if not 0 <= update_id <= MAX_UPDATE_ID:
        return None, "update_id out of range"
    try:
        update = Update.de_json(data, bot)
    except RecursionError:
        return None, "update nested too deep"
    except Exception as exc:  # noqa: BLE001 - whatever PTB cannot read is not an update
        return None, f"not an update ({exc.__class__.__name__})"
    return update, ""


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
        update, problem = decode_update(await request.read(), self.application.bot)
        if update is None:
            log.warning("webhook body refused: %s", problem)
            return web.Response(status=400)
        try:
            async with self.runtime.db.session() as session:
                fresh = await update_store.claim_update(update.update_id, session=session,
                                                        now=self.runtime.clock.now())
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            return await self._database_down(update, exc)
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

    async def _database_down(self, update: Update, error: Exception) -> web.Response:
        """The update cannot be stored. Answering 500 would make Telegram retry for minutes
        while the person waits in silence: tell them now that it was not saved, and accept
        the update. Only when even that fails is it left to Telegram's retries."""
        log.warning("database unavailable, update=%s not stored: %s", update.update_id,
                    error.__class__.__name__)
        chat_id = chat_to_answer(update)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        if chat_id is not None and await apologise(self.application.bot, chat_id, saved=False):
            return web.Response(status=200)
        return web.Response(status=503)

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
            self.port = site._server.sockets[0].getsockname()[1]
        log.info("webhook server on %s:%s%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
