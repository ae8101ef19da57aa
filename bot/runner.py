"""Runs the real bot until SIGTERM/SIGINT, in polling or webhook mode."""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update

from bot.app import build_application, start_application, stop_application
from bot.runtime import Runtime
from bot.settings import Settings
from bot.webhook import WebhookServer, webhook_path
from storage.db import Database

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs, which contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def run_bot(settings: Settings, *, stop_event: asyncio.Event | None = None) -> None:
    runtime = Runtime(settings=settings, db=Database(settings.database_url))
    webhook = settings.mode == "webhook"
    application = build_application(runtime, with_updater=not webhook)
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_event.set)
    server = None
    try:
        await start_application(application, runtime, polling=not webhook)
        if webhook:
            server = WebhookServer(
                application, runtime, secret=settings.webhook_secret.get_secret_value(),
                host=settings.http_host, port=settings.http_port,
                path=webhook_path(settings.webhook_url))
            await server.start()
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES, max_connections=40)
        await stop_event.wait()
        log.info("stopping: finishing updates in progress")
    finally:
        if server is not None:
            await server.stop()
        await stop_application(application)
        await runtime.db.dispose()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
