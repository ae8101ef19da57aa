"""The report round: the scheduled job opens rounds and queues requests and chasers (keyed
outbox rows, so each goes out once); agencies fill their part; the officer reminds and locks;
a locked round compiles into the targets table and the agencies' texts.

Who may do what: an agency member fills only their own agency's part; an officer or an
administrator of the commune sees the board, fills any part (what an agency phoned in),
reminds and locks. Every change is audited (ids and codes only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.periods import Period, PeriodKind, calendar_year, report_period
from domain.roles import Action, Actor, Role, can
from domain.targets import RoundSpec as DomainRoundSpec
from domain.targets import (
    Rule,
    Source,
    Stage,
    Target,
    Unit,
    check_value,
    collect_date,
    is_met,
    part_fingerprint,
    part_started,
    round_dates,
)
from domain.text import is_blank
from storage import audit
from storage import cases as case_store
from storage import rounds as store
from storage import stats as stats_store
from storage.models import Agency, PlanTarget, ReportRound, RoundPart
from storage.units import get_agency, get_unit, get_unit_scope

MAX_TEXT = 2000  # characters of "kết quả nổi bật" and of "khó khăn, kiến nghị"
TEXTS = ("highlights", "difficulties")


def target_of(row: PlanTarget) -> Target:
    return Target(code=row.code, number=row.number, name=row.name, unit=Unit(row.unit),
                  rule=Rule(row.rule),
                  values={int(year): float(v) for year, v in (row.target_values or {}).items()},
                  source=Source(row.source), figure=row.figure, title=row.title)


def in_force(row: PlanTarget, year: int) -> bool:
    """Not switched off for `year` by the commune's administrator."""
    return year not in (row.off_years or [])


def period_of(round_: ReportRound) -> Period:
    if round_.period in (PeriodKind.SIX_MONTH, PeriodKind.ANNUAL):
        return report_period(PeriodKind(round_.period), round_.year)
    return calendar_year(round_.year)


# --- permissions ------------------------------------------------------------------------


async def _is_staff(actor: Actor, commune_id: int, session: AsyncSession) -> bool:
    if actor.role not in (Role.OFFICER, Role.ADMIN) and not actor.is_superadmin:
        return False
    return can(actor, Action.VIEW_STATS, await get_unit_scope(commune_id, session=session))


async def ensure_staff(actor: Actor, commune_id: int, session: AsyncSession) -> None:
    if not await _is_staff(actor, commune_id, session):
        raise NotAllowed("report_round", f"role={actor.role}")


async def ensure_may_fill(actor: Actor, round_: ReportRound, agency_id: int,
                          session: AsyncSession) -> None:
    """An agency member for their own agency only; the commune's staff for any."""
    if actor.role is Role.AGENCY_MEMBER:
        if actor.agency_id == agency_id and actor.unit_id == round_.commune_id:
            return
        raise NotAllowed("round_part_other_agency", f"agency={actor.agency_id}")
    await ensure_staff(actor, round_.commune_id, session)


async def _round(round_id: int, session: AsyncSession) -> ReportRound:
    round_ = await store.get_round(round_id, session=session)
    if round_ is None:
        raise NotFound("round")
    return round_


def _ensure_open(round_: ReportRound) -> None:
    if round_.status != "open":
        raise InvalidInput("round_locked")


# --- opening rounds, requests and chasers (the scheduled job) ---------------------------


@dataclass
class AgencyRequest:
    """What one agency is asked for in one round (rendered by the handlers)."""

    round: ReportRound
    agency: Agency
    stage: Stage
    lines: list[TargetLine]


@dataclass
class TargetLine:
    target: PlanTarget
    spec: Target
    value: float | None = None
    last: float | None = None
    goal: float | None = None
    met: bool | None = None


