"""The command menu Telegram shows each user, set per chat with setMyCommands.

Citizens get the default list; each member gets their role's list in their own
private chat. A key (hash of the list) stored on the member says which list they
have, so start-up only re-sends lists that changed.
"""

from __future__ import annotations

import hashlib
import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, Forbidden

from bot.i18n import _
from bot.runtime import Runtime
from domain.roles import Actor, Role
from storage import members as member_store

log = logging.getLogger(__name__)


def commands_for(role: Role) -> list[BotCommand]:
    commands = [
        BotCommand("start", _("Main menu")),
        BotCommand("baotin", _("Report a child at risk")),
        BotCommand("status", _("Check a report with its code")),
        BotCommand("huy", _("Cancel the report you are writing")),
        BotCommand("hotline", _("Emergency phone numbers")),
        BotCommand("help", _("What I can do for you")),
        BotCommand("xoathongtin", _("See or delete what is kept about you")),
    ]
    if role is not Role.CITIZEN:
        commands += [
            BotCommand("deadlines", _("Deadlines and events in the next 60 days")),
            BotCommand("calendar", _("The year's events")),
            BotCommand("subscribe", _("Receive reminders here")),
            BotCommand("unsubscribe", _("Stop reminders here")),
            BotCommand("cases", _("Cases you may see")),
            BotCommand("case", _("One case by its code")),
            BotCommand("baocao", _("The report round: your agency's part, or the board")),
        ]
    if role in (Role.OFFICER, Role.ADMIN, Role.COLLABORATOR):
        commands.append(BotCommand("tre", _("Children in special circumstances")))
    if role in (Role.OFFICER, Role.ADMIN):
        commands.append(BotCommand("newcase", _("Open a case (phone call, school, visit)")))
    if role in (Role.OFFICER, Role.ADMIN, Role.LEADER):
        commands.append(BotCommand("stats", _("Figures for the 6-month and annual reports")))
    if role is Role.ADMIN:
        commands += [
            BotCommand("event", _("Move an event or deadline")),
            BotCommand("broadcast", _("Message the subscribed chats")),
            BotCommand("invite", _("Invite an officer or agency member")),
            BotCommand("members", _("Members and their roles")),
            BotCommand("invites", _("Invitations not used yet")),
            BotCommand("audit", _("Who saw and changed a case")),
            BotCommand("truycap", _("Who viewed or exported data, for an inspector")),
        ]
    return commands


def commands_key(commands: list[BotCommand]) -> str:
    text = "\n".join(f"{c.command}={c.description}" for c in commands)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


async def set_default_commands(bot: Bot) -> None:
    await bot.set_my_commands(commands_for(Role.CITIZEN), scope=BotCommandScopeDefault())


async def set_user_commands(bot: Bot, user_id: int, role: Role | None) -> str | None:
    """Give `user_id` the list for `role` (None: back to the default). Returns the key set,
    or None if Telegram refused (the user never opened a chat with the bot, or blocked it)."""
    scope = BotCommandScopeChat(user_id)
    try:
        if role is None:
            await bot.delete_my_commands(scope=scope)
            return None
        commands = commands_for(role)
        await bot.set_my_commands(commands, scope=scope)
        return commands_key(commands)
    except (BadRequest, Forbidden) as exc:
        log.info("could not set commands for user=%s: %s", user_id, exc.__class__.__name__)
        return None


async def sync_all_commands(bot: Bot, runtime: Runtime) -> int:
    """At start: the default list, then each member whose list changed since last time.

    Install-wide administrators without a membership get theirs when they press /start:
    Telegram refuses a chat scope for someone who has never opened the chat.
    """
    await set_default_commands(bot)
    changed = 0
    async with runtime.db.session() as session:
        for member in await member_store.list_all_active_members(session=session):
            if await _refresh_member(bot, runtime, member, session):
                changed += 1
    return changed


async def commands_owed(runtime: Runtime, actor: Actor, *, session) -> bool:  # noqa: ANN001
    """Whether this person (e.g. at /start or on joining) lacks the list of their role: a
    member whose stored key differs, or an install-wide administrator (no key stored).
    `actor` is resolved in this unit of work after any change of membership: someone who is
    not a member (most people who send /start) needs no lookup."""
    user_id = actor.user_id
    if actor.member_id is None:
        return user_id in runtime.settings.admin_ids
    member = await member_store.get_member_by_user(user_id, session=session)
    if member is not None:
        return member.commands_key != commands_key(commands_for(_role_of(runtime, member)))
    return user_id in runtime.settings.admin_ids


async def send_owed_commands(bot: Bot, runtime: Runtime, delivery) -> None:  # noqa: ANN001
    """The outbox's "commands" rows: the person's list as their role is at send time."""
    await refresh_user_commands(bot, runtime, delivery.chat_id)


async def refresh_user_commands(bot: Bot, runtime: Runtime, user_id: int) -> None:
    """Give `user_id` the list of their current role, if they do not have it yet (no role
    any more, e.g. after a revocation: back to the default list)."""
    async with runtime.db.session() as session:
        member = await member_store.get_member_by_user(user_id, session=session)
        if member is not None:
            await _refresh_member(bot, runtime, member, session)
        elif user_id in runtime.settings.admin_ids:
            await set_user_commands(bot, user_id, Role.ADMIN)
        else:
            await set_user_commands(bot, user_id, None)


def _role_of(runtime: Runtime, member) -> Role:  # noqa: ANN001
    return Role.ADMIN if member.telegram_user_id in runtime.settings.admin_ids else member.role


async def _refresh_member(bot: Bot, runtime: Runtime, member, session) -> bool:  # noqa: ANN001
    role = _role_of(runtime, member)
    if member.commands_key == commands_key(commands_for(role)):
        return False
    key = await set_user_commands(bot, member.telegram_user_id, role)
    if key:
        await member_store.set_commands_key(member, key, session=session)
    return key is not None
