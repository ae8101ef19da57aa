"""Runs the real bot until SIGTERM/SIGINT, in polling or webhook mode."""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot import logsafety
from bot.app import build_application, start_application, stop_application
from bot.i18n import N_, both
from bot.runtime import Runtime
from bot.settings import Settings
from bot.startup import StartupError, check_database
from bot.webhook import WebhookServer, webhook_path
from storage.db import Database

log = logging.getLogger(__name__)


def configure_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Redacting handlers; third-party loggers (which log the token in URLs, request bodies
    and SQL parameters at DEBUG) at INFO or above (bot.logsafety)."""
    logsafety.configure(level, secrets)


async def _start(application: Application, runtime: Runtime, settings: Settings, *,
                 polling: bool) -> None:
    """start_application, with what an administrator can fix turned into StartupError."""
    try:
        await start_application(application, runtime, polling=polling)
    except InvalidToken:
        raise StartupError(both(N_("Telegram refused the bot token (TELEGRAM_BOT_TOKEN): "
                                   "check it with @BotFather."))) from None
    except (NetworkError, TimedOut) as exc:
        raise StartupError(both(
            N_("Cannot reach Telegram at {url} ({reason}): check the network, or "
               "TELEGRAM_API_URL."), url=settings.telegram_api_url,
            reason=exc.__class__.__name__)) from None


async def _start_webhook_server(server: WebhookServer) -> None:
    try:
        await server.start()
    except OSError as exc:
        raise StartupError(both(
            N_("Cannot listen on {host}:{port} for the webhook ({reason}): another program "
               "uses this port, or the address is wrong. Change TREEM_HTTP_PORT or "
               "TREEM_HTTP_HOST, or stop the other program."),
            host=server.host, port=server.port, reason=exc.strerror or exc)) from None


async def run_bot(settings: Settings, *, stop_event: asyncio.Event | None = None) -> None:
    """Runs until stop_event (or SIGTERM/SIGINT); StartupError when it cannot start."""
    db = Database(settings.database_url, connect_timeout=settings.db_connect_timeout)
    try:
        await check_database(db)
    except StartupError:
        await db.dispose()
        raise
    runtime = Runtime(settings=settings, db=db)
    webhook = settings.mode == "webhook"
    application = build_application(runtime, with_updater=not webhook)
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_event.set)
    server = None
    try:
        await _start(application, runtime, settings, polling=not webhook)
        if webhook:
            server = WebhookServer(
                application, runtime, secret=settings.webhook_secret.get_secret_value(),
                host=settings.http_host, port=settings.http_port,
                path=webhook_path(settings.webhook_url))
            await _start_webhook_server(server)
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES, max_connections=40)
        await stop_event.wait()
        log.info("stopping: finishing updates in progress")
    finally:
        if server is not None:
            await server.stop()
        await stop_application(application)  # also after a failed start: it stops what ran
        await runtime.db.dispose()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
