"""Citizen reports: the draft, answer by answer; sending it; the tracking code; officers
taking the case; escalation and draft reminders. No Telegram here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_access import CaseRight
from domain.cases import OPEN_STATUSES, CaseStatus, PublicStatus, public_status
from domain.data_rights import CONSENT_DECLINED, CONSENT_GIVEN
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
    add_story_part,
    missing_for_send,
    new_tracking_code,
    normalise_phone,
    normalise_tracking_code,
    replace_story_part,
    step_after,
)
from domain.roles import Actor, Role, UnitKind
from domain.text import visible_strip
from services.cases import CaseConfig, load, refresh_due
from storage import audit, units
from storage import reports as store
from storage.models import (
    Case,
    CaseEvent,
    Member,
    Report,
    ReportAddition,
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
    current = Step(draft.step)
    following = step_after(current, draft.answers, communes=communes, editing=draft.editing)
    if following is Step.REVIEW:
        draft.editing = False
        draft.answers.pop("rewrite", None)
    _remember(draft, current)
    draft.step = following
    await store.save_draft(draft, session=session, now=now)


def _remember(draft: ReportDraft, step: Step) -> None:
    """The steps walked, so that "Back" returns to the question asked before this one."""
    if draft.editing or step is Step.REVIEW:
        return
    trail = [s for s in draft.answers.get("trail", []) if s != step]
    draft.answers["trail"] = [*trail, str(step)]


async def back(draft: ReportDraft, step: str, *, session: AsyncSession,
               now: dt.datetime) -> None:
    """"Back" pressed on the question of `step`: the question asked before it (its answer is
    kept until answered again); when editing from the review, the review."""
    _expect(draft, Step(step) if step in set(Step) else Step.REVIEW)
    if draft.editing:
        await back_to_review(draft, session=session, now=now)
        return
    trail = list(draft.answers.get("trail", []))
    if not trail:
        raise InvalidInput("stale_step")
    draft.step = Step(trail.pop())
    draft.answers["trail"] = trail
    await store.save_draft(draft, session=session, now=now)


async def back_to_review(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    """Leave an edit without changing anything more: the review again."""
    if draft.kind != "report" or missing_for_send(draft.answers):
        raise InvalidInput("stale_step")
    draft.step, draft.editing = Step.REVIEW, False
    draft.answers.pop("rewrite", None)
    await store.save_draft(draft, session=session, now=now)


def _expect(draft: ReportDraft, *steps: Step) -> None:
    if Step(draft.step) not in steps:
        raise InvalidInput("stale_step")


async def set_danger(draft: ReportDraft, urgent: bool, *, session: AsyncSession,
                     now: dt.datetime) -> bool:
    """Answer "is a child in danger right now?". Pressed on the question, it moves on; pressed
    later on the same unsent report (an old message), it changes the answer where the
    reporter is, so the review and the officers' notice say the same. Returns whether
    the draft moved to the next question."""
    if draft.kind != "report":
        raise InvalidInput("stale_step")
    draft.answers["urgent"] = urgent
    if Step(draft.step) is Step.DANGER:
        await _advance(draft, session=session, now=now)
        return True
    await store.save_draft(draft, session=session, now=now)
    return False


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
    _expect(draft, Step.PLACE, Step.ADDRESS)  # a village pressed after "type an address"
    village = await units.get_unit(village_id, session=session)
    if (village is None or not village.active or village.kind is not UnitKind.VILLAGE
            or village.parent_id != draft.answers.get("commune_id")):
        raise InvalidInput("stale_step")
    _clear_place(draft.answers)
    draft.answers["village_id"] = village_id
    await _advance(draft, session=session, now=now)


async def ask_address(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.PLACE)
    _remember(draft, Step.PLACE)
    draft.step = Step.ADDRESS
    await store.save_draft(draft, session=session, now=now)


async def set_address(draft: ReportDraft, text: str, *, session: AsyncSession,
                      now: dt.datetime) -> None:
    _expect(draft, Step.PLACE, Step.ADDRESS)
    text = visible_strip(text)
    if not text:
        raise InvalidInput("blank_text")
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
        name = visible_strip(name)
        if not name:
            raise InvalidInput("blank_text")
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInput("name_too_long")
        draft.answers["child_name"] = name
    await _advance(draft, session=session, now=now)


async def add_story(draft: ReportDraft, text: str, *, session: AsyncSession,
                    now: dt.datetime, message_id: int | None = None) -> int:
    """Add a message to the description; returns the characters used. The first part moves
    on to the step that takes more parts, photos and voice messages until Continue; a
    rewrite (chosen from the review) replaces the old description with its first part.
    Later, on the identity question, a message without a phone number is more story.
    `message_id`: the message it came from (an edit of it corrects this part)."""
    _expect(draft, Step.STORY, Step.MEDIA, Step.IDENTITY)
    add_story_part(draft.answers, text, message_id, fresh=bool(draft.answers.get("rewrite")))
    draft.answers.pop("rewrite", None)
    if Step(draft.step) is Step.STORY:
        await _advance(draft, session=session, now=now)
    else:
        await store.save_draft(draft, session=session, now=now)
    return len(draft.answers["story"])


async def edit_story(draft: ReportDraft, mode: str, *, session: AsyncSession,
                     now: dt.datetime) -> None:
    """From the review: add to the description ("add"), or tell it again ("rewrite": the
    old text stays until the new one arrives, so leaving the edit loses nothing)."""
    _expect(draft, Step.REVIEW)
    if mode not in ("add", "rewrite"):
        raise InvalidInput("stale_step")
    if mode == "rewrite":
        draft.answers["rewrite"] = True
    draft.step, draft.editing = Step.STORY, True
    await store.save_draft(draft, session=session, now=now)


async def keep_loose_text(draft: ReportDraft, text: str, *, session: AsyncSession,
                          now: dt.datetime, message_id: int | None = None) -> None:
    """A message typed where a button was expected, after the story: kept aside until the
    reporter says whether it belongs to the description."""
    _expect(draft, Step.RELATION, Step.REVIEW)
    text = visible_strip(text)
    if not text:
        raise InvalidInput("blank_text")
    draft.answers["loose"] = text
    draft.answers["loose_mid"] = message_id
    await store.save_draft(draft, session=session, now=now)


async def take_loose_text(draft: ReportDraft, *, session: AsyncSession,
                          now: dt.datetime) -> int:
    """The reporter said yes: the text kept aside joins the description."""
    loose = draft.answers.get("loose")
    if not loose:
        raise InvalidInput("stale_step")
    add_story_part(draft.answers, loose, draft.answers.get("loose_mid"))
    draft.answers.pop("loose", None)
    draft.answers.pop("loose_mid", None)
    await store.save_draft(draft, session=session, now=now)
    return len(draft.answers["story"])


async def drop_loose_text(draft: ReportDraft, *, session: AsyncSession, now: dt.datetime) -> None:
    draft.answers.pop("loose", None)
    draft.answers.pop("loose_mid", None)
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
    """Anonymous or not; "stay anonymous" is still offered while asking for the number."""
    _expect(draft, Step.IDENTITY, Step.CONTACT)
    draft.step = Step.IDENTITY
    draft.answers["anonymous"] = anonymous
    if anonymous:
        draft.answers.pop("reporter_name", None)
        draft.answers.pop("reporter_phone", None)
    await _advance(draft, session=session, now=now)


async def set_contact(draft: ReportDraft, *, phone: str, name: str | None,
                      session: AsyncSession, now: dt.datetime) -> None:
    _expect(draft, Step.IDENTITY, Step.CONTACT)
    draft.answers["reporter_phone"] = normalise_phone(phone)
    draft.answers["anonymous"] = False
    if Step(draft.step) is Step.IDENTITY:
        _remember(draft, Step.IDENTITY)
    name = visible_strip(name)
    if name:
        draft.answers["reporter_name"] = name[:MAX_NAME_CHARS]
    draft.step = Step.CONTACT
    await _advance(draft, session=session, now=now)


async def set_relation(draft: ReportDraft, relation: str, *, session: AsyncSession,
                       now: dt.datetime) -> None:
    _expect(draft, Step.RELATION)
    draft.answers["relation"] = Relation(relation).value
    await _advance(draft, session=session, now=now)


async def edit(draft: ReportDraft, field: str, *, session: AsyncSession, now: dt.datetime) -> None:
    """From the review: go back to one field, then return to the review."""
    _expect(draft, Step.REVIEW)
    if field not in EDITABLE or field == "story":  # the story: edit_story, add or rewrite
        raise InvalidInput("stale_step")
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
        longitude=location[1], created_at=now, draft_id=draft.id)
    reporter = ReportReporter(
        report_id=0, telegram_user_id=draft.user_id, anonymous=bool(a["anonymous"]),
        name=a.get("reporter_name"), phone=a.get("reporter_phone"), relation=a.get("relation"),
        # The notice (what is kept, who sees it, how long, how to have it deleted) is part of
        # the question that asks for the name and phone: leaving them is the consent.
        consent=CONSENT_DECLINED if a["anonymous"] or not (a.get("reporter_name")
                                                           or a.get("reporter_phone"))
        else CONSENT_GIVEN)
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


async def sent_from_draft(user_id: int, draft_id: int, *,
                          session: AsyncSession) -> SentReport | None:
    """The report this person sent from that draft, if any ("Send" pressed again)."""
    report = await store.get_report_sent_from(user_id, draft_id, session=session)
    if report is None:
        return None
    case = await store.get_case_for_report(report.id, session=session)
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
    report_id: int | None = None


async def _status_view(report: Report, *, session: AsyncSession) -> StatusView:
    case = await store.get_case_for_report(report.id, session=session)
    return StatusView(code=report.code, status=public_status(CaseStatus(case.status)),
                      received_at=report.created_at, note=case.public_note,
                      note_at=case.public_note_at, report_id=report.id)


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


async def own_reports(user_id: int, *, session: AsyncSession) -> list[StatusView]:
    """The reports this person sent (newest first), each with its code and coarse status."""
    rows = await store.list_reports_of(user_id, session=session)
    return [StatusView(code=report.code, status=public_status(CaseStatus(case.status)),
                       received_at=report.created_at, note=case.public_note,
                       note_at=case.public_note_at, report_id=report.id)
            for report, case in rows]


async def open_conversations(user_id: int, *, session: AsyncSession) -> list[tuple[Case, Report]]:
    """Open cases of this reporter on which an officer wrote to them: where a typed answer
    without the Reply button can belong."""
    return list(await store.list_open_conversations(
        user_id, [str(s) for s in OPEN_STATUSES], session=session))


async def _own_report(user_id: int, report_id: int, *, session: AsyncSession) -> Report:
    reporter = await store.get_reporter(report_id, session=session)
    if reporter is None or reporter.telegram_user_id != user_id:
        raise NotFound("report")
    return await store.get_report(report_id, session=session)


async def is_own_report(user_id: int, report_id: int, *, session: AsyncSession) -> bool:
    reporter = await store.get_reporter(report_id, session=session)
    return reporter is not None and reporter.telegram_user_id == user_id


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
                            now: dt.datetime, message_id: int | None = None) -> None:
    _expect(draft, Step.ADDITION)
    add_story_part(draft.answers, text, message_id)
    await store.save_draft(draft, session=session, now=now)


async def correct_story(draft: ReportDraft, message_id: int, text: str, *,
                        session: AsyncSession, now: dt.datetime) -> str | None:
    """An edited message that is part of this unsent draft's description (or the text kept
    aside, waiting for "add it?"): the part is replaced where it is. Returns "story",
    "loose", or None when the message is not part of the draft (nothing changed)."""
    answers = draft.answers
    if answers.get("loose") and answers.get("loose_mid") == message_id:
        cleaned = visible_strip(text)
        if not cleaned:
            raise InvalidInput("blank_text")
        answers["loose"] = cleaned
        await store.save_draft(draft, session=session, now=now)
        return "loose"
    if not replace_story_part(answers, message_id, text):
        return None
    await store.save_draft(draft, session=session, now=now)
    return "story"


@dataclass(frozen=True)
class AddedInfo:
    report: Report
    case: Case
    notify_user_id: int | None  # the assigned officer: told with the added text
    notify_others: Sequence[int] = ()  # nobody has the case: the commune's officers
    text: str = ""
    media: int = 0


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
                                         kind="addition", note=text or None,
                                         media_kind="media" if media else None),
                               session=session)
    await audit.record(session=session, at=now, actor_user_id=draft.user_id,
                       action="report_added_info", object_type="case", object_id=case.id,
                       unit_id=case.commune_id)
    await store.delete_draft(draft, session=session)
    holder = None
    if case.assigned_member_id is not None:
        member = await session.get(Member, case.assigned_member_id)
        holder = member.telegram_user_id if member and member.active else None
    # Nobody handles the case yet: the commune's officers hear of it, like of the report.
    others = [] if holder else [m.telegram_user_id for m in
                                await officers_to_notify(case.commune_id, session=session)]
    return AddedInfo(report=report, case=case, notify_user_id=holder, notify_others=others,
                     text=text, media=len(media))


# --- officers --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDetails:
    case: Case
    report: Report
    media: Sequence[ReportMedia]
    reporter: ReportReporter | None  # only for the officer handling the case
    village: Unit | None
    holder: Member | None
    additions: Sequence[ReportAddition] = ()  # what the reporter added after sending
    can_take: bool = False  # the reader may take the case (officers of its commune)


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
    village = (await units.get_unit(report.village_id, session=session)
               if report.village_id else None)
    return CaseDetails(case=case, report=report,
                       media=await store.list_media(report.id, session=session),
                       reporter=reporter, village=village, holder=holder,
                       additions=await store.list_additions(report.id, session=session),
                       can_take=CaseRight.TAKE in loaded.rights)


# --- scheduled work -------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    case: Case
    report: Report
    recipients: Sequence[int]  # Telegram ids of the commune's administrators
    # No commune administrator: the installation's are told, but may not open the case.
    install_admins: bool = False


async def claim_escalations(*, session: AsyncSession, now: dt.datetime,
                            limits: ReportLimits,
                            superadmin_ids: Sequence[int]) -> list[Escalation]:
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
