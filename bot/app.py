"""Builds the Application and runs its life cycle. All wiring is here."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import ssl

import httpx
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.chatturns import ChatTurns
from bot.commands import send_owed_commands, sync_all_commands
from bot.errors import on_error
from bot.flood import FloodGuard
from bot.i18n import _
from bot.jobs import (
    CALENDAR_JOBS_INTERVAL,
    CASE_JOBS_INTERVAL,
    OUTBOX_INTERVAL,
    PLAN_INTERVAL,
    REGISTER_JOBS_INTERVAL,
    REPORT_JOBS_INTERVAL,
    RETENTION_INTERVAL,
    ROUND_JOBS_INTERVAL,
    calendar_jobs,
    case_jobs,
    is_active,
    outbox_jobs,
    plan_calendar,
    plan_jobs,
    refresh_case_deadlines,
    register_jobs,
    report_jobs,
    retention_jobs,
    round_jobs,
    send_outbox,
)
from bot.leader import Leadership
from bot.processor import PerChatOrderedProcessor
from bot.ratelimit import FailSafeSlots, RedisSlots, TelegramRateLimiter
from bot.runtime import Runtime, TreemContext, attach_runtime, get_runtime
from bot.sender import Sender
from bot.startup import check_data_key
from bot.transport import AiohttpRequest
from domain import workdays
from handlers import (
    calendar,
    case_audit,
    case_forms,
    case_list,
    cases,
    data_rights,
    edits,
    fallback,
    interruptions,
    members,
    new_case,
    register,
    register_files,
    report,
    rounds,
    start,
    stats,
    targets,
)
from handlers.cases import open_case_button
from storage import migrate
from storage import updates as update_store
from storage.crypto import use_keyring

log = logging.getLogger(__name__)

PROCESSED_UPDATES_KEEP = dt.timedelta(days=2)
INTERRUPTIONS_BEFORE, INTERRUPTIONS_AFTER = -10, 10  # handler groups around the features
EDITS = -20  # before everything: an edited message never reaches a feature as a new one
DUE_REFRESH_TASK = "treem.due-refresh"
REDIS_KEY = "treem.redis"


def build_application(runtime: Runtime, *, with_updater: bool = True) -> Application:
    settings = runtime.settings
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    # The installation's corrections to the holidays package (deadlines, reminder days).
    workdays.configure(settings.extra_holidays, settings.extra_working_days)
    token = settings.telegram_bot_token.get_secret_value()
    redis_client = _redis_client(settings.redis_url)
    # Keys per bot (its numeric id, not the secret part of the token).
    namespace = f"treem:{token.split(':', 1)[0]}:"
    slots = FailSafeSlots(RedisSlots(redis_client, namespace)) if redis_client else None
    # Turns across instances matter only when several instances take webhooks.
    turns = ChatTurns(redis_client, namespace) \
        if redis_client is not None and settings.mode == "webhook" else None
    flood = FloodGuard(time_scale=settings.rate_limit_time_scale)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.bot_base_url)
        .base_file_url(settings.bot_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(TelegramRateLimiter(max_retries=3,
                                          time_scale=settings.rate_limit_time_scale,
                                          slots=slots, flood=flood))
        .concurrent_updates(PerChatOrderedProcessor(64, flood=flood, turns=turns))
        .context_types(ContextTypes(context=TreemContext))
        .request(_bot_api_request(64))
        .get_updates_request(_bot_api_request(2))
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    attach_runtime(application, runtime)
    application.bot_data[REDIS_KEY] = redis_client
    flood.on_flood = lambda chat_id: application.create_task(
        _tell_flooder(application.bot, chat_id), name=f"flood-notice-{chat_id}")
    attach_outbox(application, runtime)
    register_handlers(application)
    return application


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every connection pool of the process: building one reads the
    certificate bundle (about 35 ms of CPU), and each application has two pools."""
    return httpx.create_ssl_context()