async def open_due_rounds(*, session: AsyncSession, today: dt.date,
                          now: dt.datetime) -> list[ReportRound]:
    """Create the rounds whose opening day has come (once each, whichever instance or run
    gets there first); a round whose collection date has passed is not opened late."""
    opened = []
    for spec in await store.list_specs(None, session=session):
        domain_spec = DomainRoundSpec(spec.code, spec.name, spec.collect_by,
                                      spec.open_working_days, spec.period, spec.year)
        for year in (today.year, today.year + 1):
            if spec.year is not None and spec.year != year:
                continue
            dates = round_dates(collect_date(domain_spec, year), spec.open_working_days)
            if not dates.opens <= today <= dates.due:
                continue
            created = await store.create_round({
                "commune_id": spec.commune_id, "code": spec.code, "name": spec.name,
                "year": year, "collect_on": dates.due, "opens_on": dates.opens,
                "period": spec.period, "status": "open", "opened_at": now}, session=session)
            if created:
                round_ = await store.find_round(spec.commune_id, spec.code, year,
                                                session=session)
                await audit.record(session=session, at=now, actor_user_id=None,
                                   action="round_opened", object_type="round",
                                   object_id=round_.id, unit_id=spec.commune_id,
                                   code=spec.code, year=year)
                opened.append(round_)
    return opened


async def reporting_agencies(commune_id: int, *, session: AsyncSession,
                             year: int | None = None) -> list[Agency]:
    """The agencies that report targets in a round (those some active target names, not
    switched off for the round's `year`)."""
    targets = await store.list_targets(commune_id, session=session)
    ids = {t.agency_id for t in targets if t.source == Source.AGENCY and t.agency_id
           and (year is None or in_force(t, year))}
    return [a for a in await store.list_active_agencies(commune_id, session=session)
            if a.id in ids]


async def queue_round_messages(
    *, session: AsyncSession, today: dt.date, now: dt.datetime,
    render_request: Callable[[AgencyRequest], tuple[str, dict | None]],
    render_late: Callable[[ReportRound, list[Agency]], str],
) -> int:
    """The requests (when a round opens), the chasers (3 and 1 working days before and on
    the collection date, to agencies not done) and the administrators' list of who is late
    (the working day after). Keyed outbox rows: each goes out once across runs, restarts
    and instances. Returns how many rows are new."""
    rows: list[dict] = []
    for round_ in await store.list_rounds(None, session=session, status="open"):
        dates = round_dates(round_.collect_on, 1)
        stages = [Stage.OPEN] if today >= round_.opens_on else []
        chaser = dates.current_chaser(today)
        if chaser is not None:
            stages.append(chaser)
        late: list[Agency] = []
        for agency in await reporting_agencies(round_.commune_id, session=session,
                                                 year=round_.year):
            part = await store.get_part(round_.id, agency.id, session=session)
            done = part is not None and part.status == "sent"
            if today >= dates.late and not done:
                late.append(agency)
                if part is not None and not part.late:
                    part.late = True
            chats = await store.agency_chats(agency.id, session=session)
            for stage in stages:
                if stage is not Stage.OPEN and done:
                    continue
                if not chats:
                    continue
                request = AgencyRequest(round_, agency, stage,
                                        await part_lines(round_, agency.id, part,
                                                         session=session))
                text, markup = render_request(request)
                rows += [{"key": f"rr:{round_.id}:{agency.id}:{stage}:{chat}",
                          "chat_id": chat, "text": text, "markup": markup,
                          "status": "pending", "attempts": 0, "due_at": now,
                          "kind": "round"} for chat in chats]
        if late:
            admins = (await store.staff_chats(round_.commune_id, role=Role.ADMIN,
                                              session=session)
                      or await store.staff_chats(round_.commune_id, role=Role.OFFICER,
                                                 session=session))
            text = render_late(round_, late)
            rows += [{"key": f"rr:{round_.id}:late:{chat}", "chat_id": chat, "text": text,
                      "markup": None,
                      "status": "pending", "attempts": 0, "due_at": now, "kind": "round"}
                     for chat in admins]
    return await case_store.add_keyed_deliveries(rows, session=session)


# --- the agency's part ------------------------------------------------------------------


