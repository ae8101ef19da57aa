"""The one error handler: log without personal data, tell the user nothing was lost."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.i18n import _
from bot.runtime import TreemContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: TreemContext) -> None:
    error = context.error
    if isinstance(error, BadRequest) and "message is not modified" in error.message.lower():
        return
    chat = update.effective_chat if isinstance(update, Update) else None
    chat_id = chat.id if chat else None
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("forbidden in chat=%s update=%s: bot blocked or removed", chat_id, update_id)
        return
    unavailable = isinstance(error, (NetworkError, TimedOut, RetryAfter))
    if unavailable and not isinstance(error, BadRequest):
        log.warning("telegram unavailable for update=%s: %s", update_id, error.__class__.__name__)
    else:
        # exc_info gives the traceback; the update's content (people's words) is never logged.
        log.error("error handling update=%s chat=%s", update_id, chat_id, exc_info=error)
    if chat_id is None:
        return
    try:
        await context.bot.send_message(chat_id, _(
            "Sorry, something went wrong on our side. Nothing you entered was lost. "
            "Please try again in a moment; in an emergency call 113, 115 or 111."))
    except Exception:  # noqa: BLE001 - the apology is best effort
        log.warning("could not apologise in chat=%s", chat_id)
