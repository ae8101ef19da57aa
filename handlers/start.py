"""/start (with invite deep links), /help, /hotline and the role menu."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.commands import refresh_user_commands
from bot.i18n import _
from domain.invites import parse_invite_payload
from domain.roles import Action, Actor, Role, can
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard
from handlers.texts import esc, hotline_block, role_name
from services import membership, profile
from services.identity import resolve_actor

MENU = "menu"


def menu_keyboard(actor: Actor):  # noqa: ANN201
    rows = [[(_("☎️ Emergency numbers"), cb.build(MENU, "hotline"))]]
    if can(actor, Action.CREATE_INVITE, actor.scope) or actor.is_superadmin:
        rows.append([(_("➕ Invite a member"), cb.build(MENU, "invite"))])
        rows.append([
            (_("👥 Members"), cb.build(MENU, "members")),
            (_("✉️ Pending invitations"), cb.build(MENU, "invites")),
        ])
    rows.append([(_("❓ Help"), cb.build(MENU, "help"))])
    return keyboard(rows)


async def menu_text(request: Request, actor: Actor) -> str:
    name = esc(request.update.effective_user.first_name)
    if not actor.is_member:
        return _(
            "Hello {name}! I am the child-protection assistant of the commune.\n\n"
            "If you know a child who is in danger, being hurt, abused, neglected or made to "
            "work, you can get help here. What you tell us is kept confidential."
        ).format(name=name) + "\n\n" + hotline_block(
            await profile.hotline_communes(actor, session=request.session)
        )
    me = await profile.describe(actor, session=request.session)
    where = me.unit_name or _("the whole installation")
    text = _("Hello {name}! You are a {role} of {unit}.").format(
        name=name, role=role_name(actor.role), unit=esc(where)
    )
    if me.agency_name:
        text += "\n" + _("Agency: {agency}").format(agency=esc(me.agency_name))
    if actor.is_superadmin:
        text += "\n" + _("You are an administrator of this installation (TREEM_ADMIN_IDS).")
    return text + "\n\n" + _("Choose what you want to do:")


def help_text(actor: Actor) -> str:
    lines = [
        _("<b>What I can do</b>"),
        _("/start – main menu"),
        _("/hotline – emergency phone numbers"),
        _("/help – this help"),
    ]
    if actor.role is Role.ADMIN:
        lines += [
            "",
            _("<b>For administrators</b>"),
            _("/invite – create a single-use invitation link for an officer, an agency member, "
              "a village collaborator or another administrator"),
            _("/members – members of your commune, with the option to remove access"),
            _("/invites – invitations not used yet, with the option to cancel them"),
        ]
    lines += ["", _("In an emergency, call 113 (police), 115 (ambulance) or 111 (child "
                    "protection hotline, free, 24/7).")]
    return "\n".join(lines)


@handles
async def start(request: Request) -> Reply | list[Reply]:
    """Shows the role menu, or joins the user when the link carries an invitation."""
    args = request.context.args or []
    code = parse_invite_payload(args[0]) if args else None
    if code is not None:
        return await _join(request, code)
    _refresh_commands_after_commit(request)
    return Reply(await menu_text(request, request.actor), menu_keyboard(request.actor))


def _refresh_commands_after_commit(request: Request) -> None:
    bot, runtime, user_id = request.context.bot, request.runtime, request.user_id
    request.after_commit.append(lambda: refresh_user_commands(bot, runtime, user_id))


async def _join(request: Request, code: str) -> list[Reply]:
    user = request.update.effective_user
    member = await membership.redeem_invite(
        code, user_id=user.id, display_name=user.full_name, session=request.session,
        now=request.now,
    )
    actor = await resolve_actor(user.id, session=request.session,
                                superadmin_ids=request.runtime.settings.admin_ids)
    me = await profile.describe(actor, session=request.session)
    _refresh_commands_after_commit(request)
    welcome = _("Welcome! You have joined as a {role} of {unit}.").format(
        role=role_name(member.role), unit=esc(me.unit_name or "")
    )
    if me.agency_name:
        welcome += "\n" + _("Agency: {agency}").format(agency=esc(me.agency_name))
    return [
        Reply(welcome),
        Reply(await menu_text(request, actor), menu_keyboard(actor)),
    ]


@handles
async def show_help(request: Request) -> Reply:
    """Lists the commands this user may use."""
    return Reply(help_text(request.actor), menu_keyboard(request.actor),
                 edit=request.callback is not None)


@handles
async def show_hotlines(request: Request) -> Reply:
    """Shows the national and commune emergency numbers."""
    communes = await profile.hotline_communes(request.actor, session=request.session)
    return Reply(hotline_block(communes), menu_keyboard(request.actor))


@handles
async def show_menu(request: Request) -> Reply:
    """Redraws the main menu in place."""
    return Reply(await menu_text(request, request.actor), menu_keyboard(request.actor), edit=True)


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", show_help, filters=private),
        CommandHandler("hotline", show_hotlines, filters=private),
        CallbackQueryHandler(show_hotlines, pattern=cb.pattern(MENU) + "hotline$"),
        CallbackQueryHandler(show_help, pattern=cb.pattern(MENU) + "help$"),
        CallbackQueryHandler(show_menu, pattern=cb.pattern(MENU) + "main$"),
    ]
