"""What the bot says when nothing else understood the update. Registered last."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.i18n import _
from bot.runtime import TreemContext
from handlers.common import Reply, Request, handles, stale_button_text
from handlers.menu import main_menu, menu_keyboard


@handles
async def stale_button(request: Request) -> Reply:
    """Answers a press on an outdated or unknown button with the current menu."""
    return await main_menu(request, prefix=stale_button_text() + "\n\n")


@handles
async def unknown_command(request: Request) -> Reply:
    """Explains that the command is unknown and shows the menu."""
    return Reply(_("Sorry, I do not know that command. Here is what I can do:"),
                 menu_keyboard(request.actor))


def not_understood_reply(actor) -> Reply:  # noqa: ANN001
    """The answer to a private message nobody expected (text, sticker, file...)."""
    return Reply(_("Sorry, I did not understand. Please choose from the menu below, or "
                   "type /help."), menu_keyboard(actor))


async def group_message(update: Update, context: TreemContext) -> None:
    """In a group, asks the person to write to the bot privately (reports are private)."""
    link = f"https://t.me/{context.bot.username}?start=menu"
    await update.effective_message.reply_text(
        _("Please write to me in a private chat, so that what you share stays confidential."),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(_("Open a private chat"), url=link)]]),
    )


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(stale_button),
        MessageHandler(private & filters.COMMAND, unknown_command),
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, group_message),
    ]