def _bot_api_request(pool_size: int) -> AiohttpRequest:
    return AiohttpRequest(pool_size, ssl_context=_tls_context())


def _redis_client(url: str | None):  # noqa: ANN202 - redis.asyncio.Redis | None
    if not url:
        return None
    import redis.asyncio as redis  # only with REDIS_URL

    # Bounded timeouts: a Redis that does not answer must not hold up replies (each instance
    # then paces alone). Not shorter: a busy event loop can be half a second late, and a
    # false alarm sends an instance to local pacing for 30 s.
    return redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


async def _tell_flooder(bot, chat_id: int) -> None:  # noqa: ANN001
    try:
        await bot.send_message(chat_id, _(
            "You are sending messages very fast; I cannot answer each one. I still read "
            "every message you send. Wait a few seconds, then go on."))
    except TelegramError as exc:
        log.info("flood notice to chat=%s failed: %s", chat_id, exc.__class__.__name__)


def attach_outbox(application: Application, runtime: Runtime) -> None:
    """Who is the active instance, and the sender of the outbox."""
    leadership = Leadership(runtime.db)
    sender = Sender(application.bot, runtime, instance=leadership.instance,
                    dead_claimers=leadership.dead,
                    concurrency=runtime.settings.send_concurrency,
                    reminder_markup=calendar.reminder_markup, case_markup=open_case_button,
                    owed={"media": cases.send_owed_media, "chart": stats.send_owed_chart,
                          "export": stats.send_owed_export, "commands": send_owed_commands,
                          "form": case_forms.send_owed_form,
                          "round_files": rounds.send_owed_round_files,
                          "province_targets": rounds.send_owed_province_table,
                          "access_export": data_rights.send_owed_access_export,
                          "tre_template": register_files.send_owed_template,
                          "register_export": register_files.send_owed_export})

    async def sweep_if_active() -> None:
        if is_active(runtime):
            await send_outbox(application)

    sender.on_wake = sweep_if_active
    leadership.on_queued(sender.wake)  # a broadcast confirmed on another instance
    runtime.leadership, runtime.outbox = leadership, sender


def register_handlers(application: Application) -> None:
    # First: an edit of a message already sent (Telegram's edited_message) is decided in
    # one place and stops there, so no flow takes it as a new message (handlers/edits.py).
    for handler in edits.build_handlers():
        application.add_handler(handler, group=EDITS)
    # Before the features: a command or a press of another flow drops what the person was
    # about to type (a note, a message to a reporter…), with a word, so it never lands
    # somewhere else. After them: a report in progress asks its question again.
    # (Groups of their own: within a group only the first matching handler runs.)
    for handler in interruptions.build_before():
        application.add_handler(handler, group=INTERRUPTIONS_BEFORE)
    for handler in interruptions.build_after():
        application.add_handler(handler, group=INTERRUPTIONS_AFTER)
    # Order matters: within a group the first matching handler wins, so feature
    # handlers come before the fallbacks that answer anything left over.
    for handler in start.build_handlers():
        application.add_handler(handler, group=0)
    for handler in members.build_handlers():
        application.add_handler(handler, group=0)
    for module in (cases, case_list, new_case, case_audit, case_forms, data_rights,
                   register_files, register):
        for handler in module.build_handlers():
            application.add_handler(handler, group=0)
    for handler in calendar.build_handlers():
        application.add_handler(handler, group=0)
    for handler in stats.build_handlers():
        application.add_handler(handler, group=0)
    for handler in rounds.build_handlers():
        application.add_handler(handler, group=0)
    for handler in targets.build_handlers():
        application.add_handler(handler, group=0)
    # The report flow takes every private non-command message, so it comes after the
    # commands above and before the fallbacks.
    for handler in report.build_handlers():
        application.add_handler(handler, group=0)
    for handler in fallback.build_handlers():
        application.add_handler(handler, group=0)
    application.add_error_handler(on_error)


