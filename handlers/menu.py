"""The main menu and help for each role. Every screen that ends a flow leads back here."""

from __future__ import annotations

from bot.i18n import _
from domain.names import in_sentence
from domain.roles import Action, Actor, Role, can
from handlers import callback_data as cb
from handlers.case_list import list_data
from handlers.common import Reply, Request, keyboard
from handlers.texts import esc, hotline_block, role_name
from services import profile
from services import reports as report_service

MENU = "menu"


def menu_keyboard(actor: Actor, *, draft_open: bool = False):  # noqa: ANN201
    report = ((_("▶️ Continue my unsent report"), cb.build("rp", "new")) if draft_open
              else (_("🆘 Report a child at risk"), cb.build("rp", "new")))
    rows = [[report], [(_("☎️ Emergency numbers"), cb.build(MENU, "hotline")),
                       (_("🔎 Check a report"), cb.build(MENU, "status"))]]
    if actor.role in (Role.OFFICER, Role.ADMIN) and not actor.is_superadmin:
        rows.append([(_("📂 Cases"), list_data("mine", 0, None, None, None)),
                     (_("➕ Open a case"), cb.build("nc", "start"))])
    elif actor.role is Role.LEADER:
        rows.append([(_("📂 Cases"), list_data("mine", 0, None, None, None))])
    elif actor.role in (Role.AGENCY_MEMBER, Role.COLLABORATOR):
        rows.append([(_("📂 Cases"), list_data("all", 0, None, None, None))])
    if actor.role in (Role.OFFICER, Role.ADMIN, Role.COLLABORATOR) and actor.scope is not None \
            and not actor.is_superadmin and len(actor.scope.path) >= 2:
        rows.append([(_("👧 Children in special circumstances"), cb.build("tre", "home"))])
    if can(actor, Action.VIEW_DEADLINES):
        rows.append([(_("📅 Deadlines and events"), cb.build(MENU, "deadlines"))])
    if (actor.role in (Role.OFFICER, Role.ADMIN, Role.AGENCY_MEMBER)
            and not actor.is_superadmin and actor.unit_id is not None):
        rows.append([(_("📋 Report round"), cb.build("br", "menu"))])
    admin_tools = []
    if can(actor, Action.VIEW_STATS, actor.scope):
        admin_tools.append((_("📊 Report figures"), cb.build(MENU, "stats")))
    if actor.scope is not None and can(actor, Action.BROADCAST, actor.scope):
        admin_tools.append((_("📨 Send a message"), cb.build(MENU, "broadcast")))
    if admin_tools:
        rows.append(admin_tools)
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
        name=name, role=role_name(actor.role), unit=esc(in_sentence(where))
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
        _("/baotin – report a child at risk"),
        _("/status CODE – check a report you sent"),
        _("/huy – cancel the report you are writing"),
        _("/hotline – emergency phone numbers"),
        _("/help – this help"),
        _("/xoathongtin – see what is kept about you, and delete your name and phone"),
    ]
    if actor.is_member:
        lines += [
            "",
            _("<b>For officers and agencies</b>"),
            _("/deadlines – report deadlines and events in the next 60 days"),
            _("/calendar [year] – the whole year"),
            _("/subscribe – receive reminders here (in a group: choose the agency); "
              "/unsubscribe stops them"),
            _("/cases – the cases you may see: yours, not taken yet, overdue, all open"),
            _("/case CODE – one case: status, deadline, history and what you can do"),
            _("/baocao – the report round: an agency fills in its part of the commune's "
              "report; officers see who has sent it, remind and lock"),
        ]
    if actor.role is Role.LEADER:
        lines += ["", _("<b>For the commune's leader</b>"),
                  _("Support plans and closing proposals come to you for approval (Decree "
                    "56/2017, articles 28 and 30): approve them, or return them with a comment. "
                    "/cases shows what waits for you first."),
                  _("/stats [period] – figures for the 6-month and annual reports")]
    if actor.role in (Role.OFFICER, Role.ADMIN):
        lines += [_("/newcase – open a case for a phone call, a school's notice or a visit")]
    if actor.role in (Role.OFFICER, Role.ADMIN, Role.COLLABORATOR):
        lines.append(_("/tre – the register of children in special circumstances: lists by "
                       "village, a child's record, adding and updating"))
        lines.append(_("/stats [period] – figures for the 6-month and annual reports, a chart "
                       "and the appendix as XLSX and CSV"))
    if actor.role is Role.ADMIN:
        lines += [
            "",
            _("<b>For administrators</b>"),
            _("/event CODE DATE – move an event or deadline, e.g. /event bao-cao-nam 20/11"),
            _("/broadcast – send a message to the commune's subscribed chats"),
            _("/invite – create a single-use invitation link for an officer, an agency member, "
              "a village collaborator or another administrator"),
            _("/members – members of your commune, with the option to remove access"),
            _("/invites – invitations not used yet, with the option to cancel them"),
            _("/audit CODE – who saw and changed a case"),
            _("/truycap [period] – who viewed or exported data, for an inspector (with XLSX)"),
        ]
    lines += ["", _("In an emergency, call 113 (police), 115 (ambulance) or 111 (child "
                    "protection hotline, free, 24/7).")]
    return "\n".join(lines)




async def main_menu(request: Request, actor: Actor | None = None, *, prefix: str = "",
                    edit: bool = False, draft_open: bool | None = None) -> Reply:
    """The menu of `actor` (default: the requester), aware of an unsent report.
    `draft_open`: whether they have one, when the caller knows (None: read here)."""
    actor = actor or request.actor
    if draft_open is None:
        draft_open = await report_service.get_draft(actor.user_id,
                                                    session=request.session) is not None
    text = await menu_text(request, actor)
    if draft_open:
        text += "\n\n" + _("You have a report you have not sent yet.")
    return Reply(prefix + text, menu_keyboard(actor, draft_open=draft_open), edit=edit)
