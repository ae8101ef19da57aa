"""/cases: my open cases, the ones nobody has taken, the overdue ones and all open cases of
the commune, filtered by village, category or status, a page at a time. Agency members
see the cases referred to their agency; village collaborators the reports they sent."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_duration
from domain.cases import OPEN_STATUSES, CaseStatus
from domain.names import sort_key
from domain.reports import Category
from domain.roles import Role
from handlers import callback_data as cb
from handlers.cases import card_button_data
from handlers.common import Reply, Request, handles, keyboard
from handlers.paging import nav_row, page_of
from handlers.texts import button_label, category_name, esc, risk_name, status_name
from services import cases as cases_service

CL = "cl"
NONE = "-"  # no filter (callback parts cannot be empty)
FILTER_CHOICES_PER_PAGE = 20  # a commune may have a hundred villages; Telegram takes 100 buttons


def _view_name(view: str, leader: bool = False) -> str:
    if leader and view == "mine":
        return _("Waiting for your approval")
    return {"mine": _("My cases"), "new": _("Not taken yet"), "late": _("Overdue"),
            "all": _("All open cases")}[view]


def list_data(view: str, page: int, village: int | None, category: str | None,
              status: str | None, action: str = "v") -> str:
    return cb.build(CL, action, view, page, village or 0, category or NONE, status or NONE)


def _parse(request: Request) -> tuple[str, int, int | None, str | None, str | None]:
    callback = request.callback
    args = callback.args
    try:
        village = callback.int_arg(2) or None
        category = None if args[3] == NONE else Category(args[3]).value
        status = None if args[4] == NONE else CaseStatus(args[4]).value
        return args[0], callback.int_arg(1), village, category, status
    except (IndexError, ValueError) as exc:
        raise cb.StaleButton("case list filter") from exc


def _row_text(number: int, case, report, villages: dict[int, str], now) -> str:  # noqa: ANN001
    head = f"{number}. <b>{report.code}</b>" + (" 🚨" if case.urgent else "")
    parts = [status_name(case.status)]
    if case.risk:
        parts.append(_("risk {level}").format(level=risk_name(case.risk).lower()))
    line2 = [category_name(report.category)]
    if report.village_id and report.village_id in villages:
        line2.append(esc(villages[report.village_id]))
    if case.due_at is not None and case.status != CaseStatus.CLOSED:
        left = case.due_at - now
        line2.append(_("⏰ {left} left").format(left=vi_duration(left)) if left.total_seconds() > 0
                     else _("❗ overdue by {late}").format(late=vi_duration(-left)))
    return f"{head} · {' · '.join(parts)}\n    {' · '.join(line2)}"


async def render_list(request: Request, view: str, page: int, village: int | None,
                      category: str | None, status: str | None, *, edit: bool,
                      listing: cases_service.CaseList | None = None, note: str = "") -> Reply:
    if listing is None:
        listing = await cases_service.list_cases(request.actor, view, page=page,
                                                 village_id=village, category=category,
                                                 status=status, session=request.session,
                                                 now=request.now)
    staff = request.actor.role in (Role.OFFICER, Role.ADMIN, Role.LEADER)
    leader = request.actor.role is Role.LEADER
    title = _view_name(view, leader) if staff else (
        _("Cases referred to your agency") if request.actor.role is Role.AGENCY_MEMBER
        else _("Reports you sent"))
    lines = [note] if note else []
    lines.append(_("📂 <b>{title}</b> ({total})").format(title=title, total=listing.total))
    narrowed = [esc(listing.villages.get(village, "?")) if village else None,
                category_name(category) if category else None,
                status_name(status) if status else None]
    if any(narrowed):
        lines.append(_("Filter: {what}").format(what=", ".join(n for n in narrowed if n)))
    if not listing.rows:
        lines += ["", _("No case here.")]
    first = listing.page * cases_service.PAGE_SIZE + 1
    lines += ["", *[_row_text(first + i, c, r, listing.villages, request.now)
                    for i, (c, r) in enumerate(listing.rows)]]
    if listing.pages > 1:
        lines += ["", _("Page {page} of {pages}").format(page=listing.page + 1,
                                                         pages=listing.pages)]
    return Reply("\n".join(lines), _list_keyboard(listing, staff, village, category, status,
                                                  leader=leader), edit=edit)


def _list_keyboard(listing: cases_service.CaseList, staff: bool, village: int | None,
                   category: str | None, status: str | None, *,
                   leader: bool = False) -> InlineKeyboardMarkup:
    view, page = listing.view, listing.page
    first = page * cases_service.PAGE_SIZE + 1
    opens = [(f"{first + i}. {r.code}", card_button_data(c.id))
             for i, (c, r) in enumerate(listing.rows)]
    rows = [opens[i:i + 2] for i in range(0, len(opens), 2)]
    nav = []
    if page > 0:
        nav.append((_("◀️ Previous"), list_data(view, page - 1, village, category, status)))
    if page + 1 < listing.pages:
        nav.append((_("Next ▶️"), list_data(view, page + 1, village, category, status)))
    if nav:
        rows.append(nav)
    if staff:
        views = [((("• " if v == view else "") + _view_name(v, leader)),
                  list_data(v, 0, village, category, status))
                 for v in cases_service.LIST_VIEWS]
        rows += [views[:2], views[2:]]
    filters_row = [(_("🏘 Village"), list_data(view, 0, village, category, status, "fv")),
                   (_("📂 Category"), list_data(view, 0, village, category, status, "fc")),
                   (_("🔖 Status"), list_data(view, 0, village, category, status, "fs"))]
    rows.append(filters_row)
    if village or category or status:
        rows.append([(_("✖️ Clear the filter"), list_data(view, 0, None, None, None))])
    return keyboard(rows)


@handles
async def cases_command(request: Request) -> Reply:
    """/cases: my open cases first (the other lists are a tap away)."""
    if request.actor.role is Role.LEADER:  # what waits for the leader's decision first
        return await render_list(request, "mine", 0, None, None, None, edit=False)
    view = "mine" if request.actor.role in (Role.OFFICER, Role.ADMIN) else "all"
    arg = (request.context.args or [""])[0].lower()
    if arg in cases_service.LIST_VIEWS:
        return await render_list(request, arg, 0, None, None, None, edit=False)
    if view == "mine":
        return await _what_needs_action(request)
    return await render_list(request, view, 0, None, None, None, edit=False)


async def _what_needs_action(request: Request) -> Reply:
    """My cases; when I have none, the cases nobody took, else the overdue ones (urgent
    and nearest deadline first, as every list)."""
    for view in ("mine", "new", "late"):
        listing = await cases_service.list_cases(request.actor, view, session=request.session,
                                                 now=request.now)
        if listing.total:
            note = "" if view == "mine" else _("You are not handling any case. These need "
                                               "someone:")
            return await render_list(request, view, 0, None, None, None, edit=False,
                                     listing=listing, note=note)
    return await render_list(request, "mine", 0, None, None, None, edit=False)


@handles
async def show_list(request: Request) -> Reply:
    return await render_list(request, *_parse(request), edit=True)


@handles
async def choose_filter(request: Request) -> Reply:
    """Offers the villages, categories or statuses of the list, with how many cases each."""
    view, page, village, category, status = _parse(request)
    action = request.callback.action
    listing = await cases_service.list_cases(request.actor, view, village_id=None if action == "fv"
                                             else village, category=None if action == "fc"
                                             else category, status=status,
                                             session=request.session, now=request.now)
    if action == "fv":
        text = _("Show the cases of which village?")
        choices = [(f"{button_label(listing.villages.get(v, '?'), 24)} ({n})",
                    list_data(view, 0, v, category, status))
                   for v, n in sorted(listing.village_counts.items(),
                                      key=lambda kv: sort_key(listing.villages.get(kv[0], "")))
                   if v]
    elif action == "fc":
        text = _("Show the cases of which category?")
        choices = [(f"{category_name(c)} ({n})", list_data(view, 0, village, c, status))
                   for c, n in sorted(listing.category_counts.items())]
    else:
        text = _("Show the cases at which step?")
        statuses = list(OPEN_STATUSES) + ([CaseStatus.CLOSED] if view == "all" else [])
        choices = [(status_name(s), list_data(view, 0, village, category, s))
                   for s in CaseStatus if s in statuses]
    shown = page_of(choices, page if action == "fv" else 0, FILTER_CHOICES_PER_PAGE)
    rows = [shown.items[i:i + 2] for i in range(0, len(shown.items), 2)]
    rows += nav_row(shown, lambda n: list_data(view, n, village, category, status, action))
    rows.append([(_("⬅️ Back to the list"), list_data(view, 0, village, category, status))])
    if not choices:
        text = _("No case to filter here.")
    return Reply(text, keyboard(rows), edit=True)


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(CL)
    tail = r":(mine|new|late|all):\d+:\d+:[a-z0-9_-]+:[a-z_-]+$"
    return [
        CommandHandler("cases", cases_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_list, pattern=p + "v" + tail),
        CallbackQueryHandler(choose_filter, pattern=p + "(fv|fc|fs)" + tail),
    ]
