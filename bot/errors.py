"""The one error handler: log without personal data, answer the press, apologise truthfully."""

from __future__ import annotations

import collections
import logging

from telegram import Bot, CallbackQuery, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.i18n import _
from bot.runtime import TreemContext

log = logging.getLogger(__name__)

_ANSWERED_KEY = "treem.answered_queries"
_ANSWERED_KEEP = 2048  # recent query ids, enough for every press in flight


def mark_saved(error: BaseException) -> None:
    """Marks an error raised after the update's transaction committed (the input is saved)."""
    error.treem_saved = True  # type: ignore[attr-defined]


def was_saved(error: BaseException | None) -> bool:
    return bool(getattr(error, "treem_saved", False))


async def answer_query(query: CallbackQuery, context: TreemContext) -> None:
    """Answers a button press once, so Telegram's spinner stops; never raises.

    Called by the handler wrapper and again by the error handler: the second call is a no-op
    (Telegram refuses a second answer).
    """
    answered = context.bot_data.setdefault(_ANSWERED_KEY, collections.deque(maxlen=_ANSWERED_KEEP))
    if query.id in answered:
        return
    answered.append(query.id)
    try:
        await query.answer()
    except TelegramError as exc:
        # Pressed long ago ("query is too old"), or Telegram unreachable: nothing more to do.
        log.info("could not answer callback query: %s", exc.__class__.__name__)


def apology(*, saved: bool) -> str:
    if saved:
        return _("Sorry, something went wrong on our side. What you sent has been saved, but "
                 "the answer could not be shown. Please try again in a moment; in an emergency "
                 "call 113, 115 or 111.")
    return _("Sorry, something went wrong on our side and your last message was not saved "
             "(what you entered before it is kept). Please send it again in a moment; in an "
             "emergency call 113, 115 or 111.")


async def apologise(bot: Bot, chat_id: int, *, saved: bool) -> bool:
    """Sends the apology; False if even that failed (best effort, never raises)."""
    try:
        await bot.send_message(chat_id, apology(saved=saved))
    except Exception:  # noqa: BLE001 - the apology is best effort
        log.warning("could not apologise in chat=%s", chat_id)
        return False
    return True


def chat_to_answer(update: object) -> int | None:
    """Where an apology goes: the chat of the update, else the person's private chat (inline
    queries, poll answers and presses in inline messages have no chat), else nowhere."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None and update.callback_query is not None:
        return update.effective_user.id
    return None


async def on_error(update: object, context: TreemContext) -> None:
    error = context.error
    if isinstance(error, BadRequest) and "message is not modified" in error.message.lower():
        return
    is_update = isinstance(update, Update)
    update_id = update.update_id if is_update else None
    chat = update.effective_chat if is_update else None
    chat_id = chat.id if chat is not None else None
    if is_update and update.callback_query is not None:
        await answer_query(update.callback_query, context)
    if isinstance(error, Forbidden):
        log.info("forbidden in chat=%s update=%s: bot blocked or removed", chat_id, update_id)
        return
    unavailable = isinstance(error, (NetworkError, TimedOut, RetryAfter))
    if unavailable and not isinstance(error, BadRequest):
        log.warning("telegram unavailable for update=%s: %s", update_id, error.__class__.__name__)
    else:
        # exc_info gives the traceback; the update's content (people's words) is never logged.
        log.error("error handling update=%s chat=%s", update_id, chat_id, exc_info=error)
    target = chat_to_answer(update)
    if target is not None:
        await apologise(context.bot, target, saved=was_saved(error))
