"""/newcase: an officer opens a case for something that came another way (a phone call, a
school's notice, someone at the office): how it came, what, where, the age, whether it is
urgent, then a short description. The answers wait in the database between taps."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _
from domain.cases import OFFICER_CHANNELS, Channel
from domain.errors import InvalidInput, NotAllowed
from domain.reports import AgeGroup, Category
from domain.roles import Role, UnitKind
from handlers import callback_data as cb
from handlers import cases as case_handlers
from handlers.common import Reply, Request, handles, keyboard
from handlers.texts import age_name, capitalised, category_name, channel_name
from services import cases as cases_service
from storage.models import PendingInput
from storage.units import list_children

NC = "nc"
# The questions in order: the answer key and the callback action that answers it.
STEPS = ("channel", "category", "village_id", "age_group", "urgent")


def _cancel_row() -> list[tuple[str, str]]:
    return [(_("✖️ Cancel"), cb.build("cs", "x"))]


async def _question(request: Request, pending: PendingInput) -> Reply:
    """Asks the first question not answered yet (or for the description)."""
    answers = pending.data
    if "channel" not in answers:
        rows = [[(capitalised(channel_name(c)), cb.build(NC, "a", "channel", c))]
                for c in OFFICER_CHANNELS]
        return Reply(_("<b>Open a case</b>\nHow did it reach you?"),
                     keyboard([*rows, _cancel_row()]))
    if "category" not in answers:
        choices = [(category_name(c), cb.build(NC, "a", "category", c)) for c in Category]
        rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
        return Reply(_("What is happening to the child?"), keyboard([*rows, _cancel_row()]))
    if "village_id" not in answers:
        villages = await list_children(request.actor.unit_id, session=request.session,
                                       kind=UnitKind.VILLAGE)
        choices = [(v.name[:30], cb.build(NC, "a", "village_id", v.id)) for v in villages[:40]]
        rows = [choices[i:i + 2] for i in range(0, len(choices), 2)]
        rows.append([(_("Not known / elsewhere"), cb.build(NC, "a", "village_id", 0))])
        return Reply(_("In which village?"), keyboard([*rows, _cancel_row()]))
    if "age_group" not in answers:
        rows = [[(capitalised(age_name(a)), cb.build(NC, "a", "age_group", a))] for a in AgeGroup]
        return Reply(_("How old is the child?"), keyboard([*rows, _cancel_row()]))
    if "urgent" not in answers:
        return Reply(_("Is the child in danger right now?"), keyboard([
            [(_("🚨 Yes, urgent"), cb.build(NC, "a", "urgent", 1)),
             (_("No"), cb.build(NC, "a", "urgent", 0))], _cancel_row()]))
    return Reply(_("Last step: type a short description of what you were told (who told you "
                   "is not needed here; add it as a note if it matters)."),
                 keyboard([_cancel_row()]))


def _ensure_staff(request: Request) -> None:
    actor = request.actor
    if actor.role not in (Role.OFFICER, Role.ADMIN) or actor.unit_id is None:
        raise NotAllowed("open_case", f"role={actor.role}")


@handles
async def new_case_command(request: Request) -> Reply:
    """/newcase: starts the questions (any earlier unfinished one is replaced)."""
    _ensure_staff(request)
    pending = await cases_service.expect_input(request.user_id, "open", session=request.session,
                                               now=request.now, data={})
    return await _question(request, pending)


@handles
async def answered(request: Request) -> Reply:
    """Stores one answer and asks the next question."""
    _ensure_staff(request)
    pending = await cases_service.pending_input(request.user_id, session=request.session,
                                                now=request.now)
    if pending is None or pending.kind != "open":
        return Reply(_("This question is no longer open. Use /newcase to start again."))
    if len(request.callback.args) < 2:
        raise cb.StaleButton("new case answer")
    key, value = request.callback.args[0], request.callback.args[1]
    if key not in STEPS or key in pending.data:
        return await _question(request, pending)  # an old button: ask what is due now
    try:
        pending.data[key] = _answer_value(key, value)
    except ValueError as exc:  # a value no button of this version carries
        raise cb.StaleButton("new case answer") from exc
    await cases_service.save_input(pending, session=request.session)
    reply = await _question(request, pending)
    reply.edit = True
    return reply


async def _took_description(request: Request, pending: PendingInput, message) -> list[Reply]:  # noqa: ANN001
    """The description typed last: the case is opened and given to this officer."""
    _ensure_staff(request)
    if any(step not in pending.data for step in STEPS):
        if message.text is None:
            raise InvalidInput("choose_button")
        return [Reply(_("Please answer with the buttons first.")),
                await _question(request, pending)]
    if message.text is None:
        raise InvalidInput("text_expected")
    case, report = await cases_service.open_case(
        request.actor, pending.data, message.text, session=request.session, now=request.now,
        config=request.runtime.case_config)
    await cases_service.drop_input(request.user_id, session=request.session)
    return [await case_handlers.card_reply(request, case.id, edit=False, prefix=_(
        "✅ Case {code} opened; you are handling it.").format(code=report.code) + "\n\n")]


case_handlers.register_input("open", _took_description)


def _answer_value(key: str, value: str) -> str | int | bool | None:
    """The stored form of a pressed answer; ValueError for a value no button carries."""
    if key == "channel":
        return Channel(value).value
    if key == "category":
        return Category(value).value
    if key == "age_group":
        return AgeGroup(value).value
    if key == "urgent":
        return value == "1"
    return cb.parse_int(value) or None


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(NC)
    return [
        CommandHandler("newcase", new_case_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(new_case_command, pattern=p + "start$"),
        CallbackQueryHandler(answered, pattern=p + r"a:[a-z_]+:[a-z0-9_-]+$"),
    ]