async def part_lines(round_: ReportRound, agency_id: int, part: RoundPart | None, *,
                     session: AsyncSession) -> list[TargetLine]:
    """The agency's targets with this period's value (if given), last period's and the
    target value in force."""
    previous = await store.previous_round(round_, session=session)
    last_part = (await store.get_part(previous.id, agency_id, session=session)
                 if previous is not None else None)
    lines = []
    for row in await store.list_targets(round_.commune_id, session=session, agency_id=agency_id):
        if row.source != Source.AGENCY or not in_force(row, round_.year):
            continue
        spec = target_of(row)
        value = (part.answers or {}).get(row.code) if part is not None else None
        last = (last_part.answers or {}).get(row.code) if last_part is not None else None
        goal = spec.value_for(round_.year)
        lines.append(TargetLine(row, spec, value, last, goal,
                                is_met(spec.rule, value, goal, last)))
    return lines


@dataclass
class PartView:
    round: ReportRound
    agency: Agency
    part: RoundPart
    lines: list[TargetLine]

    @property
    def fingerprint(self) -> str:
        """What the part holds now, in eight hex digits (see part_fingerprint)."""
        return part_fingerprint(self.part.answers, self.part.highlights,
                                self.part.difficulties)


async def open_part(actor: Actor, round_id: int, agency_id: int, *, session: AsyncSession,
                    now: dt.datetime, create: bool = True) -> PartView:
    """The agency's part of the round (started now if it was not), after the checks."""
    round_ = await _round(round_id, session)
    await ensure_may_fill(actor, round_, agency_id, session)
    agency = await get_agency(agency_id, session=session)
    if agency is None or agency.commune_id != round_.commune_id:
        raise NotFound("agency")
    part = await store.get_part(round_id, agency_id, session=session)
    if part is None:
        _ensure_open(round_)
        if not create:
            raise NotFound("part")
        # The row gives the form's buttons an id; the part counts as started (board,
        # report, audit) only once something is saved in it (see _touch).
        part = await store.create_part(round_id, agency_id, session=session, now=now,
                                       user_id=actor.user_id)
    return PartView(round_, agency, part, await part_lines(round_, agency_id, part,
                                                           session=session))


async def part_view(actor: Actor, part_id: int, *, session: AsyncSession,
                    now: dt.datetime, for_change: bool = False) -> PartView:
    """The part after the checks. `for_change`: the round's row is held in share mode and
    the part's row locked until the commit (PostgreSQL; SQLite has one writer anyway), so
    two members typing at once both land, and nothing is written once the officer's lock
    has committed."""
    if for_change:
        part = await store.get_part_by_id(part_id, session=session)
        if part is not None:
            await store.hold_round(part.round_id, session=session)
            part = await store.lock_part(part_id, session=session)
    else:
        part = await store.get_part_by_id(part_id, session=session)
    if part is None:
        raise NotFound("part")
    return await open_part(actor, part.round_id, part.agency_id, session=session, now=now)


def part_status(part: RoundPart | None) -> str:
    """sent | draft | none: a part opened but with nothing saved yet is "none" (not
    started), as if nobody had opened it."""
    if part is None:
        return "none"
    if part.status == "draft" and not part_started(part.answers, part.highlights,
                                                   part.difficulties):
        return "none"
    return part.status


async def _touch(view: PartView, actor: Actor, now: dt.datetime, *,
                 session: AsyncSession, started: bool) -> None:
    """Records who changed the part and when; `started`: whether something was saved in it
    before this change (the first answer starts the part, audited once)."""
    if not started:
        await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                           action="round_part_started", object_type="round_part",
                           object_id=view.part.id, unit_id=view.round.commune_id,
                           round_id=view.round.id, agency_id=view.agency.id)
    view.part.updated_at = now
    view.part.updated_by = actor.user_id
    if view.part.status == "sent":
        view.part.corrected_at = now


