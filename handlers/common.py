"""The unit of work for handlers: one session per update, errors turned into messages.

A handler decorated with @handles receives a Request (the update, the actor as the
rules see them, an open session, the time) and returns the replies to send. Replies
addressed to someone else (`Reply.chat_id`) become outbox rows in the handler's own
transaction: they exist exactly when what caused them was saved, survive a crash right
after the commit, and are sent by the outbox sender (poked at once after the commit).
Direct replies to the person's own update go out after the commit, so a user is never
told something was saved that was not. What else the update owes (a chart, an export, a
case's photos, a command menu) is an outbox row too (`Request.owe`), sent after the
direct replies: nothing is promised in memory.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden

from bot.errors import answer_query, mark_saved
from bot.i18n import _
from bot.runtime import Runtime, TreemContext
from domain.errors import DomainError, InvalidInput, InviteProblem, NotAllowed, NotFound
from domain.roles import Actor
from handlers.callback_data import UNREADABLE, CallbackData, StaleButton, parse
from services.identity import NOT_LOOKED, resolve_actor
from services.membership import record_denied
from storage import outbox
from storage.models import Delivery

log = logging.getLogger(__name__)

# How old the membership read with the check before a command may be when the unit of work
# starts (normally a few milliseconds; longer only when the unit waited for a connection).
FIRST_LOOK_FRESH_SECONDS = 1.0

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass
class Reply:
    """One message to send (or, with edit=True, the pressed message to rewrite)."""

    text: str
    keyboard: Markup = None
    edit: bool = False
    chat_id: int | None = None  # None: the chat the update came from
    # For a message to someone else: what to tell whom if their chat blocked the bot or
    # is gone (queued then, itself an outbox message); and what kind of message it is.
    on_failure: Reply | None = None
    kind: str = "notice"
    # With edit=True: change only the pressed message's buttons, keep its text (`text` unused).
    keyboard_only: bool = False


@dataclass
class Request:
    update: Update
    context: TreemContext
    actor: Actor
    session: AsyncSession
    callback: CallbackData | None = None
    owed: list[int] = field(default_factory=list)  # outbox rows of `owe`, sent after replies

    @property
    def runtime(self) -> Runtime:
        return self.context.runtime

    @property
    def now(self):  # noqa: ANN201
        return self.runtime.clock.now()

    @property
    def user_id(self) -> int:
        return self.update.effective_user.id

    async def owe(self, kind: str, payload: dict | None = None, *, chat_id: int | None = None,
                  markup: InlineKeyboardMarkup | None = None) -> int:
        """Queue something the sender makes at send time (kinds: see bot/sender.py) in this
        transaction: it exists exactly when the change that caused it was saved and is
        sent once, after the direct replies (to this chat unless `chat_id`)."""
        chat = chat_id if chat_id is not None else self.update.effective_chat.id
        (row_id,) = await outbox.add_messages([Delivery(
            kind=kind, chat_id=chat, payload=payload, due_at=self.now,
            markup=markup.to_dict() if markup is not None else None)], session=self.session)
        self.owed.append(row_id)
        return row_id


Handler = Callable[[Request], Awaitable[Reply | Sequence[Reply] | None]]


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback_data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


INVALID_INPUT_MESSAGES = {
    "cannot_revoke_self": lambda: _(
        "You cannot remove your own access. Ask another administrator to do it."
    ),
    "agency_not_in_commune": lambda: _("That agency is not part of this commune any more."),
    "unit_kind_mismatch": lambda: _("That role cannot be given for this place."),
    "role_not_invitable": lambda: _("That role cannot be given by invitation."),
    "agency_required": lambda: _("Please choose the agency this person works for."),
    "agency_not_allowed": lambda: _("Only agency members belong to an agency."),
    "story_empty": lambda: _("Please write a few words about what happened."),
    "text_expected": lambda: _("Please type a short text."),
    "address_too_long": lambda: _("That address is too long (at most 300 characters). Please "
                                  "shorten it."),
    "name_too_long": lambda: _("That name is too long (at most 100 characters)."),
    "location_invalid": lambda: _("That location cannot be read. Please send it again or type "
                                  "an address."),
    "too_many_media": lambda: _("You have already attached 5 photos or voice messages, the "
                                "most one report can have. Nothing more was added."),
    "phone_invalid": lambda: _("That does not look like a phone number. Please type it like "
                               "0912 345 678, or press the button to send your number."),
    "incomplete": lambda: _("One answer is still missing; let's fill it in."),
    "too_many_lookups": lambda: _("You have entered wrong codes too many times. Please try "
                                  "again in an hour."),
    "code_unknown": lambda: _("No report has this code. Please check it: a code has 8 letters "
                              "and digits, for example ABCD-EFGH."),
    "addition_empty": lambda: _("Please send some text, a photo or a voice message first."),
    "member_needed": lambda: _("Only a member of the commune can take a case."),
    "date_rule_invalid": lambda: _("That date cannot be read. Write it like 20/5, "
                                   "“trước 20/5”, 1/6-30/6, 15/8 âm lịch, “5 ngày làm việc "
                                   "trước 20/5”, “ngày 25 hằng tháng”, “ngày 20 tháng cuối "
                                   "hằng quý” or 31/12/2030."),
    "lunar_day_missing": lambda: _("Not every lunar month has a 30th day: in a 29-day month "
                                   "that date would fall on the 1st of the next month. Write "
                                   "“cuối tháng N âm lịch” for the last day of lunar month N, "
                                   "e.g. “cuối tháng 12 âm lịch”."),
    "lead_days_invalid": lambda: _("Write the reminder days as up to 10 whole numbers of days "
                                   "before the event, from 0 (the day itself) to 60, e.g. "
                                   "“14 7 1 0”."),
    "audience_invalid": lambda: _("Write who receives it as “all” or agency kinds "
                                  "(culture_social, police, health, school, front, union, "
                                  "village, other) or roles (officer, admin), e.g. "
                                  "“health school”."),
    "event_message_invalid": lambda: _("Please type the new message after “nội dung” (at most "
                                       "1,500 characters)."),
    "broadcast_too_long": lambda: _("That message is too long (at most 3,500 characters). "
                                    "Please shorten it and send it again."),
    "broadcast_not_draft": lambda: _("This broadcast was already sent or cancelled."),
    "case_changed": lambda: _("This case has just changed. Please open it again with /case."),
    "note_too_long": lambda: _("That is too long (at most 2,000 characters for a note, 1,000 "
                               "for a message). Nothing was cut or saved: please shorten it "
                               "and send it again."),
    "assignee_invalid": lambda: _("That person cannot handle cases of this commune any more."),
    "case_closed": lambda: _("This case is closed, so no more messages can be sent on it. In "
                             "an emergency call 111 or 113."),
    "cases_commune_only": lambda: _("Case lists are for the officers of a commune. At "
                                    "province level only aggregate numbers are shown."),
    "choose_button": lambda: _("Please answer with the buttons above."),
    "round_locked": lambda: _("🔒 This report round is locked: the officer has compiled the "
                              "report, so nothing can be changed any more. /baocao shows what "
                              "was sent."),
    "target_no_value": lambda: _("This target is met when lower than last period: it has no "
                                 "target value to change."),
    "target_no_agency": lambda: _("I compute this figure myself: no agency reports it."),
    "target_value_invalid": lambda: _("That value does not fit this target's unit. Nothing "
                                      "was changed."),
    "blank_text": lambda: _("That message has no visible text (only spaces or invisible "
                            "characters). Please type the words themselves."),
    "transition_not_allowed": lambda: _("The case cannot go to that step from where it is."),
    "plan_too_long": lambda: _("The plan is too long (at most 3.000 characters). Nothing was "
                               "cut or submitted: please shorten it and send it again."),
    "approval_pending": lambda: _("This case waits for the commune leader's decision. Nothing "
                                  "was changed."),
    "approval_required": lambda: _("This step needs the commune leader's approval: submit it "
                                   "from the case card."),
    "approval_not_needed": lambda: _("This step needs no approval. Nothing was changed."),
    "withdraw_not_yours": lambda: _("Only the person who submitted this request can withdraw "
                                    "it. Nothing was changed."),
    "no_approval_pending": lambda: _("Nothing waits for approval on this case any more. "
                                     "Nothing was changed."),
    "risk_reason_required": lambda: _("Please type the reason for the change."),
    "closure_note_required": lambda: _("Please type why the case is closed."),
}

INVITE_PROBLEM_MESSAGES = {
    InviteProblem.UNKNOWN: lambda: _(
        "This invitation link is not valid. Please check that you opened the whole link, "
        "or ask your administrator for a new one."
    ),
    InviteProblem.EXPIRED: lambda: _(
        "This invitation link has expired. Please ask your administrator for a new one."
    ),
    InviteProblem.USED: lambda: _(
        "This invitation link has already been used. Each link works only once; "
        "please ask your administrator for a new one."
    ),
    InviteProblem.REVOKED: lambda: _(
        "This invitation link was cancelled by an administrator. Please ask them for a new one."
    ),
}


def message_for(exc: Exception) -> str:
    if isinstance(exc, NotAllowed):
        return _("Sorry, you do not have permission to do this.")
    if isinstance(exc, NotFound):
        return _("Sorry, that could not be found. It may have been removed or changed.")
    if isinstance(exc, InviteProblem):
        return INVITE_PROBLEM_MESSAGES[exc.code]()
    if isinstance(exc, InvalidInput):
        factory = INVALID_INPUT_MESSAGES.get(exc.code)
        return factory() if factory else _("Sorry, that cannot be used. Please try again.")
    return _("Sorry, that cannot be used. Please try again.")


def stale_button_text() -> str:
    return _("This button is out of date. Here is the current menu; please choose again.")


def handles(func: Handler | None = None, *, answer: bool = True):  # noqa: ANN201
    """Wrap a handler in a unit of work: messages to others become outbox rows in it;
    after the commit they are poked out and the direct replies are sent.

    A button press is always answered (Telegram's spinner stops), whatever fails. An
    exception raised after the commit is marked, so the apology can say the input was saved.
    `answer=False` for handlers that run after another handler of the same update (a later
    group), which has already answered the press.
    """
    if func is None:
        return functools.partial(_unit_of_work, answer=answer)
    return _unit_of_work(func, answer=answer)


def _unit_of_work(func: Handler, *, answer: bool) -> Callable[[Update, TreemContext],
                                                              Awaitable[None]]:
    @functools.wraps(func)
    async def wrapper(update: Update, context: TreemContext) -> None:
        if update.effective_user is None:
            return
        query = update.callback_query
        try:
            replies, request, notices, queued = await _run_unit_of_work(func, update, context)
        finally:
            if query is not None and answer:
                await answer_query(query, context)
        runtime = context.runtime
        owed = request.owed if request is not None else []
        if runtime.outbox is not None:
            runtime.outbox.poke(notices)  # committed: send them now, from this instance
            if len(queued) > len(notices) + len(owed):
                runtime.outbox.wake()  # e.g. a broadcast: the active instance sends it
        try:
            await send_replies(update, context, replies)
        except Exception as exc:
            mark_saved(exc)
            raise
        finally:
            if runtime.outbox is not None:
                runtime.outbox.poke(owed)  # after the replies they follow (a chart, photos)

    return wrapper


async def _queue_notices(update: Update, request: Request,
                         replies: Reply | Sequence[Reply] | None) -> tuple[list[Reply], list[int]]:
    """Replies to other chats become outbox rows in this transaction; returns the direct
    replies and the ids of the rows."""
    if replies is None:
        return [], []
    if isinstance(replies, Reply):
        replies = [replies]
    own_chat = update.effective_chat.id if update.effective_chat else None
    direct, rows = [], []
    for reply in replies:
        if reply.chat_id is None:
            direct.append(reply)
        elif reply.chat_id == own_chat:  # addressed to this very chat: a new message here
            direct.append(dataclasses.replace(reply, chat_id=None, edit=False))
        else:
            rows.append(_outbox_row(reply, request.now))
    ids = await outbox.add_messages(rows, session=request.session)
    return direct, ids


def _outbox_row(reply: Reply, now) -> Delivery:  # noqa: ANN001
    markup = reply.keyboard
    if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
        raise TypeError("a message to another chat carries an inline keyboard or none")
    failure = reply.on_failure
    return Delivery(kind=reply.kind, chat_id=reply.chat_id, text=reply.text, due_at=now,
                    markup=markup.to_dict() if markup is not None else None,
                    on_failure={"chat_id": failure.chat_id, "text": failure.text}
                    if failure is not None else None)




async def _run_unit_of_work(
    func: Handler, update: Update, context: TreemContext
) -> tuple[Reply | Sequence[Reply] | None, Request | None, list[int], list[int]]:
    """Runs the handler in one transaction; a domain error or a stale button rolls it back
    and becomes the message to send. Returns the direct replies, the request, the outbox
    rows this update wrote for other chats, and every row queued in the transaction."""
    runtime = context.runtime
    user = update.effective_user
    query = update.callback_query
    callback = (parse(query.data) or UNREADABLE) if query else None
    try:
        async with runtime.db.session() as session:
            request = Request(update, context, await _actor(context, user.id, session), session,
                              callback)
            replies, notices = await _queue_notices(update, request, await func(request))
            return replies, request, notices, outbox.queued_ids(session)
    except StaleButton:
        log.info("out-of-date or unreadable button from user=%s", user.id)
        async with runtime.db.session() as session:
            request = Request(update, context, await _actor(context, user.id, session), session,
                              callback)
            return (await main_menu_reply(request, prefix=stale_button_text() + "\n\n"), None,
                    [], [])
    except DomainError as exc:
        if isinstance(exc, NotAllowed):
            if query is not None and drawn_by_bot(query):
                # A button the bot showed this person: out of date (their role or the case
                # changed), not an attempt. Explain, don't accuse.
                log.info("outdated button user=%s action=%s", user.id, exc.action)
                return Reply(_("This button no longer works for you: the case or your role "
                               "has changed since it was shown. Open the case again with "
                               "/case, or use /start for the menu.")), None, [], []
            log.info("denied user=%s action=%s", user.id, exc.action)
            async with runtime.db.session() as session:
                await record_denied(user.id, str(exc.action), session=session,
                                    now=runtime.clock.now())
        return Reply(message_for(exc), edit=False), None, [], []


async def _actor(context: TreemContext, user_id: int, session: AsyncSession) -> Actor:
    """Who acts. The check before a command or press has just read the sender's membership
    (handlers/interruptions.py): the update's first unit of work uses that read instead of
    reading it again, if it is at most FIRST_LOOK_FRESH_SECONDS old (a unit of work that
    waited longer for the database, under load, reads it: a revocation or a change of role
    made meanwhile counts). A later unit of work (another handler group of the same update,
    which may come after a change of membership, say an invitation redeemed) reads it."""
    member, context.first_look_member = context.first_look_member, NOT_LOOKED
    if time.monotonic() - context.first_look_at > FIRST_LOOK_FRESH_SECONDS:
        member = NOT_LOOKED
    return await resolve_actor(user_id, session=session, member=member,
                               superadmin_ids=context.runtime.settings.admin_ids)


async def main_menu_reply(request: Request, *, prefix: str = "") -> Reply:
    from handlers.menu import main_menu  # the menu module builds on this one

    return await main_menu(request, prefix=prefix)


_TAG = re.compile(r"<[^>]+>")


def _unchanged(message, html_text: str, markup: Markup) -> bool:  # noqa: ANN001
    """Whether editing `message` to this text and keyboard would change nothing."""
    visible = html.unescape(_TAG.sub("", html_text)).strip()
    current = (getattr(message, "text", None) or getattr(message, "caption", None) or "").strip()
    return current == visible and getattr(message, "reply_markup", None) == markup


def drawn_by_bot(query: CallbackQuery) -> bool:
    """Whether the pressed data is one of the buttons of the message it came from (Telegram
    sends the message with the press; a forged press carries data the message never had)."""
    message = query.message
    markup = getattr(message, "reply_markup", None) if message is not None else None
    if markup is None:
        return False
    return any(button.callback_data == query.data
               for row in markup.inline_keyboard for button in row)


async def send_replies(
    update: Update, context: TreemContext, replies: Reply | Sequence[Reply] | None
) -> None:
    if replies is None:
        return
    if isinstance(replies, Reply):
        replies = [replies]
    for reply in replies:
        await send_reply(update, context, reply)


async def send_reply(update: Update, context: TreemContext, reply: Reply) -> None:
    query = update.callback_query
    markup = reply.keyboard
    editable = markup is None or isinstance(markup, InlineKeyboardMarkup)
    if reply.keyboard_only:
        if reply.edit and query is not None and query.message is not None and editable \
                and getattr(query.message, "reply_markup", None) != markup:
            try:
                await query.edit_message_reply_markup(reply_markup=markup)
            except BadRequest as exc:
                if not any(known in exc.message.lower() for known in (
                        "message is not modified", "message to edit not found")):
                    raise
        return  # nothing to say: the other replies say it
    if (reply.edit and query is not None and query.message is not None
            and reply.chat_id is None and editable):
        if _unchanged(query.message, reply.text, markup):
            return  # the same screen pressed again: Telegram refuses an edit to itself
        try:
            await query.edit_message_text(reply.text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return
            if "message to edit not found" not in exc.message.lower():
                raise
    if reply.chat_id is None and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, reply.text, reply_markup=markup)
        return
    # Messages to other chats never come here: they are outbox rows (see handles). A press
    # on a message sent through inline mode has no chat: the answer goes to the person
    # privately, if they ever started the bot.
    chat_id = reply.chat_id if reply.chat_id is not None else update.effective_user.id
    try:
        await context.bot.send_message(chat_id, reply.text, reply_markup=markup)
    except (Forbidden, BadRequest) as exc:
        log.info("notification to chat=%s failed: %s", chat_id, exc.__class__.__name__)
