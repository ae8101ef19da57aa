"""Citizen reports: the draft, answer by answer; sending it; the tracking code; officers
taking the case; escalation and draft reminders. No Telegram here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus, PublicStatus, public_status
from domain.errors import InvalidInput, NotFound
from domain.reports import (
    CHILD_COUNTS,
    EDITABLE,
    MAX_ADDRESS_CHARS,
    MAX_MEDIA,
    MAX_NAME_CHARS,
    AgeGroup,
    Category,
    Relation,
    ReportLimits,
    Step,
    append_story,
    missing_for_send,
    new_tracking_code,
    normalise_phone,
    normalise_tracking_code,
    step_after,
)
from domain.case_access import CaseRight
from domain.roles import Actor, Role, UnitKind
from services.cases import CaseConfig, load, refresh_due
from storage import audit, units
from storage import reports as store
from storage.models import (
    Case,
    CaseEvent,
    Member,
    Report,
    ReportDraft,
    ReportMedia,
    ReportReporter,
    Unit,
)

_MISSING_STEP = {
    "danger": Step.DANGER, "commune": Step.COMMUNE, "category": Step.CATEGORY,
    "place": Step.PLACE, "child": Step.AGE, "story": Step.STORY, "identity": Step.IDENTITY,
}


# --- starting and resuming ---------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    draft: ReportDraft
    resumed: bool  # an unfinished draft already existed


async def start(user_id: int, *, session: AsyncSession, now: dt.datetime,
                village_id: int | None = None) -> Started:
    """Open a draft (or return the one in progress). A poster's village pre-fills the place."""
    existing = await store.get_draft(user_id, session=session)
    if existing is not None:
        return Started(existing, resumed=True)
    answers: dict = {}
    communes = await units.list_communes(session=session)
    if len(communes) == 1:
        answers["commune_id"] = communes[0].id
    if village_id is not None:
        village = await units.get_unit(village_id, session=session)
        if village is not None and village.active and village.kind is UnitKind.VILLAGE:
            answers["village_id"] = village.id
            answers["commune_id"] = village.parent_id
    draft = await store.create_draft(user_id, session=session, step=Step.DANGER,
                                     answers=answers, now=now)
    return Started(draft, resumed=False)