async def set_answer(actor: Actor, part_id: int, code: str, value: float | None, *,
                     session: AsyncSession, now: dt.datetime) -> PartView:
    """Stores one target's value (None: left empty); a sent part is corrected in place
    until the round is locked."""
    view = await part_view(actor, part_id, session=session, now=now, for_change=True)
    _ensure_open(view.round)
    line = next((line for line in view.lines if line.target.code == code), None)
    if line is None:
        raise InvalidInput("target_unknown")
    started = part_status(view.part) != "none"
    if value is None:
        view.part.answers.pop(code, None)
    else:
        check_value(line.spec.unit, value)
        view.part.answers[code] = value
    await _touch(view, actor, now, session=session, started=started)
    await store.save_part(view.part, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_value_set", object_type="round_part",
                       object_id=view.part.id, unit_id=view.round.commune_id, target=code,
                       status=view.part.status)
    return await part_view(actor, part_id, session=session, now=now)


async def set_text(actor: Actor, part_id: int, which: str, text: str | None, *,
                   session: AsyncSession, now: dt.datetime) -> PartView:
    if which not in TEXTS:
        raise InvalidInput("target_unknown")
    view = await part_view(actor, part_id, session=session, now=now, for_change=True)
    _ensure_open(view.round)
    if text is not None:
        text = text.strip()
        if is_blank(text):
            raise InvalidInput("blank_text")
        if len(text) > MAX_TEXT:
            raise InvalidInput("round_text_too_long")
    started = part_status(view.part) != "none"
    setattr(view.part, which, text)
    await _touch(view, actor, now, session=session, started=started)
    await store.save_part(view.part, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_text_set", object_type="round_part",
                       object_id=view.part.id, unit_id=view.round.commune_id, field=which,
                       status=view.part.status)
    return view


SENT_ACTIONS = ("round_part_sent", "round_part_corrected")


async def _last_sent(part_id: int, session: AsyncSession) -> str | None:
    """The fingerprint of what the part held when it was last sent (recorded with the send;
    None for a send recorded before fingerprints were)."""
    entry = await audit.latest(session=session, object_type="round_part",
                               object_id=str(part_id), actions=SENT_ACTIONS)
    return (entry.details or {}).get("fingerprint") if entry is not None else None


@dataclass
class Sent:
    view: PartView
    corrected: bool
    late: bool
    notify: list[int] = field(default_factory=list)


async def send_part(actor: Actor, part_id: int, *, session: AsyncSession, now: dt.datetime,
                    today: dt.date, seen: str | None) -> Sent:
    """Draft → sent (or a correction of a sent part): the commune's officers are told.
    `seen`: the fingerprint of the part the person reviewed; InvalidInput("round_part_changed")
    if it has changed since (nothing is sent that they did not see)."""
    view = await part_view(actor, part_id, session=session, now=now, for_change=True)
    _ensure_open(view.round)
    if seen != view.fingerprint:
        raise InvalidInput("round_part_changed")
    if view.part.status == "sent" and await _last_sent(view.part.id, session) == seen:
        # The same Send pressed twice (or Send of corrections with nothing corrected since):
        # already done, nothing written, nobody told again.
        raise InvalidInput("round_part_already_sent")
    corrected = view.part.status == "sent"
    view.part.status = "sent"
    if not corrected:
        view.part.sent_at = now
        view.part.late = today > view.round.collect_on
    view.part.updated_at, view.part.updated_by = now, actor.user_id
    await store.save_part(view.part, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_part_corrected" if corrected else "round_part_sent",
                       object_type="round_part", object_id=view.part.id,
                       unit_id=view.round.commune_id, round_id=view.round.id,
                       agency_id=view.agency.id, late=view.part.late,
                       fingerprint=view.fingerprint)
    officers = await store.staff_chats(view.round.commune_id, role=Role.OFFICER, session=session)
    notify = [chat for chat in officers if chat != actor.user_id]
    return Sent(view, corrected, view.part.late, notify)


# --- the officer's board ----------------------------------------------------------------


@dataclass
class BoardRow:
    agency: Agency
    status: str  # sent | draft | none
    late: bool
    corrected: bool
    reminders: int = 0  # one-tap reminders so far (the remind button carries it)


@dataclass
class Board:
    round: ReportRound
    rows: list[BoardRow]


