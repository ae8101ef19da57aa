"""/start (with invite deep links), /help, /hotline and the role menu."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.commands import commands_owed
from bot.i18n import _
from domain.invites import parse_invite_payload
from domain.names import in_sentence
from domain.roles import Actor
from handlers import callback_data as cb
from handlers import report
from handlers.common import Reply, Request, handles
from handlers.menu import MENU, help_text, main_menu, menu_keyboard
from handlers.texts import esc, hotline_block, role_name
from services import membership, profile
from services.identity import resolve_actor

POSTER_PREFIX = "r_"  # /start r_<village id>: from a QR code on a village poster


@handles
async def start(request: Request) -> Reply | list[Reply]:
    """Shows the role menu; joins the user for an invitation link; starts a report from a
    poster's link."""
    args = request.context.args or []
    payload = args[0] if args else ""
    code = parse_invite_payload(payload)
    if code is not None:
        return await _join(request, code)
    village_id = _poster_village(payload)
    if village_id is not None:
        return await report.begin(request, village_id=village_id)
    await _owe_commands(request, request.actor)
    # The check before the command has just told whether a report is open (drafts are only
    # made in this person's private chat, whose updates are handled one at a time).
    return await main_menu(request, draft_open=request.context.report_was_open)


def _poster_village(payload: str) -> int | None:
    """The village id of a poster's link (r_<id>); None for anything else, including ids
    no poster can carry (a hand-edited link with 30 digits opens the menu)."""
    if not payload.startswith(POSTER_PREFIX):
        return None
    try:
        return cb.parse_int(payload.removeprefix(POSTER_PREFIX))
    except cb.StaleButton:
        return None


async def _owe_commands(request: Request, actor: Actor) -> None:
    """The person's command menu, if it is not their role's yet: an outbox row. `actor` as
    resolved after any change of membership in this unit of work."""
    if await commands_owed(request.runtime, actor, session=request.session):
        await request.owe("commands", chat_id=request.user_id)


async def _join(request: Request, code: str) -> list[Reply]:
    user = request.update.effective_user
    member = await membership.redeem_invite(
        code, user_id=user.id, display_name=user.full_name, session=request.session,
        now=request.now,
    )
    actor = await resolve_actor(user.id, session=request.session,
                                superadmin_ids=request.runtime.settings.admin_ids)
    me = await profile.describe(actor, session=request.session)
    await _owe_commands(request, actor)
    welcome = _("Welcome! You have joined as a {role} of {unit}.").format(
        role=role_name(member.role), unit=esc(in_sentence(me.unit_name or ""))
    )
    if me.agency_name:
        welcome += "\n" + _("Agency: {agency}").format(agency=esc(me.agency_name))
    replies = [Reply(welcome), await main_menu(request, actor)]
    inviter = member.invited_by
    if inviter and inviter > 0 and inviter != user.id:  # 0: an invitation made on the CLI
        where = esc(in_sentence(me.unit_name or "")) + (
            f" – {esc(me.agency_name)}" if me.agency_name else "")
        # First, so the inviter has it before the new member sees their welcome.
        replies.insert(0, Reply(_("✅ {name} used your invitation and joined as a {role} of "
                                  "{where}.").format(name=esc(member.display_name),
                                                     role=role_name(member.role), where=where),
                                chat_id=inviter))
    return replies


@handles
async def show_help(request: Request) -> Reply:
    """Lists the commands this user may use."""
    return Reply(help_text(request.actor), menu_keyboard(request.actor),
                 edit=request.callback is not None)


@handles
async def explain_status(request: Request) -> Reply:
    """"Check a report": one's own reports, and the next message taken as a code."""
    return await report.status_overview(request)


@handles
async def show_hotlines(request: Request) -> Reply:
    """Shows the national and commune emergency numbers."""
    communes = await profile.hotline_communes(request.actor, session=request.session)
    return Reply(hotline_block(communes), menu_keyboard(request.actor))


@handles
async def show_menu(request: Request) -> Reply:
    """Redraws the main menu in place."""
    return await main_menu(request, edit=True, draft_open=request.context.report_was_open)


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", show_help, filters=private),
        CommandHandler("hotline", show_hotlines, filters=private),
        CallbackQueryHandler(show_hotlines, pattern=cb.pattern(MENU) + "hotline$"),
        CallbackQueryHandler(show_help, pattern=cb.pattern(MENU) + "help$"),
        CallbackQueryHandler(explain_status, pattern=cb.pattern(MENU) + "status$"),
        CallbackQueryHandler(show_menu, pattern=cb.pattern(MENU) + "main$"),
    ]