async def restart(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> ReportDraft:
    """Throw the draft away and begin a new one (the reporter confirmed)."""
    user_id = draft.user_id
    await store.delete_draft(draft, session=session)
    return (await start(user_id, session=session, now=now)).draft


async def get_draft(user_id: int, *, session: AsyncSession) -> ReportDraft | None:
    return await store.get_draft(user_id, session=session)


async def cancel(draft: ReportDraft, *, session: AsyncSession) -> None:
    await store.delete_draft(draft, session=session)


# --- answers ------------------------------------------------------------------------------


async def _advance(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    communes = len(await units.list_communes(session=session))
    following = step_after(Step(draft.step), draft.answers, communes=communes,
                           editing=draft.editing)
    if following is Step.REVIEW:
        draft.editing = False
    draft.step = following
    await store.save_draft(draft, session=session, now=now)


def _expect(draft: ReportDraft, *steps: Step) -> None:
    if Step(draft.step) not in steps:
        raise InvalidInput("stale_step")


async def set_danger(draft: ReportDraft, urgent: bool, *, session: AsyncSession,
                     now: dt.datetime) -> None:
    _expect(draft, Step.DANGER)
    draft.answers["urgent"] = urgent
    await _advance(draft, session=session, now=now)


async def set_commune(draft: ReportDraft, commune_id: int, *, session: AsyncSession,
                      now: dt.datetime) -> None:
    _expect(draft, Step.COMMUNE)
    commune = await units.get_unit(commune_id, session=session)
    if commune is None or not commune.active or commune.kind is not UnitKind.COMMUNE:
        raise InvalidInput("stale_step")
    if draft.answers.get("commune_id") != commune_id:
        draft.answers.pop("village_id", None)
    draft.answers["commune_id"] = commune_id
    await _advance(draft, session=session, now=now)


async def set_category(draft: ReportDraft, category: str, *, session: AsyncSession,
                       now: dt.datetime) -> None:
    _expect(draft, Step.CATEGORY)
    draft.answers["category"] = Category(category).value
    await _advance(draft, session=session, now=now)


def _clear_place(answers: dict) -> None:
    for key in ("village_id", "address", "location", "place_typed"):
        answers.pop(key, None)


async def set_village(draft: ReportDraft, village_id: int, *, session: AsyncSession,
                      now: dt.datetime) -> None:
    _expect(draft, Step.PLACE)
    village = await units.get_unit(village_id, session=session)
    if (village is None or not village.active or village.kind is not UnitKind.VILLAGE
            or village.parent_id != draft.answers.get("commune_id")):
        raise InvalidInput("stale_step")
    _clear_place(draft.answers)
    draft.answers["village_id"] = village_id
    await _advance(draft, session=session, now=now)


async def ask_address(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.PLACE)
    draft.step = Step.ADDRESS
    await store.save_draft(draft, session=session, now=now)


async def set_address(draft: ReportDraft, text: str, *, session: AsyncSession,
                      now: dt.datetime) -> None:
    _expect(draft, Step.PLACE, Step.ADDRESS)
    text = text.strip()
    if not text:
        raise InvalidInput("text_expected")
    if len(text) > MAX_ADDRESS_CHARS:
        raise InvalidInput("address_too_long")
    _clear_place(draft.answers)
    draft.answers["address"] = text
    draft.step = Step.ADDRESS
    await _advance(draft, session=session, now=now)


async def keep_typed_place(draft: ReportDraft, text: str, *, session: AsyncSession,
                           now: dt.datetime) -> None:
    """Text typed at the place question that names villages: kept while the person chooses
    one of them or uses the text as the address."""
    _expect(draft, Step.PLACE)
    text = text.strip()
    if not text:
        raise InvalidInput("text_expected")
    if len(text) > MAX_ADDRESS_CHARS:
        raise InvalidInput("address_too_long")
    draft.answers["place_typed"] = text
    await store.save_draft(draft, session=session, now=now)


async def use_typed_place_as_address(draft: ReportDraft, *, session: AsyncSession,
                                     now: dt.datetime) -> None:
    _expect(draft, Step.PLACE)
    text = draft.answers.get("place_typed")
    if not text:
        raise InvalidInput("stale_step")
    await set_address(draft, text, session=session, now=now)


async def set_location(draft: ReportDraft, latitude: float, longitude: float, *,
                       session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.PLACE, Step.ADDRESS)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("location_invalid")
    _clear_place(draft.answers)
    draft.answers["location"] = [round(latitude, 6), round(longitude, 6)]
    await _advance(draft, session=session, now=now)


async def set_age(draft: ReportDraft, age_group: str, *, session: AsyncSession,
                  now: dt.datetime) -> None:
    _expect(draft, Step.AGE)
    draft.answers["age_group"] = AgeGroup(age_group).value
    await _advance(draft, session=session, now=now)


async def set_count(draft: ReportDraft, count: int, *, session: AsyncSession,
                    now: dt.datetime) -> None:
    _expect(draft, Step.COUNT)
    if count not in CHILD_COUNTS:
        raise InvalidInput("stale_step")
    draft.answers["child_count"] = count
    await _advance(draft, session=session, now=now)


async def set_child_name(draft: ReportDraft, name: str | None, *, session: AsyncSession,
                         now: dt.datetime) -> None:
    _expect(draft, Step.NAME)
    if name is None:
        draft.answers.pop("child_name", None)
    else:
        name = name.strip()
        if not name:
            raise InvalidInput("text_expected")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput("name_too_long")
        draft.answers["child_name"] = name
    await _advance(draft, session=session, now=now)


async def add_story(draft: ReportDraft, text: str, *, session: AsyncSession,
                    now: dt.datetime) -> None:
    """Add a message to the description (the first one moves on to photos)."""
    _expect(draft, Step.STORY, Step.MEDIA)
    draft.answers["story"] = append_story(draft.answers.get("story", ""), text)
    if Step(draft.step) in (Step.STORY, Step.MEDIA):
        await _advance(draft, session=session, now=now)
    else:
        await store.save_draft(draft, session=session, now=now)


async def add_media(draft: ReportDraft, kind: str, file_id: str, *, session: AsyncSession,
                    now: dt.datetime) -> int:
    """Attach a photo or voice note; returns how many are attached."""
    _expect(draft, Step.STORY, Step.MEDIA, Step.IDENTITY, Step.ADDITION)
    media = list(draft.answers.get("media", []))
    if len(media) >= MAX_MEDIA:
        raise InvalidInput("too_many_media")
    media.append([kind, file_id])
    draft.answers["media"] = media
    if Step(draft.step) is Step.STORY:
        await _advance(draft, session=session, now=now)
    else:
        await store.save_draft(draft, session=session, now=now)
    return len(media)


async def finish_story(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.MEDIA)
    await _advance(draft, session=session, now=now)


async def set_anonymous(draft: ReportDraft, anonymous: bool, *, session: AsyncSession,
                        now: dt.datetime) -> None:
    _expect(draft, Step.IDENTITY)
    draft.answers["anonymous"] = anonymous
    if anonymous:
        draft.answers.pop("reporter_name", None)
        draft.answers.pop("reporter_phone", None)
    await _advance(draft, session=session, now=now)


async def set_contact(draft: ReportDraft, *, phone: str, name: str | None,
                      session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.CONTACT)
    draft.answers["reporter_phone"] = normalise_phone(phone)
    if name:
        draft.answers["reporter_name"] = name.strip()[:MAX_NAME_CHARS]
    await _advance(draft, session=session, now=now)


async def set_relation(draft: ReportDraft, relation: str, *, session: AsyncSession,
                       now: dt.datetime) -> None:
    _expect(draft, Step.RELATION)
    draft.answers["relation"] = Relation(relation).value
    await _advance(draft, session=session, now=now)


async def edit(draft: ReportDraft, field: str, *, session: AsyncSession, now: dt.datetime) -> None:
    """From the review: go back to one field, then return to the review."""
    _expect(draft, Step.REVIEW)
    if field not in EDITABLE:
        raise InvalidInput("stale_step")
    if field == "story":
        draft.answers.pop("story", None)  # re-told from scratch; photos stay
    draft.step = EDITABLE[field]
    draft.editing = True
    await store.save_draft(draft, session=session, now=now)


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentReport:
    report: Report
    case: Case
    commune: Unit


async def send(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime,
               limits: ReportLimits, config: CaseConfig) -> SentReport:
    """Turn the draft into a report and a case, in one transaction."""
    _expect(draft, Step.REVIEW)
    missing = missing_for_send(draft.answers)
    if missing:
        draft.step = _MISSING_STEP[missing[0]]
        await store.save_draft(draft, session=session, now=now)
        raise InvalidInput("incomplete")
    recent = await store.count_reports_since(draft.user_id, now - dt.timedelta(hours=1),
                                             session=session)
    if recent >= limits.per_hour:
        raise InvalidInput("too_many_reports")
    a = draft.answers
    code = new_tracking_code()
    while await store.code_exists(code, session=session):
        code = new_tracking_code()
    location = a.get("location") or [None, None]
    report = Report(
        code=code, commune_id=a["commune_id"], village_id=a.get("village_id"),
        category=a["category"], urgent=bool(a["urgent"]), age_group=a["age_group"],
        child_count=a.get("child_count", 1), child_name=a.get("child_name"),
        story=a.get("story", ""), address=a.get("address"), latitude=location[0],
        longitude=location[1], created_at=now)
    reporter = ReportReporter(
        report_id=0, telegram_user_id=draft.user_id, anonymous=bool(a["anonymous"]),
        name=a.get("reporter_name"), phone=a.get("reporter_phone"), relation=a.get("relation"))
    media = [ReportMedia(report_id=0, kind=kind, file_id=file_id, added_at=now)
             for kind, file_id in a.get("media", [])]
    await store.add_report(report, reporter, media, session=session)
    case = Case(report_id=report.id, commune_id=report.commune_id, status=CaseStatus.RECEIVED,
                urgent=report.urgent, created_at=now, updated_at=now, step_started_at=now)
    refresh_due(case, report, config)
    case = await store.add_case(case, session=session)
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, kind="opened",
                                         to_status=CaseStatus.RECEIVED), session=session)
    await audit.record(session=session, at=now, actor_user_id=draft.user_id,
                       action="report_sent", object_type="case", object_id=case.id,
                       unit_id=report.commune_id, urgent=report.urgent)
    await store.delete_draft(draft, session=session)
    commune = await units.get_unit(report.commune_id, session=session)
    return SentReport(report=report, case=case, commune=commune)