async def rounds_for(actor: Actor, *, session: AsyncSession) -> Sequence[ReportRound]:
    """The rounds of the actor's commune, newest first."""
    if actor.unit_id is None:
        return []
    return await store.list_rounds([actor.unit_id], session=session)


async def board(actor: Actor, round_id: int, *, session: AsyncSession,
                today: dt.date) -> Board:
    round_ = await _round(round_id, session)
    await ensure_staff(actor, round_.commune_id, session)
    rows = []
    reminders = await store.count_reminders(round_.id, session=session)
    for agency in await reporting_agencies(round_.commune_id, session=session,
                                                 year=round_.year):
        part = await store.get_part(round_.id, agency.id, session=session)
        status = part_status(part)
        late = (part.late if part is not None and part.status == "sent"
                else today > round_.collect_on)
        rows.append(BoardRow(agency, status, late, part is not None
                             and part.corrected_at is not None, reminders.get(agency.id, 0)))
    return Board(round_, rows)


async def remind(actor: Actor, round_id: int, agency_id: int, *, session: AsyncSession,
                 now: dt.datetime, number: int | None = None) -> tuple[AgencyRequest, list[int]]:
    """The officer's one-tap reminder: the agency's chats (the caller queues the messages).
    `number`: how many reminders the board showed when it was drawn (its button carries
    it); InvalidInput("round_already_reminded") if that reminder has gone out already (the
    button pressed twice, or an old board's): nothing written."""
    round_ = await _round(round_id, session)
    await ensure_staff(actor, round_.commune_id, session)
    _ensure_open(round_)
    agency = await get_agency(agency_id, session=session)
    if agency is None or agency.commune_id != round_.commune_id:
        raise NotFound("agency")
    done = (await store.count_reminders(round_id, session=session)).get(agency_id, 0)
    if number is None:  # a button drawn before reminders were counted
        number = done
    if number != done or not await case_store.claim_job_run(
            store.reminder_key(round_id, agency_id, number), session=session, now=now):
        raise InvalidInput("round_already_reminded")
    part = await store.get_part(round_id, agency_id, session=session)
    chats = await store.agency_chats(agency_id, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_reminded", object_type="round", object_id=round_id,
                       unit_id=round_.commune_id, agency_id=agency_id, chats=len(chats))
    lines = await part_lines(round_, agency_id, part, session=session)
    return AgencyRequest(round_, agency, Stage.D0, lines), chats


async def lock(actor: Actor, round_id: int, *, session: AsyncSession,
               now: dt.datetime) -> ReportRound:
    """Closes the round: nothing can be changed after; the report is compiled.
    InvalidInput("round_already_locked") if it was locked already (the confirmation pressed
    twice, or by another officer): nothing written."""
    round_ = await store.lock_round(round_id, session=session)  # waits for edits in flight
    if round_ is None:
        raise NotFound("round")
    await ensure_staff(actor, round_.commune_id, session)
    if round_.status != "open":
        raise InvalidInput("round_already_locked")
    round_.status, round_.locked_at, round_.locked_by = "locked", now, actor.user_id
    session.add(round_)
    await session.flush()
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_locked", object_type="round", object_id=round_id,
                       unit_id=round_.commune_id)
    return round_


# --- the compiled report ----------------------------------------------------------------


@dataclass
class CompiledRow:
    number: str
    name: str
    unit: Unit
    rule: Rule
    goal: float | None
    value: float | None
    last: float | None
    agency: str
    met: bool | None
    source: Source
    title: str | None = None  # a part of a target with several rates: the whole target
    group: str | None = None  # …and its code
    code: str = ""


def group_number(row: CompiledRow) -> str:
    """The whole target's number of a part ("3" for "3a")."""
    return row.number.rstrip("abcdefghijklmnopqrstuvwxyz") or row.number


@dataclass
class CompiledPart:
    agency: str
    status: str
    late: bool
    highlights: str | None
    difficulties: str | None


