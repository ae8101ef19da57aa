"""Commands and presses in the middle of something: nothing stays armed silently.

Two handlers around the feature handlers of one update (see bot/app.py):
- before them (group -1): if the person was about to type a note, a reason, a message to a
  reporter, a broadcast… and now sends a command or presses a button of another flow, that
  input is dropped and they are told so in one line. The next free text can then never
  become a note on another case or a message to a reporter.
- after them (group 1): a command in the middle of a report (/help, /hotline, /cases, an
  unknown command…) has been answered; the report's current question is asked again.
"""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.i18n import _
from bot.runtime import TreemContext
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles
from handlers.menu import MENU
from services import conversation
from services import reports as report_service

# Presses that belong to an armed input (feature, action or None for any action).
_OWN_PRESSES: dict[str, set[tuple[str, str | None]]] = {
    "note": {("cs", "x")},
    "risk": {("cs", "x")},
    "close": {("cs", "x")},
    "relay": {("cs", "x"), ("cs", "rs"), ("cs", "re")},
    "reply": {("cs", "x")},
    "pick": {("cs", "x"), ("cs", "rp")},
    "open": {("cs", "x"), ("nc", None)},
    "broadcast": {("bc", None)},
    "lookup": set(),
    "round": {("br", None), ("cs", "x")},
    "target": {("bt", None)},
    "tre": {("tre", None)},
    "tre_leave": {("tre", None)},
    "tre_edit": {("tre", None)},
    "tre_import": {("tre", "tpl"), ("tre", "impok"), ("tre", "x"), ("tre", "mh"),
                   ("tre", "mc"), ("tre", "mfix"), ("tre", "mb")},
}

# Commands that handle an armed input themselves.
_OWN_COMMANDS = {"huy", "cancel"}

# Commands that take over a report in progress themselves (resume, cancel, menu).
_REPORT_COMMANDS = {"baotin", "report", "huy", "cancel", "start"}


def _command(update: Update) -> str | None:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text[1:].split()[0].split("@")[0].lower() if len(message.text) > 1 else ""


def _belongs(kind: str, update: Update) -> bool:
    """Whether this command or press is part of the armed input's own flow."""
    command = _command(update)
    if command is not None:
        return command in _OWN_COMMANDS
    query = update.callback_query
    if query is None:
        return True  # free text, photos…: the armed input's to take
    data = cb.parse(query.data)
    if data is None:
        return False
    own = _OWN_PRESSES.get(kind, set())
    return (data.feature, data.action) in own or (data.feature, None) in own


def dropped_text(what: conversation.Armed) -> str | None:
    code = what.case_code or "?"
    texts = {
        "note": _("Dropped the note you were writing for case {code}."),
        "risk": _("Dropped the risk level change waiting for a reason on case {code}."),
        "close": _("Dropped the closing of case {code} that was waiting for a reason."),
        "relay": _("Dropped the message you were writing to the reporter of case {code}. "
                   "Nothing was sent."),
        "reply": _("Dropped the answer you were writing to the officer (report {code})."),
        "pick": _("Your last message was not passed on to an officer."),
        "open": _("Dropped the case you were opening."),
        "broadcast": _("Dropped the broadcast you were writing. Nothing was sent."),
        "round": _("Your report answers so far are saved; send /baocao to continue."),
        "target": _("Dropped the target value you were typing. Nothing was changed."),
        "tre": _("Dropped the child you were adding to the register. Nothing was saved."),
        "tre_leave": _("Dropped the removal from the register that was waiting for the "
                       "destination. The child is still on the register."),
        "tre_import": _("Dropped the import of the list. Nothing was saved."),
        "tre_edit": _("Dropped the correction of the child's record you were typing. "
                      "Nothing was changed."),
    }
    text = texts.get(what.kind)
    return None if text is None else "↩️ " + text.format(code=code)


async def drop_armed_input(update: Update, context: TreemContext) -> None:
    """Before any command or press: an armed input of another flow is dropped, with a word.
    Also notes whether a report was open, for `ask_report_again` after the command."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    if update.callback_query is None and _command(update) is None:
        return
    runtime = context.runtime
    async with runtime.db.read() as session:
        look = await conversation.first_look(user.id, session=session)
    open_now = look.inputs
    context.report_was_open = open_now.report_draft
    context.first_look_member, context.first_look_at = look.member, time.monotonic()
    if not open_now.armed:
        return
    async with runtime.db.session() as session:
        what = await conversation.armed(user.id, session=session, now=runtime.clock.now())
        if what is None or _belongs(what.kind, update):
            return
        await conversation.disarm(user.id, session=session, now=runtime.clock.now())
    text = dropped_text(what)
    if text is not None:
        await context.bot.send_message(chat.id, text)


async def ask_report_again_if_open(update: Update, context: TreemContext) -> None:
    """Most people have no report open: then nothing is read again after their command.
    Only commands and presses that cannot open a report come here (the report's own
    commands are left out below), so a report the command opened is never the case."""
    if context.report_was_open is False:
        return
    await ask_report_again(update, context)


@handles(answer=False)
async def ask_report_again(request: Request) -> list[Reply] | None:
    """After a command answered mid-report: the report's current question again."""
    command = _command(request.update)
    if command in _REPORT_COMMANDS or (command is None and request.callback is None):
        return None
    draft = await report_service.get_draft(request.user_id, session=request.session)
    if draft is None:
        return None
    from handlers.report import ask  # the report flow imports this module's neighbours

    return [Reply(_("📝 You have a report in progress. Here is where you stopped:")),
            *await ask(request, draft)]


def build_before() -> list[BaseHandler]:
    return [TypeHandler(Update, drop_armed_input)]


def build_after() -> list[BaseHandler]:
    return [MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, ask_report_again_if_open),
            CallbackQueryHandler(ask_report_again_if_open,
                                 pattern=cb.pattern(MENU) + "(hotline|help|status)$")]
