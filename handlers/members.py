"""Administrators invite members, list them and remove access: /invite, /members, /invites."""

from __future__ import annotations

import dataclasses
import logging

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_short_date
from domain.errors import NotAllowed
from domain.invites import deep_link_payload
from domain.names import in_sentence
from domain.roles import Action, Role
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard
from handlers.paging import nav_row, page_of
from handlers.start import MENU
from handlers.texts import button_label, esc, numbered_choices, role_name
from services import membership

log = logging.getLogger(__name__)

INV = "inv"
MEM = "mem"
PER_PAGE = 8
COMMUNES_PER_PAGE = 8
_BACK = lambda: (_("⬅️ Main menu"), cb.build(MENU, "main"))  # noqa: E731


# --- inviting ---------------------------------------------------------------------------


@handles
async def start_invite(request: Request) -> Reply:
    """Asks which commune to invite into (or goes straight to roles when there is one)."""
    paging = request.callback is not None and request.callback.action == "cp"
    page = request.callback.int_arg(0) if paging else 0
    communes = await membership.invitable_communes(request.actor, session=request.session)
    if not communes:
        if request.actor.is_superadmin:
            return Reply(_("There is no commune yet. Import a commune's set-up file first: "
                           "<code>treem setup import FILE</code>"))
        raise NotAllowed(Action.CREATE_INVITE, "no commune")
    if len(communes) == 1:
        return await _role_step(request, communes[0].id)
    pages = -(-len(communes) // COMMUNES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = communes[page * COMMUNES_PER_PAGE:(page + 1) * COMMUNES_PER_PAGE]
    rows = [[(button_label(c.name), cb.build(INV, "c", c.id))] for c in chunk]
    nav = []
    if page > 0:
        nav.append(("◀️", cb.build(INV, "cp", page - 1)))
    if page < pages - 1:
        nav.append(("▶️", cb.build(INV, "cp", page + 1)))
    rows += [nav] if nav else []
    rows.append([_BACK()])
    return Reply(_("Which commune is the new member in?"), keyboard(rows),
                 edit=request.callback is not None)


@handles
async def chose_commune(request: Request) -> Reply:
    """Stores nothing; asks for the role in the chosen commune."""
    return await _role_step(request, request.callback.int_arg(0))


async def _role_step(request: Request, commune_id: int) -> Reply:
    targets = await membership.invite_targets(request.actor, commune_id, session=request.session)
    rows = [
        [(_("Child-protection officer"), cb.build(INV, "r", commune_id, Role.OFFICER))],
        [(_("Agency member (police, health, school…)"),
          cb.build(INV, "r", commune_id, Role.AGENCY_MEMBER))],
        [(_("Village collaborator"), cb.build(INV, "r", commune_id, Role.COLLABORATOR))],
        [(_("Commune leader (Chairman or Vice-Chairman of the People's Committee)"),
          cb.build(INV, "r", commune_id, Role.LEADER))],
        [(_("Administrator of the commune"), cb.build(INV, "r", commune_id, Role.ADMIN))],
        [_BACK()],
    ]
    text = _("Invite a member to <b>{commune}</b>. What will their role be?").format(
        commune=esc(targets.commune.name))
    return Reply(text, keyboard(rows), edit=request.callback is not None)


@handles
async def chose_role(request: Request) -> Reply:
    """Creates the invitation, or asks for the agency or village the role needs."""
    commune_id = request.callback.int_arg(0)
    try:
        role = Role(request.callback.args[1])
    except (ValueError, IndexError):
        return await _role_step(request, commune_id)
    targets = await membership.invite_targets(request.actor, commune_id, session=request.session)
    page = request.callback.int_arg(2) if len(request.callback.args) > 2 else 0
    if role is Role.AGENCY_MEMBER:
        if not targets.agencies:
            return Reply(_("This commune has no agencies yet. Add them to its set-up file."),
                         keyboard([[_BACK()]]), edit=True)
        return _choice(_("Which agency does the new member work for?"), targets.agencies, page,
                       lambda a: cb.build(INV, "a", commune_id, a.id),
                       lambda n: cb.build(INV, "r", commune_id, role, n))
    if role is Role.COLLABORATOR:
        if not targets.villages:
            return Reply(_("This commune has no villages yet. Add them to its set-up file."),
                         keyboard([[_BACK()]]), edit=True)
        return _choice(_("Which village will the collaborator look after?"), targets.villages,
                       page, lambda v: cb.build(INV, "v", v.id),
                       lambda n: cb.build(INV, "r", commune_id, role, n))
    return await _create(request, role=role, unit_id=commune_id, agency_id=None)


def _choice(question: str, items, page: int, data, page_data) -> Reply:  # noqa: ANN001
    """A page of agencies or villages, full names in the text when a label is shortened."""
    shown = page_of(items, page)
    labels, full_names = numbered_choices([item.name for item in shown.items], shown.first)
    rows = [[(label, data(item))] for label, item in zip(labels, shown.items, strict=True)]
    rows += nav_row(shown, page_data)
    text = f"{question}\n\n{full_names}" if full_names else question
    return Reply(text, keyboard([*rows, [_BACK()]]), edit=True)


@handles
async def chose_agency(request: Request) -> Reply:
    """Creates an agency member's invitation."""
    return await _create(request, role=Role.AGENCY_MEMBER, unit_id=request.callback.int_arg(0),
                         agency_id=request.callback.int_arg(1))


@handles
async def chose_village(request: Request) -> Reply:
    """Creates a village collaborator's invitation."""
    return await _create(request, role=Role.COLLABORATOR, unit_id=request.callback.int_arg(0),
                         agency_id=None)


async def _create(request: Request, *, role: Role, unit_id: int, agency_id: int | None) -> Reply:
    created = await membership.create_invite(
        request.actor, role=role, unit_id=unit_id, agency_id=agency_id, session=request.session,
        now=request.now, ttl=request.runtime.settings.invite_ttl,
    )
    link = f"https://t.me/{request.context.bot.username}?start={deep_link_payload(created.code)}"
    where = in_sentence(created.unit.name) + (f" – {created.agency.name}" if created.agency
                                               else "")
    text = _(
        "Invitation created for a <b>{role}</b> of <b>{where}</b>.\n\n"
        "Send this link to that person only. It works once and expires at {expires}:\n"
        "{link}\n\n"
        "When they open it and press Start, they join with this role."
    ).format(role=role_name(role), where=esc(where), link=esc(link),
             expires=vi_datetime(created.invite.expires_at, request.runtime.tz))
    return Reply(text, keyboard([[_BACK()]]), edit=True)


# --- members ----------------------------------------------------------------------------


async def _members_page(request: Request, page: int) -> Reply:
    result = await membership.list_members(request.actor, session=request.session, page=page,
                                           per_page=PER_PAGE)
    if not result.total:
        return Reply(_("No members yet. Use /invite to invite the first officer."),
                     keyboard([[_BACK()]]), edit=request.callback is not None)
    rows = await membership.describe_members(result.members, session=request.session)
    lines = [_("<b>Members ({total})</b> – page {page}/{pages}").format(
        total=result.total, page=result.page + 1, pages=result.pages), ""]
    buttons = []
    for number, row in enumerate(rows, start=result.page * PER_PAGE + 1):
        m = row.member
        where = row.unit_name + (f" – {row.agency_name}" if row.agency_name else "")
        lines.append(_("{n}. {name} – {role}, {where} (since {date})").format(
            n=number, name=esc(m.display_name), role=role_name(m.role), where=esc(where),
            date=vi_short_date(m.joined_at.astimezone(request.runtime.tz))))
        if m.telegram_user_id != request.user_id:
            buttons.append([(_("Remove {name}").format(name=button_label(m.display_name, 24)),
                             cb.build(MEM, "rv", m.id))])
    nav = []
    if result.page > 0:
        nav.append(("◀️", cb.build(MEM, "p", result.page - 1)))
    if result.page < result.pages - 1:
        nav.append(("▶️", cb.build(MEM, "p", result.page + 1)))
    buttons += [nav] if nav else []
    buttons.append([_BACK()])
    return Reply("\n".join(lines), keyboard(buttons), edit=request.callback is not None)


@handles
async def show_members(request: Request) -> Reply:
    """Lists the members this administrator manages, a page at a time."""
    page = request.callback.int_arg(0) if request.callback and request.callback.action == "p" else 0
    return await _members_page(request, page)


@handles
async def confirm_revoke(request: Request) -> Reply:
    """Asks the administrator to confirm removing a member's access."""
    member = await membership.get_member_for_admin(
        request.actor, request.callback.int_arg(0), action=Action.REVOKE_MEMBER,
        session=request.session)
    text = _("Remove the access of <b>{name}</b> ({role})? They will no longer see any "
             "commune data.").format(name=esc(member.display_name), role=role_name(member.role))
    return Reply(text, keyboard([
        [(_("Yes, remove access"), cb.build(MEM, "ry", member.id))],
        [(_("No, keep"), cb.build(MEM, "p", 0))],
    ]), edit=True)


@handles
async def revoke(request: Request) -> list[Reply]:
    """Removes a member's access, resets their command menu and tells them."""
    member = await membership.revoke_member(request.actor, request.callback.int_arg(0),
                                            session=request.session, now=request.now)
    user_id = member.telegram_user_id
    await request.owe("commands", chat_id=user_id)  # back to a citizen's menu
    done = _("Access removed for {name}.").format(name=esc(member.display_name))
    told = Reply(_("Your access as a member has been removed by an administrator. You can "
                   "still use the bot as a citizen. If this is a mistake, please contact your "
                   "commune."), chat_id=user_id)
    page = await _members_page(request, 0)
    return [Reply(done, edit=True), dataclasses.replace(page, edit=False), told]


# --- pending invitations ------------------------------------------------------------------


async def _invites_list(request: Request, prefix: str = "") -> Reply:
    invites = await membership.list_pending_invites(request.actor, session=request.session,
                                                    now=request.now)
    if not invites:
        return Reply(prefix + _("There are no unused invitations."), keyboard([[_BACK()]]),
                     edit=request.callback is not None)
    lines = [prefix + _("<b>Unused invitations</b>"), ""]
    buttons = []
    for number, invite in enumerate(invites, start=1):
        unit_name, agency_name = await membership.describe_invite(invite, session=request.session)
        where = unit_name + (f" – {agency_name}" if agency_name else "")
        lines.append(_("{n}. {role}, {where} – expires {expires}").format(
            n=number, role=role_name(invite.role), where=esc(where),
            expires=vi_datetime(invite.expires_at, request.runtime.tz)))
        label = _("Cancel invitation {n}").format(n=number)
        buttons.append([(label, cb.build(INV, "x", invite.id))])
    buttons.append([_BACK()])
    return Reply("\n".join(lines), keyboard(buttons), edit=request.callback is not None)


@handles
async def show_invites(request: Request) -> Reply:
    """Lists invitations that are still usable."""
    return await _invites_list(request)


@handles
async def cancel_invite(request: Request) -> Reply:
    """Cancels an invitation and shows the remaining ones."""
    await membership.revoke_invite(request.actor, request.callback.int_arg(0),
                                   session=request.session, now=request.now)
    return await _invites_list(request, _("Invitation cancelled.") + "\n\n")


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    inv, mem, menu = cb.pattern(INV), cb.pattern(MEM), cb.pattern(MENU)
    return [
        CommandHandler("invite", start_invite, filters=private),
        CommandHandler("members", show_members, filters=private),
        CommandHandler("invites", show_invites, filters=private),
        CallbackQueryHandler(start_invite, pattern=menu + "invite$"),
        CallbackQueryHandler(show_members, pattern=menu + "members$"),
        CallbackQueryHandler(show_invites, pattern=menu + "invites$"),
        CallbackQueryHandler(start_invite, pattern=inv + r"cp:\d+$"),
        CallbackQueryHandler(chose_commune, pattern=inv + r"c:\d+$"),
        CallbackQueryHandler(chose_role, pattern=inv + r"r:\d+:[a-z_]+(:\d+)?$"),
        CallbackQueryHandler(chose_agency, pattern=inv + r"a:\d+:\d+$"),
        CallbackQueryHandler(chose_village, pattern=inv + r"v:\d+$"),
        CallbackQueryHandler(cancel_invite, pattern=inv + r"x:\d+$"),
        CallbackQueryHandler(show_members, pattern=mem + r"p:\d+$"),
        CallbackQueryHandler(confirm_revoke, pattern=mem + r"rv:\d+$"),
        CallbackQueryHandler(revoke, pattern=mem + r"ry:\d+$"),
    ]
