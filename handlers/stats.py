"""/stats [period]: the figures for the 6-month and annual reports in the chat, a chart,
and the report appendix as XLSX and CSV (also from the 📊 button of deadline reminders).

The numbers come from services/stats.py; this module only words them (Vietnamese through
the catalog) and sends them. Province level gets aggregates only: no case list.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Callable

from babel.numbers import format_decimal
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import _, vi_datetime, vi_short_date
from bot.runtime import Runtime
from domain.cases import CaseStatus, ChildSex, HarmPlace, RiskLevel, SpecialGroup
from domain.errors import InvalidInput
from domain.names import sort_key
from domain.periods import Period, PeriodKind, parse_period
from domain.reports import AgeGroup, Category
from domain.stats import CHANNELS, NO_RISK, NO_VILLAGE, PLAN_WORKING_DAYS, working_days_to
from handlers import callback_data as cb
from handlers.common import Reply, Request, handles, keyboard
from handlers.register import leave_reason_name
from handlers.texts import (
    age_name,
    capitalised,
    category_name,
    chunks,
    esc,
    harm_place_name,
    risk_name,
    sex_name,
    status_name,
)
from handlers.texts import channel_name as case_channel_name
from services import register as register_service
from services import stats as service
from services.stats_export import (
    Appendix,
    Chart,
    Panel,
    Row,
    Section,
    Sheet,
    WorkbookWriter,
    render_chart,
    totals_csv,
)

log = logging.getLogger(__name__)

ST = "st"
PROGRESS_INTERVAL = 1.5  # seconds between two progress edits


# --- words for the figures --------------------------------------------------------------------


def plain(label: str) -> str:
    """A label without its leading emoji, for files and charts."""
    return re.sub(r"^\W+", "", label).strip()


def channel_name(channel: str) -> str:
    """How reports came in, as a row label (the same words as the case card)."""
    return capitalised(case_channel_name(channel))


def special_group_name(group: str) -> str:
    """The 14 groups of art. 10 of the Law on Children, worded as the law does (the case card
    uses the short names of handlers/texts.py)."""
    return {
        SpecialGroup.ORPHAN: _("Children orphaned of both parents"),
        SpecialGroup.ABANDONED: _("Abandoned children"),
        SpecialGroup.NO_CARER: _("Children without anyone to rely on"),
        SpecialGroup.DISABILITY: _("Children with a disability"),
        SpecialGroup.HIV: _("Children living with HIV/AIDS"),
        SpecialGroup.LAW_VIOLATION: _("Children in conflict with the law"),
        SpecialGroup.DRUGS: _("Children addicted to drugs"),
        SpecialGroup.DROPOUT_WORK: _("Left school to earn a living before finishing lower "
                                     "secondary education"),
        SpecialGroup.VIOLENCE_HARM: _("Seriously harmed in body or mind by violence"),
        SpecialGroup.EXPLOITATION: _("Exploited children"),
        SpecialGroup.SEXUAL_ABUSE: _("Sexually abused children"),
        SpecialGroup.TRAFFICKING: _("Trafficked children"),
        SpecialGroup.SERIOUS_ILLNESS: _("Seriously or long-term ill, of a poor or near-poor "
                                        "household"),
        SpecialGroup.MIGRANT: _("Migrant or refugee child whose parents are unknown or who has "
                                "no carer"),
    }.get(group, group)


def period_title(period: Period) -> str:
    if period.kind is PeriodKind.SIX_MONTH:
        return _("6-month report {year}").format(year=period.year)
    if period.kind is PeriodKind.ANNUAL:
        return _("annual report {year}").format(year=period.year)
    if period.kind is PeriodKind.CALENDAR_YEAR:
        return _("year {year}").format(year=period.start.year)
    if period.kind is PeriodKind.MONTH:
        return _("month {month}").format(month=period.start.strftime("%m/%Y"))
    return _("chosen dates")


def period_span(period: Period) -> str:
    return f"{vi_short_date(period.start)} – {vi_short_date(period.end)}"


def scope_name(scope: service.Scope) -> str:
    return scope.name or _("All communes")


def number(value: float | int | None) -> str:
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.#", locale="vi")


# --- the indicator table (the chat text, the XLSX and the CSV all read it) ---------------------


def appendix(figures: service.Figures, tz: dt.tzinfo) -> Appendix:
    communes = figures.communes
    province = figures.scope.province_level
    total = figures.total

    def row(number_: str, label: str, unit: str, get: Callable[[service.CommuneFigures], object],
            bold: bool = False) -> Row:
        return Row(number_, label, unit, [get(c) for c in communes], get(total), bold)

    reports, cases = _("reports"), _("cases")
    sections = []
    s1 = Section("I", _("Reports received and where they came from"))
    s1.rows.append(row("1", _("Reports received"), reports, lambda c: c.reports, True))
    s1.rows.append(row("2", _("By what is happening"), "", lambda c: None, True))
    for i, category in enumerate(Category, 1):
        s1.rows.append(row(f"2.{i}", plain(category_name(category)), reports,
                           lambda c, k=str(category): c.by_category.get(k, 0)))
    s1.rows.append(row("3", _("By village"), "", lambda c: None, True))
    villages = sorted(figures.village_names.items(),
                      key=lambda kv: (figures.village_commune.get(kv[0], 0), sort_key(kv[1])))
    names = {c.commune_id: c.name for c in communes}
    for i, (village_id, name) in enumerate(villages, 1):
        label = (f"{name} ({names.get(figures.village_commune.get(village_id), '')})"
                 if province else name)
        s1.rows.append(row(f"3.{i}", label, reports,
                           lambda c, v=village_id: c.by_village.get(v, 0)))
    s1.rows.append(row(f"3.{len(villages) + 1}", _("No village given (address or location)"),
                       reports, lambda c: c.by_village.get(NO_VILLAGE, 0)))
    s1.rows.append(row("4", _("By age group"), "", lambda c: None, True))
    for i, age in enumerate(AgeGroup, 1):
        s1.rows.append(row(f"4.{i}", age_name(age).capitalize(), reports,
                           lambda c, k=str(age): c.by_age.get(k, 0)))
    s1.rows.append(row("5", _("By urgency"), "", lambda c: None, True))
    s1.rows.append(row("5.1", _("Urgent (a child in danger now)"), reports,
                       lambda c: c.by_urgency.get(True, 0)))
    s1.rows.append(row("5.2", _("Not urgent"), reports, lambda c: c.by_urgency.get(False, 0)))
    s1.rows.append(row("6", _("By channel"), "", lambda c: None, True))
    for i, channel in enumerate(CHANNELS, 1):
        s1.rows.append(row(f"6.{i}", channel_name(channel), reports,
                           lambda c, k=channel: c.by_channel.get(k, 0)))
    s1.rows.append(row("7", _("By month"), "", lambda c: None, True))
    for i, (year, month) in enumerate(figures.period.months(), 1):
        key = f"{year:04d}-{month:02d}"
        s1.rows.append(row(f"7.{i}", _("Month {month}").format(month=f"{month:02d}/{year}"),
                           reports, lambda c, k=key: c.by_month.get(k, 0)))
    sections.append(s1)

    s2 = Section("II", _("Cases and their status"))
    s2.rows.append(row("1", _("Cases opened for these reports"), cases, lambda c: c.cases, True))
    s2.rows.append(row("2", _("By status now"), "", lambda c: None, True))
    for i, status in enumerate(CaseStatus, 1):
        s2.rows.append(row(f"2.{i}", status_name(status), cases,
                           lambda c, k=str(status): c.cases_by_status.get(k, 0)))
    s2.rows.append(row("3", _("By risk level"), "", lambda c: None, True))
    for i, risk in enumerate([*RiskLevel, None], 1):
        s2.rows.append(row(f"3.{i}", risk_name(risk).capitalize(), cases,
                           lambda c, k=str(risk) if risk else NO_RISK:
                           c.cases_by_risk.get(k, 0)))
    s2.rows.append(row("4", _("Open cases past the deadline of their current step"), cases,
                       lambda c: c.overdue, True))
    sections.append(s2)

    s3 = Section("III", _("Timeliness"))
    s3.rows.append(row("1", _("Urgent reports"), reports, lambda c: c.urgent))
    s3.rows.append(row("2", _("Urgent reports assessed within 12 hours"), reports,
                       lambda c: c.urgent_in_time))
    s3.rows.append(row("3", _("Share of urgent reports assessed within 12 hours"), "%",
                       lambda c: _percent(c.urgent_in_time_share), True))
    s3.rows.append(row("4", _("Cases with a support plan"), cases, lambda c: c.plans))
    s3.rows.append(row("5", _("Median time from the report to the support plan"),
                       _("working days"), lambda c: c.median_plan_days, True))
    s3.rows.append(row("6", _("Support plans within {days} working days").format(
        days=PLAN_WORKING_DAYS), cases, lambda c: c.plans_in_time))
    sections.append(s3)

    s4 = Section("IV", _("Referrals"))
    s4.rows.append(row("1", _("Referrals to agencies"), _("referrals"),
                       lambda c: c.referral_count, True))
    agencies = sorted(figures.agency_names.items(), key=lambda kv: sort_key(kv[1]))
    for i, (agency_id, name) in enumerate(agencies, 1):
        s4.rows.append(row(f"1.{i}", name, _("referrals"),
                           lambda c, a=agency_id: c.referrals.get(a, 0)))
    sections.append(s4)

    s5 = Section("V", _("Children in special circumstances (Law on Children, art. 10)"))
    s5.rows.append(row("1", _("Cases with a child in special circumstances"), cases,
                       lambda c: c.special_groups.get(None, 0), True))
    for i, group in enumerate(SpecialGroup, 1):
        s5.rows.append(row(f"1.{i}", special_group_name(group), cases,
                           lambda c, k=str(group): c.special_groups.get(k, 0)))
    sections.append(s5)

    s6 = Section("VI", _("Children in the cases by sex, age group and place of harm "
                         "(as Circular 13/2021 breaks down the children abused)"))
    s6.rows.append(row("1", _("By the child's sex"), "", lambda c: None, True))
    for i, sex in enumerate([*ChildSex, None], 1):
        s6.rows.append(row(f"1.{i}", sex_name(sex).capitalize(), cases,
                           lambda c, k=str(sex) if sex else NO_RISK: c.cases_by_sex.get(k, 0)))
    s6.rows.append(row("2", _("By age group"), "", lambda c: None, True))
    for i, age in enumerate(AgeGroup, 1):
        s6.rows.append(row(f"2.{i}", age_name(age).capitalize(), cases,
                           lambda c, k=str(age): c.cases_by_age.get(k, 0)))
    s6.rows.append(row("3", _("By place of harm"), "", lambda c: None, True))
    for i, place in enumerate([*HarmPlace, None], 1):
        s6.rows.append(row(f"3.{i}", harm_place_name(place).capitalize(), cases,
                           lambda c, k=str(place) if place else NO_RISK:
                           c.cases_by_place.get(k, 0)))
    sections.append(s6)

    heading = [
        _("APPENDIX: CHILD PROTECTION FIGURES"),
        _("{title}, {span}").format(title=period_title(figures.period).capitalize(),
                                    span=period_span(figures.period)),
        _("Unit: {name}").format(name=scope_name(figures.scope)),
        _("Counted by treem-bot at {when}; a report belongs to the period it was received in, "
          "its case's figures are as they are now.").format(
            when=vi_datetime(figures.generated_at, tz)),
    ]
    return Appendix(heading=heading, header=[_("No."), _("Indicator"), _("Unit")],
                    columns=[c.name for c in communes],
                    total_label=_("Total") if len(communes) > 1 else None,
                    sections=sections, sheet_name=_("Totals"))


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


# --- the chat text --------------------------------------------------------------------------------


def figures_text(figures: service.Figures, tz: dt.tzinfo) -> list[str]:
    """The figures as chat messages (HTML, each under Telegram's limit)."""
    table = appendix(figures, tz)
    header = "\n".join([
        _("📊 <b>Figures for the {title}</b>").format(title=esc(period_title(figures.period))),
        _("{unit}, {span}").format(unit=esc(scope_name(figures.scope)),
                                  span=period_span(figures.period)),
        _("As of {when}").format(when=vi_datetime(figures.generated_at, tz)),
    ])
    blocks = []
    days_unit = _("working days")
    if figures.scope.province_level:
        lines = [_("<b>Communes side by side</b>")]
        for c in figures.communes:
            lines.append(_("<b>{name}</b>: {reports} reports ({urgent} urgent), {open} cases "
                           "open, {overdue} overdue; assessed within 12 h: {share}; plan: "
                           "median {median} working days").format(
                name=esc(c.name), reports=c.reports, urgent=c.urgent, open=c.open,
                overdue=c.overdue, share=_share_text(c.urgent_in_time_share),
                median=number(c.median_plan_days)))
        blocks.append("\n".join(lines))
    for section in table.sections:
        lines = [f"<b>{esc(section.number)}. {esc(section.title)}</b>"]
        subheading = None
        for r in section.rows:
            value = r.total
            if value is None and r.unit == "":
                subheading = r.label  # shown before its first item that is not zero
                continue
            if not r.bold and not value:
                continue  # zero rows stay in the files, not in the chat
            if subheading and not r.bold:
                lines.append(f"<i>{esc(subheading)}</i>")
            subheading = None
            shown = number(value)
            if value is not None and r.unit == "%":
                shown += "%"
            elif value is not None and r.unit == days_unit:
                shown += f" {days_unit}"
            bullet = "" if r.bold else "• "
            lines.append(f"{bullet}{esc(r.label)}: <b>{shown}</b>")
        blocks.append("\n".join(lines))
    if figures.scope.province_level:
        blocks.append(_("Province level: aggregates only, no case list."))
    blocks.append(_("The chart and the files for the report follow."))
    return chunks(blocks, header)


def _share_text(value: float | None) -> str:
    return "–" if value is None else f"{number(_percent(value))}%"


# --- the chart -----------------------------------------------------------------------------


def chart_of(figures: service.Figures) -> Chart:
    total = figures.total
    categories = [(plain(category_name(k)), v) for k, v in total.by_category.items()]
    if figures.scope.province_level:
        places = Panel(_("Reports by commune"), [(c.name, c.reports) for c in figures.communes])
    else:
        places = Panel(_("Reports by village"), [
            (figures.village_names.get(k) or _("No village given"), v)
            for k, v in total.by_village.items()])
    months = [(f"{m:02d}/{y}", total.by_month.get(f"{y:04d}-{m:02d}", 0))
              for y, m in figures.period.months()]
    return Chart(
        title=_("Reports received: {unit}").format(unit=scope_name(figures.scope)),
        subtitle=f"{period_title(figures.period).capitalize()}, {period_span(figures.period)}",
        panels=[Panel(_("Reports by what is happening"), categories), places,
                Panel(_("Reports per month"), months, kind="line")],
        empty_text=_("No reports in this period"))


# --- the case list -------------------------------------------------------------------------


def case_header() -> list[str]:
    return [_("No."), _("Case number"), _("Received on"), _("What is happening"), _("Village"),
            _("Age group"), _("Children"), _("Urgent"), _("Channel"), _("Status"),
            _("Risk level"), _("Special circumstances"), _("Referred to"), _("Risk assessed"),
            _("Assessed within 12 hours"), _("Support plan adopted"),
            _("Working days to the plan"), _("Overdue now"), _("Closed on"), _("Child's sex"),
            _("Place of harm")]


class CaseRowWords:
    """Turns case rows into the sheet's cells (labels looked up once, not per row)."""

    def __init__(self, agency_names: dict[int, str], village_names: dict[int, str],
                 tz: dt.tzinfo, now: dt.datetime) -> None:
        self.tz, self.now = tz, now
        self.yes, self.no = _("Yes"), _("No")
        self.categories = {str(k): plain(category_name(k)) for k in Category}
        self.ages = {str(k): age_name(k) for k in AgeGroup}
        self.channels = {k: channel_name(k) for k in CHANNELS}
        self.statuses = {str(k): status_name(k) for k in CaseStatus}
        self.risks = {str(k): risk_name(k) for k in RiskLevel}
        self.groups = {str(k): special_group_name(k) for k in SpecialGroup}
        self.sexes = {str(k): sex_name(k) for k in ChildSex}
        self.places = {str(k): harm_place_name(k) for k in HarmPlace}
        self.agencies = agency_names
        self.villages = village_names
        self.count = 0

    def when(self, moment: dt.datetime | None) -> str | None:
        return moment.astimezone(self.tz).strftime("%d/%m/%Y %H:%M") if moment else None

    def __call__(self, rows: list[service.CaseRow]) -> list[list]:
        cells = []
        for r in rows:
            self.count += 1
            in_time = ""
            if r.urgent:
                in_time = self.yes if (r.assessed_at is not None and r.assessed_at
                                       - r.received_at <= dt.timedelta(hours=12)) else self.no
            overdue = (r.status != CaseStatus.CLOSED and r.due_at is not None
                       and r.due_at < self.now)
            cells.append([
                self.count, r.case_id, self.when(r.received_at),
                self.categories.get(r.category, r.category),
                self.villages.get(r.village_id) if r.village_id else None,
                self.ages.get(r.age_group, r.age_group), r.child_count,
                self.yes if r.urgent else self.no, self.channels.get(r.channel, r.channel),
                self.statuses.get(r.status, r.status),
                self.risks.get(r.risk) if r.risk else None,
                "; ".join(self.groups.get(g, g) for g in r.special_groups) or None,
                "; ".join(self.agencies.get(a, str(a)) for a in r.agency_ids) or None,
                self.when(r.assessed_at), in_time or None, self.when(r.planned_at),
                working_days_to(r.received_at, r.planned_at, self.tz) if r.planned_at else None,
                self.yes if overdue else None, self.when(r.closed_at),
                self.sexes.get(r.child_sex) if r.child_sex else None,
                self.places.get(r.harm_place) if r.harm_place else None])
        return cells  # None leaves a cell empty (and the file smaller)


# --- handlers -------------------------------------------------------------------------------------


def export_button(scope: service.Scope, period: Period) -> tuple[str, str]:
    return (_("📥 Export XLSX and CSV"), cb.build(ST, "x", scope.unit_id, *period.key()))


@handles
async def stats_command(request: Request) -> list[Reply] | Reply:
    """/stats [period]: the figures, then the chart with the export button."""
    runtime = request.runtime
    scope = await service.scope_for(request.actor, session=request.session)
    today = runtime.local_now().date()
    deadline_of = await service.deadlines_of(scope, session=request.session)
    try:
        period = parse_period(" ".join(request.context.args or []), today, deadline_of)
    except InvalidInput:
        return Reply(_("That period cannot be read. Write for example:\n/stats (the report "
                       "due next)\n/stats 6 tháng 2027\n/stats năm 2026\n/stats năm nay\n"
                       "/stats tháng trước\n/stats 1/1/2026-31/3/2026"))
    figures = await service.figures(scope, period, session=request.session, tz=runtime.tz,
                                    now=request.now)
    await service.record_use(request.actor, scope, period, "viewed", session=request.session,
                             now=request.now)
    caption = _("📈 {title}, {span}").format(title=esc(period_title(period).capitalize()),
                                             span=period_span(period))
    # The chart is drawn when it is sent (by the outbox sender, after these replies).
    await request.owe("chart", {"chart": dataclasses.asdict(chart_of(figures)),
                                "caption": caption},
                      markup=keyboard([[export_button(scope, period)]]))
    replies = [Reply(text) for text in figures_text(figures, runtime.tz)]
    register, villages = await register_figures(scope, period, session=request.session,
                                                tz=runtime.tz, now=request.now)
    if register.total or register.joined or register.left or register.reviews_due:
        replies.append(Reply(register_text(register, scope, villages)))
    return replies


def register_text(figures: register_service.RegisterFigures, scope: service.Scope,
                  villages: dict[int, str] | None = None) -> str:
    """The register of children in special circumstances as it stands today: children by
    group and the shares with the support the plans aim at 100% for (aggregates only)."""
    lines = [_("👧 <b>Register of children in special circumstances</b> ({unit}, today)")
             .format(unit=esc(scope_name(scope))),
             _("Children on the register: <b>{n}</b>").format(n=number(figures.total))]
    for group in SpecialGroup:
        if figures.by_group.get(str(group)):
            lines.append(f"• {esc(special_group_name(str(group)))}: "
                         f"<b>{number(figures.by_group[str(group)])}</b>")
    if figures.at_risk:
        lines.append(_("• At risk of falling into special circumstances: <b>{n}</b>").format(
            n=number(figures.at_risk)))
    lines.append(_("<i>Support (target 100%; children not eligible are not counted)</i>"))
    words = {"bhyt": _("With a health insurance card (BHYT)"),
             "birth": _("Birth registered, with papers"),
             "allowance": _("Receiving monthly social assistance")}
    for kind in register_service.TARGET_KINDS:
        lines.append(_("• {what}: <b>{has}</b> ({share})").format(
            what=words[str(kind)], has=number(figures.has.get(str(kind), 0)),
            share=_share_text(figures.share(str(kind)))))
    lines.extend(_register_breakdowns(figures, villages or {}))
    return "\n".join(lines)


def _register_breakdowns(figures: register_service.RegisterFigures,
                         villages: dict[int, str]) -> list[str]:
    """By sex, age band and (one commune) village; added and left in the period."""
    lines = []
    if figures.by_sex:
        lines.append(_("By sex: boys <b>{boys}</b>, girls <b>{girls}</b>").format(
            boys=number(figures.by_sex.get("male", 0)),
            girls=number(figures.by_sex.get("female", 0))))
    if figures.by_age:
        lines.append(_("By age: 0–5 <b>{a}</b>, 6–10 <b>{b}</b>, 11–15 <b>{c}</b>").format(
            a=number(figures.by_age.get("0-5", 0)), b=number(figures.by_age.get("6-10", 0)),
            c=number(figures.by_age.get("11-15", 0))))
    if figures.by_village:
        lines.append(_("<i>By village</i>"))
        named = sorted(((villages.get(v) if v else None, n)
                        for v, n in figures.by_village.items()),
                       key=lambda vn: (vn[0] is None, sort_key(vn[0] or "")))
        unknown = _("No village")
        for name, n in named:
            lines.append(f"• {esc(name or unknown)}: <b>{number(n)}</b>")
    if figures.joined is not None:
        lines.append(_("In the period: <b>{joined}</b> added, <b>{left}</b> left").format(
            joined=number(figures.joined), left=number(sum(figures.left.values()))))
        for reason, n in sorted(figures.left.items()):
            lines.append(f"• {esc(leave_reason_name(reason))}: <b>{number(n)}</b>")
        if figures.reviews_due:
            lines.append(_("Periodic reviews due in the period: <b>{due}</b>, done on time "
                           "<b>{on_time}</b> ({share}), done late {late}, not done yet "
                           "{overdue}").format(
                due=number(figures.reviews_due), on_time=number(figures.reviews_on_time),
                share=_share_text(figures.on_time_share()), late=number(figures.reviews_late),
                overdue=number(figures.reviews_overdue)))
        else:
            lines.append(_("Periodic reviews due in the period: none so far"))
    return lines


async def register_figures(scope: service.Scope, period: Period, *, session,  # noqa: ANN001
                           tz: dt.tzinfo, now: dt.datetime,
                           ) -> tuple[register_service.RegisterFigures, dict[int, str]]:
    """The register's figures for /stats and the workbook, and the commune's village names
    (none for a province)."""
    lo, hi = period.bounds(tz)
    figures = await register_service.figures(
        scope.commune_ids, session=session, today=now.astimezone(tz).date(),
        period=(lo, hi, period.start, period.end), villages=not scope.province_level)
    villages = {} if scope.province_level or not scope.commune_ids else {
        v.id: v.name for v in await register_service.villages(scope.commune_ids[0],
                                                               session=session)}
    return figures, villages


def register_sheet(figures: register_service.RegisterFigures, scope: service.Scope,
                   period: Period, villages: dict[int, str]) -> Sheet:
    """The register's sheet of the report workbook: the figures /stats shows (children
    today by group, support, sex, age band, village; added, left and reviews on time in
    the period), counts and shares in percent."""
    rows: list[tuple[list, bool]] = []

    def section(title: str) -> None:
        rows.append(([title.upper(), None, None], True))

    def row(label: str, n: int | None, share: float | None = None) -> None:
        rows.append(([label, n, _percent(share)], False))

    rows.append(([_("Children on the register (today)"), figures.total, None], True))
    section(_("By circumstance (a child may be in several)"))
    for group in SpecialGroup:
        row(special_group_name(str(group)), figures.by_group.get(str(group), 0))
    row(_("At risk of falling into special circumstances"), figures.at_risk)
    section(_("Support (children not eligible are not counted in the share)"))
    words = {"bhyt": _("With a health insurance card (BHYT)"),
             "birth": _("Birth registered, with papers"),
             "allowance": _("Receiving monthly social assistance")}
    for kind in register_service.TARGET_KINDS:
        row(words[str(kind)], figures.has.get(str(kind), 0), figures.share(str(kind)))
    section(_("By sex"))
    row(_("Boys"), figures.by_sex.get("male", 0))
    row(_("Girls"), figures.by_sex.get("female", 0))
    section(_("By age"))
    for band in register_service.AGE_BANDS:
        row(_("{band} years old").format(band=band.replace("-", "–")),
            figures.by_age.get(band, 0))
    if not scope.province_level:
        section(_("By village"))
        named = sorted(((villages.get(v) if v else None, n)
                        for v, n in figures.by_village.items()),
                       key=lambda vn: (vn[0] is None, sort_key(vn[0] or "")))
        for name, n in named:
            row(name or _("No village"), n)
    section(_("In the period"))
    row(_("Added to the register"), figures.joined or 0)
    row(_("Left the register"), sum(figures.left.values()))
    for reason, n in sorted(figures.left.items()):
        row("– " + leave_reason_name(reason), n)
    section(_("Periodic reviews due in the period"))
    row(_("Reviews due"), figures.reviews_due)
    row(_("Done on time (on or before the due day)"), figures.reviews_on_time,
        figures.on_time_share())
    row(_("Done late"), figures.reviews_late)
    row(_("Not done yet (overdue)"), figures.reviews_overdue)
    heading = [_("Children in special circumstances – {unit}").format(unit=scope_name(scope)),
               _("{title}: {span}").format(title=period_title(period).capitalize(),
                                           span=period_span(period))]
    return Sheet(_("Children HCĐB"), heading, [_("Indicator"), _("Children"), _("Share (%)")],
                 rows)


async def send_owed_chart(bot, runtime: Runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "chart" rows: draws the PNG from the figures in the row and sends it."""
    payload = delivery.payload
    data = payload["chart"]
    chart = Chart(title=data["title"], subtitle=data["subtitle"], empty_text=data["empty_text"],
                  panels=[Panel(p["title"], [(label, value) for label, value in p["items"]],
                                kind=p["kind"]) for p in data["panels"]])
    png = await asyncio.to_thread(render_chart, chart)
    markup = InlineKeyboardMarkup.de_json(delivery.markup, bot) if delivery.markup else None
    message = await bot.send_photo(delivery.chat_id, png, caption=payload["caption"],
                                   reply_markup=markup)
    return message.message_id


async def start_export(request: Request, unit_id: int, period: Period) -> Reply | None:
    """Checks who asks, records it, and owes the files (an outbox row, made at send time,
    in the private chat of the person who pressed: never a group)."""
    scope = await service.scope_for(request.actor, unit_id, session=request.session)
    await service.record_use(request.actor, scope, period, "exported", session=request.session,
                             now=request.now)
    await request.owe("export", {"scope": dataclasses.asdict(scope),
                                 "period": list(period.key())}, chat_id=request.user_id)
    if request.update.effective_chat.type != "private":
        return Reply(_("I am sending the files to you in our private chat."))
    return None


@handles
async def export_pressed(request: Request) -> Reply | None:
    """The export button under the chart."""
    try:
        period = Period.from_key(*request.callback.args[1:4])
    except (InvalidInput, ValueError):
        return Reply(_("This button is out of date. Please send /stats again."))
    return await start_export(request, request.callback.int_arg(0), period)


def file_name(scope: service.Scope, period: Period, ext: str) -> str:
    return f"so-lieu-{scope.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{ext}"


async def send_owed_export(bot, runtime: Runtime, delivery) -> int:  # noqa: ANN001
    """The outbox's "export" rows: the scope (as checked when it was asked for) and the
    period are in the row; the files are made now."""
    data = delivery.payload
    fields = dict(data["scope"], commune_ids=tuple(data["scope"]["commune_ids"]))
    return await run_export(runtime, bot, delivery.chat_id, service.Scope(**fields),
                            Period.from_key(*data["period"]))


async def run_export(runtime: Runtime, bot, chat_id: int, scope: service.Scope,  # noqa: ANN001
                     period: Period) -> int:
    """Makes the workbook and the CSV, with a progress message, and sends them. Returns
    the progress message's id (a failure after it is told in that message)."""
    title = period_title(period)
    shown = _("⏳ Preparing the files for the {title} ({span})…").format(
        title=esc(title), span=period_span(period))
    progress = await bot.send_message(chat_id, shown)

    async def show(text: str) -> None:
        nonlocal shown
        if text == shown:
            return
        shown = text
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=progress.message_id)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    try:
        started = time.monotonic()
        now = runtime.clock.now()
        async with runtime.db.session() as session:
            figures = await service.figures(scope, period, session=session, tz=runtime.tz,
                                            now=now)
            agencies = await service.agency_names_of(scope, session=session)
            villages = await service.village_names_of(scope, session=session)
            register, register_villages = await register_figures(
                scope, period, session=session, tz=runtime.tz, now=now)
        table = appendix(figures, runtime.tz)
        header = None if scope.aggregates_only else case_header()
        extra = [register_sheet(register, scope, period, register_villages)]
        writer = await asyncio.to_thread(WorkbookWriter, table, _("Cases"), header, extra)
        words = CaseRowWords(agencies, villages, runtime.tz, now)
        expected = figures.total.cases
        last = time.monotonic()
        async for page in service.case_rows(runtime.db, scope, period, tz=runtime.tz):
            await asyncio.to_thread(lambda p=page: writer.add_cases(words(p)))
            if time.monotonic() - last >= PROGRESS_INTERVAL and words.count < expected:
                last = time.monotonic()
                await show(_("⏳ Preparing the files: {done} of {total} cases ({percent}%)…")
                           .format(done=number(words.count), total=number(expected),
                                   percent=words.count * 100 // max(expected, 1)))
        xlsx = await asyncio.to_thread(writer.finish)
        csv_bytes = totals_csv(table)
        caption = _("📑 {title}, {unit}, {span}").format(
            title=esc(title.capitalize()), unit=esc(scope_name(scope)),
            span=period_span(period))
        await bot.send_document(chat_id, xlsx, filename=file_name(scope, period, "xlsx"),
                                caption=caption)
        await bot.send_document(chat_id, csv_bytes, filename=file_name(scope, period, "csv"),
                                caption=_("The totals as CSV"))
        sheets = (_("a sheet of totals per indicator") if scope.aggregates_only else
                  _("a sheet of totals per indicator and a list of {n} cases without personal "
                    "data").format(n=number(words.count)))
        await show(_("✅ Files ready: {sheets}.").format(sheets=sheets))
        log.info("stats export unit=%s period=%s cases=%d seconds=%.1f", scope.unit_id,
                 period.kind, words.count, time.monotonic() - started)
    except Forbidden:
        log.info("stats export to chat=%s: blocked", chat_id)
    except Exception:
        log.exception("stats export failed unit=%s period=%s", scope.unit_id, period.kind)
        await show(_("Sorry, the files could not be made. Please try again later."))
    return progress.message_id


def build_handlers() -> list[BaseHandler]:
    return [
        CommandHandler("stats", stats_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(stats_command, pattern=cb.pattern("menu") + "stats$"),
        CallbackQueryHandler(export_pressed,
                             pattern=cb.pattern(ST) + r"x:\d+:[a-z0-9]+:\d{8}:\d{8}$"),
    ]