async def prune_processed_updates(context: TreemContext) -> None:
    runtime = context.runtime
    async with runtime.db.session() as session:
        removed = await update_store.prune_updates(
            session=session, before=runtime.clock.now() - PROCESSED_UPDATES_KEEP)
    log.debug("pruned %d processed update ids", removed)


async def start_application(application: Application, runtime: Runtime, *,
                            polling: bool = True, poll_interval: float = 0.0) -> None:
    """Migrate, initialise, sync command menus, start handlers and (optionally) polling.

    Used by the real runner, the sandbox and the tests alike, so they start the same way.
    """
    await migrate.upgrade(runtime.db)
    # The data key (bot.startup.StartupError if missing or wrong); values written before
    # encryption existed are encrypted here, before anyone is answered.
    keyring = runtime.settings.keyring()
    await check_data_key(runtime.db, keyring)
    use_keyring(keyring)
    await application.initialize()
    runtime.bot_username = application.bot.username
    await sync_all_commands(application.bot, runtime)
    # Safe when instances start together: the planner (inserts with ON CONFLICT DO NOTHING)
    # runs on the active instance; the deadline refresh is claimed once, in the background.

    async def became_active() -> None:  # a lone instance at start, or a standby taking over
        runtime.outbox.wake()  # finish what a stopped instance left: broadcasts, notices
        await plan_calendar(runtime)

    runtime.leadership.on_active(became_active)
    await runtime.leadership.start()
    if application.job_queue is not None:
        application.job_queue.run_repeating(prune_processed_updates, interval=3600, first=60,
                                            name="prune-processed-updates")
        application.job_queue.run_repeating(report_jobs, interval=REPORT_JOBS_INTERVAL, first=5,
                                            name="report-jobs")
        application.job_queue.run_repeating(calendar_jobs, interval=CALENDAR_JOBS_INTERVAL,
                                            first=3, name="calendar-jobs")
        application.job_queue.run_repeating(case_jobs, interval=CASE_JOBS_INTERVAL, first=7,
                                            name="case-jobs")
        application.job_queue.run_repeating(round_jobs, interval=ROUND_JOBS_INTERVAL, first=9,
                                            name="round-jobs")
        application.job_queue.run_repeating(plan_jobs, interval=PLAN_INTERVAL,
                                            first=PLAN_INTERVAL, name="plan-calendar")
        application.job_queue.run_repeating(retention_jobs, interval=RETENTION_INTERVAL,
                                            first=120, name="retention")
        application.job_queue.run_repeating(register_jobs, interval=REGISTER_JOBS_INTERVAL,
                                            first=11, name="register-jobs")
        application.job_queue.run_repeating(outbox_jobs, interval=OUTBOX_INTERVAL, first=1,
                                            name="outbox")
    await application.start()
    # Deadlines under changed rules are recomputed in the background: with a province's
    # archive that takes minutes, and the bot must answer meanwhile.
    application.bot_data[DUE_REFRESH_TASK] = asyncio.create_task(
        refresh_case_deadlines(runtime), name="refresh-case-deadlines")
    if polling and application.updater is not None:
        await application.bot.delete_webhook()
        await application.updater.start_polling(
            poll_interval=poll_interval, timeout=10, allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False)
    log.info("bot @%s started (%s)", runtime.bot_username, "polling" if polling else "webhook")


async def stop_application(application: Application) -> None:
    redis_client = application.bot_data.pop(REDIS_KEY, None)
    refresh = application.bot_data.pop(DUE_REFRESH_TASK, None)
    if refresh is not None and not refresh.done():
        refresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresh
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    runtime = get_runtime(application)
    if runtime.outbox is not None:
        await runtime.outbox.wait_idle()  # notices being sent finish (they are rows anyway)
    if runtime.leadership is not None:
        await runtime.leadership.stop()  # frees the scheduler's lock for a standby at once
    await application.shutdown()
    if redis_client is not None:
        await redis_client.aclose()
