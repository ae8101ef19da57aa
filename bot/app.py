"""Builds the Application and runs its life cycle. All wiring is here."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.commands import sync_all_commands
from bot.errors import on_error
from bot.processor import PerChatOrderedProcessor
from bot.ratelimit import TelegramRateLimiter
from bot.runtime import Runtime, TreemContext, attach_runtime, get_runtime
from bot.jobs import (
    CALENDAR_JOBS_INTERVAL,
    CASE_JOBS_INTERVAL,
    OUTBOX_INTERVAL,
    PLAN_INTERVAL,
    REPORT_JOBS_INTERVAL,
    calendar_jobs,
    case_jobs,
    is_active,
    outbox_jobs,
    plan_calendar,
    plan_jobs,
    refresh_case_deadlines,
    report_jobs,
    send_outbox,
)
from bot.leader import Leadership
from bot.sender import Sender
from handlers.cases import open_case_button
from handlers import (
    calendar,
    case_audit,
    case_list,
    cases,
    fallback,
    members,
    new_case,
    report,
    start,
    stats,
)
from storage import migrate
from storage import updates as update_store

log = logging.getLogger(__name__)

PROCESSED_UPDATES_KEEP = dt.timedelta(days=2)


def build_application(runtime: Runtime, *, with_updater: bool = True) -> Application:
    settings = runtime.settings
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.bot_base_url)
        .base_file_url(settings.bot_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(TelegramRateLimiter(max_retries=3,
                                          time_scale=settings.rate_limit_time_scale))
        .concurrent_updates(PerChatOrderedProcessor(64))
        .context_types(ContextTypes(context=TreemContext))
        .connection_pool_size(64)
        .get_updates_connection_pool_size(2)
    )
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    attach_runtime(application, runtime)
    attach_outbox(application, runtime)
    register_handlers(application)
    return application


def attach_outbox(application: Application, runtime: Runtime) -> None:
    """Who is the active instance, and the sender of the outbox."""
    leadership = Leadership(runtime.db)
    sender = Sender(application.bot, runtime, instance=leadership.instance,
                    dead_claimers=leadership.dead,
                    concurrency=runtime.settings.send_concurrency,
                    reminder_markup=calendar.reminder_markup, case_markup=open_case_button)

    async def sweep_if_active() -> None:
        if is_active(runtime):
            await send_outbox(application)

    sender.on_wake = sweep_if_active
    runtime.leadership, runtime.outbox = leadership, sender


def register_handlers(application: Application) -> None:
    # Order matters: within a group the first matching handler wins, so feature
    # handlers come before the fallbacks that answer anything left over.
    for handler in start.build_handlers():
        application.add_handler(handler, group=0)
    for handler in members.build_handlers():
        application.add_handler(handler, group=0)
    for module in (cases, case_list, new_case, case_audit):
        for handler in module.build_handlers():
            application.add_handler(handler, group=0)
    for handler in calendar.build_handlers():
        application.add_handler(handler, group=0)
    for handler in stats.build_handlers():
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
    await application.initialize()
    runtime.bot_username = application.bot.username
    await sync_all_commands(application.bot, runtime)
    # Safe when instances start together: the deadline refresh is claimed once per set of
    # rules; the planner (inserts with ON CONFLICT DO NOTHING) runs on the active instance.
    await refresh_case_deadlines(runtime)

    async def became_active() -> None:  # a lone instance at start, or a standby taking over
        await plan_calendar(runtime)
        runtime.outbox.wake()  # finish what a stopped instance left: broadcasts, notices

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
        application.job_queue.run_repeating(plan_jobs, interval=PLAN_INTERVAL,
                                            first=PLAN_INTERVAL, name="plan-calendar")
        application.job_queue.run_repeating(outbox_jobs, interval=OUTBOX_INTERVAL, first=1,
                                            name="outbox")
    await application.start()
    if polling and application.updater is not None:
        await application.bot.delete_webhook()
        await application.updater.start_polling(
            poll_interval=poll_interval, timeout=10, allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False)
    log.info("bot @%s started (%s)", runtime.bot_username, "polling" if polling else "webhook")


async def stop_application(application: Application) -> None:
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