async def officers_to_notify(commune_id: int, *, session: AsyncSession) -> Sequence[Member]:
    """The commune's officers; its administrators when it has no officer yet."""
    officers = await store.list_commune_members(commune_id, [Role.OFFICER], session=session)
    if officers:
        return officers
    return await store.list_commune_members(commune_id, [Role.ADMIN], session=session)


# --- status and additions -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusView:
    code: str
    status: PublicStatus
    received_at: dt.datetime
    note: str | None
    note_at: dt.datetime | None


async def _status_view(report: Report, *, session: AsyncSession) -> StatusView:
    case = await store.get_case_for_report(report.id, session=session)
    return StatusView(code=report.code, status=public_status(CaseStatus(case.status)),
                      received_at=report.created_at, note=case.public_note,
                      note_at=case.public_note_at)


async def status_by_code(user_id: int, text: str, *, session: AsyncSession, now: dt.datetime,
                         limits: ReportLimits) -> StatusView:
    """The coarse status for a tracking code. Failed guesses are limited per hour, but a
    person's own reports always answer (the lock is against guessing others' codes, and
    says nothing about whether a code exists)."""
    code = normalise_tracking_code(text)
    report = await store.get_report_by_code(code, session=session) if code else None
    if report is not None:
        reporter = await store.get_reporter(report.id, session=session)
        if reporter is not None and reporter.telegram_user_id == user_id:
            await store.record_lookup(user_id, True, session=session, now=now)
            return await _status_view(report, session=session)
    failures = await store.count_failed_lookups(user_id, now - dt.timedelta(hours=1),
                                                session=session)
    if failures >= limits.status_failures_per_hour:
        raise InvalidInput("too_many_lookups")
    await store.record_lookup(user_id, report is not None, session=session, now=now)
    if report is None:
        raise InvalidInput("code_unknown")
    return await _status_view(report, session=session)


