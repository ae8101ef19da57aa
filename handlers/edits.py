"""Edited messages: one rule for every flow, applied before any feature handler.

Telegram sends an `edited_message` update when someone edits a message they already sent.
Left to the feature handlers it would look like a new message: a story part added twice, a
second note or relay, the next question answered with old words. So every edit stops here
(bot/app.py registers this in the first group, and nothing after it sees the edit):

- group chats, and edits without text (a live location moving): ignored silently;
- an edit of a part of the unsent report draft's description replaces that part;
- the armed input's own edit rule (handlers.cases.register_input(on_edit=…)): the report
  round's form corrects the target that message answered; a message to a reporter still
  waiting under its preview takes the edited text;
- anything else changes nothing that was saved or sent, and is never taken as the answer
  to the question asked now; the person is told so and what to do instead.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, MessageHandler, filters

from bot.i18n import _
from bot.runtime import TreemContext
from handlers import cases
from handlers import report as report_handlers
from handlers.common import Reply, Request, handles
from services import conversation
from services import reports as report_service


def waiting_text(what: conversation.Armed) -> str:
    """What the armed input waits for, as a new message."""
    code = what.case_code or "?"
    texts = {
        "note": _("the note on case {code}"),
        "risk": _("the reason for the risk level change on case {code}"),
        "close": _("the reason for closing case {code}"),
        "relay": _("the message to the reporter of case {code}"),
        "reply": _("your answer to the officer (report {code})"),
        "pick": _("your choice of the report your answer is for"),
        "open": _("the next answer for the case you are opening"),
        "plan": _("the support plan of case {code}"),
        "return": _("your comment on case {code}"),
        "lookup": _("the tracking code to look up"),
        "broadcast": _("the broadcast you are writing"),
        "round": _("your answer in the report form"),
        "tre": _("the child you are adding to the register"),
        "tre_leave": _("where the child went"),
        "tre_import": _("the list file to import"),
    }
    return texts.get(what.kind, _("your next answer")).format(code=code)


def _armed_reply(what: conversation.Armed) -> Reply:
    head = _("✏️ This edit was not used: what was saved before stays as you first sent it, "
             "and nothing was saved or sent twice. I am waiting for {what}: type it as a new "
             "message, or press ✖️ Cancel.").format(what=waiting_text(what))
    if what.kind in ("tre", "tre_leave"):
        head += "\n" + _("If an answer you gave for this child is wrong, press ✖️ Cancel and "
                         "add the child again.")
    return Reply(head)


def _member_reply() -> Reply:
    return Reply(_("✏️ I do not read edited messages: what was saved from that message (a "
                   "note, a message to a reporter, an answer, a record) stays as you first "
                   "sent it, and nothing was saved or sent twice. To correct it, send the "
                   "correction as a new message, for example a new note from the case card."))


def _citizen_reply() -> Reply:
    return Reply(_("✏️ I do not read edited messages: nothing was changed or sent twice. If "
                   "you want to correct something, send it again as a new message. /start "
                   "shows the menu."))


@handles
async def edited_private_message(request: Request) -> list[Reply]:
    """Applies an edit where the flow expects it; otherwise says that nothing changed."""
    draft = await report_service.get_draft(request.user_id, session=request.session)
    if draft is not None:
        corrected = await report_handlers.edited_draft_message(request, draft)
        if corrected is not None:
            return corrected
    taken = await cases.take_case_edit(request)
    if taken is not None:
        return taken
    what = await conversation.armed(request.user_id, session=request.session, now=request.now)
    if what is not None:
        return [_armed_reply(what)]
    if draft is not None:
        return await report_handlers.edited_outside_draft(request, draft)
    if not request.actor.is_member:
        sent = await report_handlers.edited_after_sending(request)
        return [sent if sent is not None else _citizen_reply()]
    return [_member_reply()]


async def edited_message(update: Update, context: TreemContext) -> None:
    """Every edit ends here: the feature handlers never see it as a new message."""
    message, chat = update.effective_message, update.effective_chat
    if (chat is not None and chat.type == "private" and update.effective_user is not None
            and message is not None and (message.text is not None or message.caption)):
        await edited_private_message(update, context)
    raise ApplicationHandlerStop


def build_handlers() -> list[BaseHandler]:
    return [MessageHandler(filters.UpdateType.EDITED, edited_message)]