@dataclass
class Compiled:
    commune: str
    round: ReportRound
    period: Period
    rows: list[CompiledRow]
    parts: list[CompiledPart]
    figures: list[tuple[str, int, int]]  # (figure code, this period, last period)


async def _figures(commune_id: int, period: Period, tz: dt.tzinfo,
                   session: AsyncSession) -> dict[str, int]:
    lo, hi = period.bounds(tz)
    categories = (await stats_store.reports_by("category", [commune_id], lo, hi,
                                               session=session)).get(commune_id, {})
    urgent = (await stats_store.reports_by("urgent", [commune_id], lo, hi,
                                           session=session)).get(commune_id, {})
    statuses = (await stats_store.cases_by("status", [commune_id], lo, hi,
                                           session=session)).get(commune_id, {})
    figures = {"cases_received": sum(categories.values()), "cases_urgent": urgent.get(True, 0),
               "cases_closed": statuses.get("closed", 0)}
    for code in ("violence", "sexual", "neglect", "labour", "trafficking", "marriage",
                 "dropout", "injury", "online", "other"):
        figures[f"cases_{code}"] = categories.get(code, 0)
    return figures


def _previous_period(period: Period, round_: ReportRound) -> Period:
    if round_.period in (PeriodKind.SIX_MONTH, PeriodKind.ANNUAL):
        return report_period(PeriodKind(round_.period), round_.year - 1)
    return calendar_year(round_.year - 1)


async def compile_round(actor: Actor, round_id: int, *, session: AsyncSession,
                        tz: dt.tzinfo, now: dt.datetime) -> Compiled:
    round_ = await _round(round_id, session)
    await ensure_staff(actor, round_.commune_id, session)
    compiled = await _compiled(round_, session=session, tz=tz)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_compiled", object_type="round", object_id=round_id,
                       unit_id=round_.commune_id)
    return compiled


async def _compiled(round_: ReportRound, *, session: AsyncSession,
                    tz: dt.tzinfo) -> Compiled:
    period = period_of(round_)
    figures = await _figures(round_.commune_id, period, tz, session)
    last_figures = await _figures(round_.commune_id, _previous_period(period, round_), tz,
                                  session)
    agencies = {a.id: a for a in await store.list_active_agencies(round_.commune_id,
                                                                   session=session)}
    parts = {p.agency_id: p for p in await store.list_parts(round_.id, session=session)}
    previous = await store.previous_round(round_, session=session)
    last_parts = ({p.agency_id: p for p in await store.list_parts(previous.id, session=session)}
                  if previous is not None else {})
    rows = []
    for target in await store.list_targets(round_.commune_id, session=session):
        if not in_force(target, round_.year):
            continue
        spec = target_of(target)
        goal = spec.value_for(round_.year)
        if spec.source is Source.BOT:
            value = float(figures.get(spec.figure or "", 0))
            last = float(last_figures.get(spec.figure or "", 0))
            agency = ""  # the export names the bot's own figures
        else:
            part = parts.get(target.agency_id)
            value = (part.answers or {}).get(target.code) if part else None
            last_part = last_parts.get(target.agency_id)
            last = (last_part.answers or {}).get(target.code) if last_part else None
            owner = agencies.get(target.agency_id)
            agency = owner.name if owner else ""
        rows.append(CompiledRow(target.number, target.name, spec.unit, spec.rule, goal, value,
                                last, agency, is_met(spec.rule, value, goal, last),
                                spec.source, target.title, target.group_code, target.code))
    compiled_parts = []
    for agency in await reporting_agencies(round_.commune_id, session=session,
                                                 year=round_.year):
        part = parts.get(agency.id)
        compiled_parts.append(CompiledPart(
            agency.name, part_status(part),
            part.late if part and part.status == "sent" else True,
            part.highlights if part else None, part.difficulties if part else None))
    commune = await get_unit(round_.commune_id, session=session)
    return Compiled(commune.name if commune else "", round_, period, rows, compiled_parts,
                    [(code, figures[code], last_figures[code]) for code in figures])