async def _own_report(user_id: int, report_id: int, *, session: AsyncSession) -> Report:
    reporter = await store.get_reporter(report_id, session=session)
    if reporter is None or reporter.telegram_user_id != user_id:
        raise NotFound("report")
    return await store.get_report(report_id, session=session)


async def status_of_own_report(user_id: int, report_id: int, *,
                               session: AsyncSession) -> StatusView:
    report = await _own_report(user_id, report_id, session=session)
    return await _status_view(report, session=session)


async def start_addition(user_id: int, report_id: int, *, session: AsyncSession,
                         now: dt.datetime) -> ReportDraft:
    """Begin adding information to a sent report (replaces nothing: one draft at a time)."""
    await _own_report(user_id, report_id, session=session)
    existing = await store.get_draft(user_id, session=session)
    if existing is not None:
        if existing.kind == "addition" and existing.report_id == report_id:
            return existing
        raise InvalidInput("draft_in_progress")
    return await store.create_draft(user_id, session=session, step=Step.ADDITION, answers={},
                                    now=now, kind="addition", report_id=report_id)


async def add_addition_text(draft: ReportDraft, text: str, *, session: AsyncSession,
                            now: dt.datetime) -> None:
    _expect(draft, Step.ADDITION)
    draft.answers["story"] = append_story(draft.answers.get("story", ""), text)
    await store.save_draft(draft, session=session, now=now)


@dataclass(frozen=True)
class AddedInfo:
    report: Report
    case: Case
    notify_user_id: int | None  # the assigned officer


async def finish_addition(draft: ReportDraft, *, session: AsyncSession,
                          now: dt.datetime) -> AddedInfo:
    _expect(draft, Step.ADDITION)
    text = draft.answers.get("story", "")
    media = [(kind, file_id) for kind, file_id in draft.answers.get("media", [])]
    if not text and not media:
        raise InvalidInput("addition_empty")
    report = await store.get_report(draft.report_id, session=session)
    case = await store.get_case_for_report(report.id, session=session)
    await store.add_addition(report.id, text, media, session=session, now=now)
    await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=draft.user_id,
                                         kind="addition"), session=session)
    await audit.record(session=session, at=now, actor_user_id=draft.user_id,
                       action="report_added_info", object_type="case", object_id=case.id,
                       unit_id=case.commune_id)
    await store.delete_draft(draft, session=session)
    holder = None
    if case.assigned_member_id is not None:
        member = await session.get(Member, case.assigned_member_id)
        holder = member.telegram_user_id if member and member.active else None
    return AddedInfo(report=report, case=case, notify_user_id=holder)