async def agency_rounds(actor: Actor, *, session: AsyncSession) -> list[ReportRound]:
    """The open rounds an agency member has targets in."""
    if actor.role is not Role.AGENCY_MEMBER or actor.unit_id is None or actor.agency_id is None:
        return []
    targets = await store.list_targets(actor.unit_id, session=session,
                                       agency_id=actor.agency_id)
    if not any(t.source == Source.AGENCY for t in targets):
        return []
    return list(await store.list_rounds([actor.unit_id], session=session, status="open"))


@dataclass
class CommuneRound:
    commune: str
    round: ReportRound | None
    sent: int
    total: int
    met: int
    assessed: int


async def province_overview(actor: Actor, *, session: AsyncSession) -> list[CommuneRound]:
    """A province's communes side by side: each one's newest round, how many agencies have
    sent, and how many targets are met. Aggregates only: no agency's text."""
    from storage.units import list_communes

    if actor.role is not Role.ADMIN or actor.unit_id is None:
        raise NotAllowed("report_round_province", f"role={actor.role}")
    unit = await get_unit(actor.unit_id, session=session)
    if unit is None or unit.kind != "province":
        raise NotAllowed("report_round_province", "not a province")
    overview = []
    for commune in await list_communes(session=session, within=unit.id):
        rounds = await store.list_rounds([commune.id], session=session)
        if not rounds:
            overview.append(CommuneRound(commune.name, None, 0, 0, 0, 0))
            continue
        round_ = rounds[0]
        parts = {p.agency_id: p for p in await store.list_parts(round_.id, session=session)}
        agencies = await reporting_agencies(commune.id, session=session, year=round_.year)
        sent = sum(1 for a in agencies if a.id in parts and parts[a.id].status == "sent")
        met = assessed = 0
        for agency in agencies:
            for line in await part_lines(round_, agency.id, parts.get(agency.id),
                                         session=session):
                if line.met is not None:
                    assessed += 1
                    met += bool(line.met)
        overview.append(CommuneRound(commune.name, round_, sent, len(agencies), met, assessed))
    return overview


@dataclass
class ProvinceColumn:
    """One commune in the province's table: its newest round and its rows by target code."""

    commune: str
    round: ReportRound | None
    sent: int
    total: int
    late: list[str]  # agencies that have not sent (names of agencies, never of people)
    rows: dict[str, CompiledRow]


@dataclass
class ProvinceTable:
    province: str
    columns: list[ProvinceColumn]
    rows: list[CompiledRow]  # one per target (part) code, in the communes' order


async def province_table(actor: Actor, *, session: AsyncSession, tz: dt.tzinfo,
                         now: dt.datetime) -> ProvinceTable:
    """The targets table of the province's communes side by side: for each commune's newest
    round, every target (part) with this period's value and met or not, and who has sent.
    Aggregates only: no agency's text, nobody's name."""
    from storage.units import list_communes

    if actor.role is not Role.ADMIN or actor.unit_id is None:
        raise NotAllowed("report_round_province", f"role={actor.role}")
    unit = await get_unit(actor.unit_id, session=session)
    if unit is None or unit.kind != "province":
        raise NotAllowed("report_round_province", "not a province")
    columns, rows, seen = [], [], set()
    for commune in await list_communes(session=session, within=unit.id):
        rounds = await store.list_rounds([commune.id], session=session)
        if not rounds:
            columns.append(ProvinceColumn(commune.name, None, 0, 0, [], {}))
            continue
        compiled = await _compiled(rounds[0], session=session, tz=tz)
        by_code = {row.code: row for row in compiled.rows}
        for row in compiled.rows:
            if row.code not in seen:
                seen.add(row.code)
                rows.append(row)
        sent = sum(1 for part in compiled.parts if part.status == "sent")
        columns.append(ProvinceColumn(commune.name, rounds[0], sent, len(compiled.parts),
                                      [p.agency for p in compiled.parts
                                       if p.status != "sent"], by_code))
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="round_province_table", object_type="unit", object_id=unit.id,
                       unit_id=unit.id, communes=len(columns))
    return ProvinceTable(unit.name, columns, rows)