# --- officers --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDetails:
    case: Case
    report: Report
    media: Sequence[ReportMedia]
    reporter: ReportReporter | None  # only for the officer handling the case
    village: Unit | None
    holder: Member | None


async def take_case(actor: Actor, case_id: int, *, session: AsyncSession,
                    now: dt.datetime) -> tuple[Case, bool]:
    """Assign the case to the officer pressing "take". Returns (case, taken by them now)."""
    loaded = await load(actor, case_id, CaseRight.TAKE, session=session)
    case = loaded.case
    if actor.member_id is None:
        raise InvalidInput("member_needed")
    won = await store.claim_case(case.id, actor.member_id, session=session, now=now)
    await session.refresh(case)
    if won:
        await store.add_case_event(CaseEvent(case_id=case.id, at=now, actor_user_id=actor.user_id,
                                             kind="assigned", member_id=actor.member_id),
                                   session=session)
        await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                           action="case_taken", object_type="case", object_id=case.id,
                           unit_id=case.commune_id)
    return case, won


async def case_details(actor: Actor, case_id: int, *, session: AsyncSession,
                       now: dt.datetime) -> CaseDetails:
    """The whole report for those who may read it; every view is audited. The reporter's
    identity only for the officer handling the case."""
    loaded = await load(actor, case_id, CaseRight.VIEW_DETAILS, session=session)
    case, report = loaded.case, loaded.report
    holder = (await session.get(Member, case.assigned_member_id)
              if case.assigned_member_id else None)
    reporter = (await store.get_reporter(report.id, session=session)
                if CaseRight.VIEW_REPORTER in loaded.rights else None)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_viewed", object_type="case", object_id=case.id,
                       unit_id=case.commune_id, with_reporter=reporter is not None)
    village = await units.get_unit(report.village_id, session=session) if report.village_id else None
    return CaseDetails(case=case, report=report,
                       media=await store.list_media(report.id, session=session),
                       reporter=reporter, village=village, holder=holder)


# --- scheduled work -------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    case: Case
    report: Report
    recipients: Sequence[int]  # Telegram ids of the commune's administrators
    # No commune administrator: the installation's are told, but may not open the case.
    install_admins: bool = False


async def claim_escalations(*, session: AsyncSession, now: dt.datetime,
                            limits: ReportLimits, superadmin_ids: Sequence[int]) -> list[Escalation]:
    """Urgent cases nobody took in time: claim this round for sending (once per instance)."""
    due = await store.list_cases_to_escalate(
        session=session, received_before=now - limits.escalate_after,
        escalated_before=now - limits.escalate_after, status=CaseStatus.RECEIVED)
    claimed = []
    for case in due:
        if not await store.claim_escalation(case, session=session, now=now):
            continue
        admins = await store.list_commune_members(case.commune_id, [Role.ADMIN], session=session)
        recipients = [m.telegram_user_id for m in admins] or list(superadmin_ids)
        await store.add_case_event(CaseEvent(case_id=case.id, at=now, kind="escalated"),
                                   session=session)
        report = await store.get_report(case.report_id, session=session)
        claimed.append(Escalation(case=case, report=report, recipients=recipients,
                                  install_admins=not admins))
    return claimed


async def claim_draft_reminders(*, session: AsyncSession, now: dt.datetime,
                                limits: ReportLimits) -> list[ReportDraft]:
    idle_since = now - limits.remind_after
    drafts = await store.list_drafts_to_remind(session=session, idle_since=idle_since)
    return [d for d in drafts
            if await store.claim_draft_reminder(d.id, session=session, now=now,
                                                idle_since=idle_since)]


async def expire_drafts(*, session: AsyncSession, now: dt.datetime,
                        limits: ReportLimits) -> list[int]:
    """Delete drafts idle past the limit; returns the users to tell."""
    drafts = await store.list_expired_drafts(session=session, idle_since=now - limits.expire_after)
    users = []
    for draft in drafts:
        users.append(draft.user_id)
        await store.delete_draft(draft, session=session)
    return users
