"""The register of children in special circumstances, as villages and officers use it: add a
child (after a duplicate check), read a record, lists by village, support statuses, the
groups, leaving the register, and the birthday pass that lets children of 16 leave. No
Telegram here.

Every view, list and change is in the audit log (ids only); every change writes a history
row ("biến động") and re-checks rights and the record's revision.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_access import CaseRight
from domain.errors import InvalidInput, NotFound
from domain.names import sort_key
from domain.register import (
    Birth,
    ChildStatus,
    LeaveReason,
    Sex,
    SupportKind,
    SupportStatus,
    clean_groups,
    clean_name,
    has_turned_16,
    is_listed,
    leave,
    register_match_key,
    review_due,
    sixteenth_birthday,
)
from domain.register_access import (
    ChildScope,
    PlaceScope,
    RegisterAction,
    RegisterRight,
    ensure,
    ensure_on_child,
    rights,
)
from domain.roles import Actor, Role, UnitKind
from services import cases as cases_service
from storage import audit, units
from storage import register as store
from storage import reports as report_store
from storage.crypto import blind_index
from storage.models import RegisterChild, RegisterEvent, RegisterSupport, Unit

OBJECT = "child"


# --- where the actor works --------------------------------------------------------------


def home(actor: Actor) -> tuple[int, int | None] | None:
    """(commune, village) of the actor's register: a collaborator's village and its commune,
    an officer's commune (None for the village); None for anyone without one."""
    if actor.scope is None or actor.is_superadmin or len(actor.scope.path) < 2:
        return None  # nobody, or province level (aggregate numbers only)
    if actor.role is Role.COLLABORATOR and len(actor.scope.path) >= 2:
        return actor.scope.path[-2], actor.scope.unit_id
    if actor.role in (Role.OFFICER, Role.ADMIN, Role.AGENCY_MEMBER):
        return actor.scope.unit_id, None
    return None


async def place(commune_id: int, village_id: int | None, *,
                session: AsyncSession) -> PlaceScope:
    commune = await units.get_unit(commune_id, session=session)
    if commune is None or commune.kind is not UnitKind.COMMUNE:
        raise NotFound("commune")
    if village_id is not None:
        village = await units.get_unit(village_id, session=session)
        if village is None or village.parent_id != commune_id:
            raise NotFound("village")
    return PlaceScope(commune_id, village_id, commune.parent_id)


async def villages(commune_id: int, *, session: AsyncSession) -> list[Unit]:
    found = await units.list_children(commune_id, session=session, kind=UnitKind.VILLAGE)
    return [v for v in found if v.active]


# --- one record -------------------------------------------------------------------------


@dataclass
class Loaded:
    child: RegisterChild
    scope: ChildScope
    rights: frozenset[RegisterRight]


async def _scope(child: RegisterChild, session: AsyncSession) -> ChildScope:
    return ChildScope(child.commune_id, child.village_id,
                      await store.referred_agencies(child.source_case_id, session=session))


async def load(actor: Actor, child_id: int, right: RegisterRight, *,
               session: AsyncSession) -> Loaded:
    """The record if `actor` has `right` on it: NotFound, or NotAllowed."""
    child = await store.get_child(child_id, session=session)
    if child is None:
        raise NotFound("child")
    scope = await _scope(child, session)
    ensure_on_child(actor, right, scope)
    return Loaded(child, scope, rights(actor, scope))


@dataclass
class Record:
    child: RegisterChild
    rights: frozenset[RegisterRight]
    village: Unit | None
    supports: dict[str, RegisterSupport]
    history: Sequence[tuple[RegisterEvent, str | None]]
    case_code: str | None = None  # the case it came from, for those who may see cases


async def view(actor: Actor, child_id: int, *, session: AsyncSession,
               now: dt.datetime) -> Record:
    """The record with its support and history (recorded in the audit log)."""
    loaded = await load(actor, child_id, RegisterRight.VIEW, session=session)
    child = loaded.child
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_viewed", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id)
    village = await units.get_unit(child.village_id, session=session) \
        if child.village_id else None
    supports = {s.kind: s for s in await store.list_supports(child.id, session=session)}
    history = await store.list_events(child.id, session=session, limit=5)
    case_code = None
    if child.source_case_id is not None and RegisterRight.VIEW_CASES in loaded.rights:
        case = await report_store.get_case(child.source_case_id, session=session)
        report = await report_store.get_report(case.report_id, session=session) if case else None
        case_code = report.code if report else None
    return Record(child, loaded.rights, village, supports, history, case_code)


async def from_case(actor: Actor, case_id: int, *,
                    session: AsyncSession) -> tuple[dict, int | None]:
    """What a case tells the add flow (commune, village, the child's name, the groups), and
    the record already added from it, if any. Only who may update the case."""
    loaded = await cases_service.load(actor, case_id, CaseRight.UPDATE, session=session)
    case, report = loaded.case, loaded.report
    existing = await store.find_by_case(case.id, session=session)
    data: dict = {"commune": case.commune_id, "case": case.id}
    if report.village_id is not None:
        data["village"] = report.village_id
    if report.child_name:
        with contextlib.suppress(InvalidInput):  # otherwise asked for again
            data["name"] = clean_name(report.child_name)
    if case.special_groups:
        data["groups"] = clean_groups(list(case.special_groups))
    return data, existing.id if existing else None


async def history(actor: Actor, child_id: int, *, session: AsyncSession, now: dt.datetime,
                  limit: int = 30) -> tuple[RegisterChild, Sequence]:
    loaded = await load(actor, child_id, RegisterRight.VIEW, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_history_viewed", object_type=OBJECT,
                       object_id=loaded.child.id, unit_id=loaded.child.commune_id)
    return loaded.child, await store.list_events(loaded.child.id, session=session, limit=limit)


# --- lists ------------------------------------------------------------------------------


async def list_children(actor: Actor, commune_id: int, village_id: int | None, *,
                        session: AsyncSession, now: dt.datetime) -> list[RegisterChild]:
    """The active children of a village (or of the whole commune for its officers), in
    Vietnamese alphabetical order. Audited: a list shows names."""
    ensure(actor, RegisterAction.LIST, await place(commune_id, village_id, session=session))
    children = await store.list_active(commune_id, session=session, village_id=village_id)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="register_listed", object_type="register",
                       object_id=village_id or commune_id, unit_id=commune_id,
                       village_id=village_id, count=len(children))
    return sorted(children, key=lambda c: sort_key(c.full_name))


FILTERS = ("bhyt", "birth", "late")  # missing BHYT, missing birth papers, review overdue


async def list_filtered(actor: Actor, commune_id: int, village_id: int | None, which: str, *,
                        session: AsyncSession, now: dt.datetime,
                        today: dt.date) -> list[RegisterChild]:
    """The list narrowed to children without a BHYT card or birth papers (not recorded
    counts as without: "không để bỏ sót"), or whose review is overdue."""
    children = await list_children(actor, commune_id, village_id, session=session, now=now)
    if which == "late":
        return [c for c in children if c.review_due_on is not None and c.review_due_on < today]
    kind = {"bhyt": SupportKind.HEALTH_INSURANCE, "birth": SupportKind.BIRTH_REGISTRATION}[which]
    covered = await store.kinds_with_status(
        commune_id, str(kind), [str(SupportStatus.HAS), str(SupportStatus.NOT_ELIGIBLE)],
        session=session)
    return [c for c in children if c.id not in covered]


async def counts_by_village(actor: Actor, commune_id: int, *,
                            session: AsyncSession) -> dict[int | None, int]:
    ensure(actor, RegisterAction.LIST, await place(commune_id, None, session=session))
    return await store.count_active_by_village(commune_id, session=session)


# --- adding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewChild:
    """What the add flow collected."""

    commune_id: int
    village_id: int | None
    full_name: str
    sex: Sex
    birth: Birth
    groups: tuple[str, ...] = ()
    at_risk: bool = False
    risk_note: str | None = None
    caregiver: str | None = None
    caregiver_relation: str | None = None
    supports: tuple[tuple[str, str], ...] = ()  # (SupportKind, SupportStatus)
    notes: str | None = None
    source_case_id: int | None = None


@dataclass(frozen=True)
class Duplicate:
    """An active record that looks like the same child; `visible`: the actor may open it."""

    child_id: int
    visible: bool
    village_name: str | None


async def duplicates(actor: Actor, new: NewChild, *,
                     session: AsyncSession) -> list[Duplicate]:
    """Active records of the commune with the same normalised name and birth year."""
    key = register_match_key(new.full_name, new.birth.year, new.commune_id,
                             digest=blind_index)
    found = []
    for child in await store.find_by_match_key(key, session=session):
        scope = await _scope(child, session)
        village = await units.get_unit(child.village_id, session=session) \
            if child.village_id else None
        found.append(Duplicate(child.id, RegisterRight.VIEW in rights(actor, scope),
                               village.name if village else None))
    return found


async def add(actor: Actor, new: NewChild, *, session: AsyncSession,
              now: dt.datetime, today: dt.date, review_months: int = 3) -> RegisterChild:
    """Creates the record, its support rows and the first history row (audited)."""
    ensure(actor, RegisterAction.ADD, await place(new.commune_id, new.village_id,
                                                  session=session))
    name = clean_name(new.full_name)
    groups = clean_groups(list(new.groups))
    if not is_listed(groups, new.at_risk):
        raise InvalidInput("group_required")
    child = RegisterChild(
        commune_id=new.commune_id, village_id=new.village_id, full_name=name,
        match_key=register_match_key(name, new.birth.year, new.commune_id,
                                     digest=blind_index),
        sex=str(new.sex), birth_year=new.birth.year, birth_date=new.birth.date,
        leaves_on=sixteenth_birthday(new.birth), caregiver=new.caregiver,
        caregiver_relation=new.caregiver_relation, groups=groups, at_risk=new.at_risk,
        risk_note=new.risk_note if new.at_risk else None, notes=new.notes,
        status=str(ChildStatus.ACTIVE), source_case_id=new.source_case_id,
        reviewed_on=today, review_due_on=review_due(today, review_months), created_at=now,
        created_by=actor.user_id, updated_at=now, revision=0)
    await store.create_child(child, session=session)
    for kind, status in new.supports:
        await store.set_support(child.id, str(SupportKind(kind)), str(SupportStatus(status)),
                                since=today, session=session)
    await store.add_event(child.id, "added", session=session, at=now,
                          actor_user_id=actor.user_id, groups=groups, at_risk=new.at_risk,
                          village_id=new.village_id,
                          supports=dict(new.supports), case_id=new.source_case_id)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_added", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id, village_id=child.village_id)
    return child


# --- changes ----------------------------------------------------------------------------


async def _changeable(actor: Actor, child_id: int, revision: int | None,
                      session: AsyncSession) -> RegisterChild:
    await store.lock_child(child_id, session=session)  # two presses at once: one wins
    loaded = await load(actor, child_id, RegisterRight.UPDATE, session=session)
    child = loaded.child
    if child.status != ChildStatus.ACTIVE:
        raise InvalidInput("child_left")
    if revision is not None and child.revision != revision:
        raise InvalidInput("child_changed")
    return child


async def _changed(actor: Actor, child: RegisterChild, kind: str, *, session: AsyncSession,
                   now: dt.datetime, **changes: object) -> None:
    child.revision += 1
    child.updated_at = now
    await store.save_child(child, session=session)
    await store.add_event(child.id, kind, session=session, at=now, actor_user_id=actor.user_id,
                          **changes)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_updated", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id, fields=sorted(changes))


async def set_support(actor: Actor, child_id: int, revision: int, kind: SupportKind,
                      status: SupportStatus, *, session: AsyncSession, now: dt.datetime,
                      today: dt.date) -> RegisterChild:
    child = await _changeable(actor, child_id, revision, session)
    if await store.set_support(child.id, str(kind), str(status), since=today, session=session):
        await _changed(actor, child, "support", session=session, now=now,
                       support={str(kind): str(status)})
    return child


async def set_groups(actor: Actor, child_id: int, revision: int, groups: list[str],
                     at_risk: bool, *, session: AsyncSession, now: dt.datetime) -> RegisterChild:
    child = await _changeable(actor, child_id, revision, session)
    groups = clean_groups(groups)
    if not is_listed(groups, at_risk):
        raise InvalidInput("group_required")
    if groups == list(child.groups) and at_risk == child.at_risk:
        return child
    before = list(child.groups)
    child.groups, child.at_risk = groups, at_risk
    await _changed(actor, child, "updated", session=session, now=now,
                   groups={"from": before, "to": groups}, at_risk=at_risk)
    return child


# --- correcting who the child is (name, birth, sex, village, caregiver) ------------------


@dataclass(frozen=True)
class IdentityEdit:
    """Corrections to a record; None leaves a field as it is ("" clears the caregiver)."""

    full_name: str | None = None
    birth: Birth | None = None
    sex: Sex | None = None
    village_id: int | None = None
    caregiver: str | None = None
    caregiver_relation: str | None = None


IDENTITY_FIELDS = ("name", "birth", "sex", "village", "caregiver", "relation")


def _identity_changes(child: RegisterChild, edit: IdentityEdit) -> dict[str, object]:
    """Field → new value, for the fields `edit` really changes."""
    found: dict[str, object] = {}
    if edit.full_name is not None:
        name = clean_name(edit.full_name)
        if name != child.full_name:
            found["name"] = name
    if edit.birth is not None and (edit.birth.year, edit.birth.date) != (
            child.birth_year, child.birth_date):
        found["birth"] = edit.birth
    if edit.sex is not None and str(edit.sex) != child.sex:
        found["sex"] = str(edit.sex)
    if edit.village_id is not None and edit.village_id != child.village_id:
        found["village"] = edit.village_id
    if edit.caregiver is not None and (edit.caregiver or None) != child.caregiver:
        found["caregiver"] = edit.caregiver or None
        if not edit.caregiver:
            found["relation"] = None
    if edit.caregiver_relation is not None and \
            edit.caregiver_relation != child.caregiver_relation:
        found["relation"] = edit.caregiver_relation
    return found


def _apply_identity(child: RegisterChild, changes: dict[str, object],
                    today: dt.date) -> dict[str, object]:
    """Writes the changes on the record (the duplicate key and the 16th birthday follow the
    name and the date of birth); returns the codes the history may keep (sex, village ids,
    relation), never a name or a date of birth."""
    codes: dict[str, object] = {}
    if "birth" in changes:
        birth = changes["birth"]
        assert isinstance(birth, Birth)
        if has_turned_16(birth, today):
            raise InvalidInput("birth_too_old")
        child.birth_year, child.birth_date = birth.year, birth.date
        child.leaves_on = sixteenth_birthday(birth)
    if "name" in changes:
        child.full_name = str(changes["name"])
    if "name" in changes or "birth" in changes:
        child.match_key = register_match_key(child.full_name, child.birth_year,
                                             child.commune_id, digest=blind_index)
    if "sex" in changes:
        codes["sex"] = {"from": child.sex, "to": changes["sex"]}
        child.sex = str(changes["sex"])
    if "village" in changes:
        codes["village"] = {"from": child.village_id, "to": changes["village"]}
        child.village_id = int(changes["village"])  # type: ignore[call-overload]
    if "caregiver" in changes:
        child.caregiver = changes["caregiver"]  # type: ignore[assignment]
    if "relation" in changes:
        codes["relation"] = {"from": child.caregiver_relation, "to": changes["relation"]}
        child.caregiver_relation = changes["relation"]  # type: ignore[assignment]
    return codes


async def edit_duplicates(actor: Actor, child_id: int, edit: IdentityEdit, *,
                          session: AsyncSession) -> list[Duplicate]:
    """Other active records the corrected name and birth year would match (none when
    neither changes what duplicates are compared on)."""
    loaded = await load(actor, child_id, RegisterRight.UPDATE, session=session)
    child = loaded.child
    name = clean_name(edit.full_name) if edit.full_name is not None else child.full_name
    year = edit.birth.year if edit.birth is not None else child.birth_year
    key = register_match_key(name, year, child.commune_id, digest=blind_index)
    if key == child.match_key:
        return []
    found = []
    for other in await store.find_by_match_key(key, session=session, exclude_id=child.id):
        scope = await _scope(other, session)
        village = await units.get_unit(other.village_id, session=session) \
            if other.village_id else None
        found.append(Duplicate(other.id, RegisterRight.VIEW in rights(actor, scope),
                               village.name if village else None))
    return found


async def edit_identity(actor: Actor, child_id: int, revision: int, edit: IdentityEdit, *,
                        session: AsyncSession, now: dt.datetime,
                        today: dt.date) -> tuple[RegisterChild, list[str]]:
    """Corrects the record (someone with UPDATE on it; another village only for who may add
    there): one history row naming the fields changed, one audit row. Nothing changed:
    nothing written."""
    child = await _changeable(actor, child_id, revision, session)
    changes = _identity_changes(child, edit)
    if "village" in changes:
        ensure(actor, RegisterAction.ADD, await place(child.commune_id,
                                                      int(changes["village"]),  # type: ignore[call-overload]
                                                      session=session))
    if not changes:
        return child, []
    fields = [f for f in IDENTITY_FIELDS if f in changes]
    codes = _apply_identity(child, changes, today)
    child.revision += 1
    child.updated_at = now
    await store.save_child(child, session=session)
    await store.add_event(child.id, "edited", session=session, at=now,
                          actor_user_id=actor.user_id, fields=fields, **codes)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_edited", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id, fields=fields)
    return child, fields


async def import_update(actor: Actor, child_id: int, edit: IdentityEdit, *,
                        groups: list[str] | None, at_risk: bool, risk_note: str | None,
                        supports: Sequence[tuple[str, str]], session: AsyncSession,
                        now: dt.datetime, today: dt.date) -> list[str]:
    """A row of an imported list applied to the record it matches: the fields the file
    gives and that differ (identity, circumstances, support statuses). One history row
    ("imported", field names and codes only) and one audit row; the fields changed."""
    child = await _changeable(actor, child_id, None, session)
    changes = _identity_changes(child, edit)
    fields = [f for f in IDENTITY_FIELDS if f in changes]
    codes = _apply_identity(child, changes, today)
    if groups is not None:
        cleaned = clean_groups(groups)
        if is_listed(cleaned, at_risk) and (cleaned != list(child.groups)
                                            or at_risk != child.at_risk):
            codes["groups"] = {"from": list(child.groups), "to": cleaned}
            child.groups, child.at_risk = cleaned, at_risk
            fields.append("groups")
        if at_risk and risk_note and risk_note != child.risk_note:
            child.risk_note = risk_note
            fields.append("risk")
    support_codes = {}
    for kind, status in supports:
        if await store.set_support(child.id, str(SupportKind(kind)), str(SupportStatus(status)),
                                   since=today, session=session):
            support_codes[str(kind)] = str(status)
    if support_codes:
        codes["support"] = support_codes
        fields += sorted(support_codes)
    if not fields:
        return []
    child.revision += 1
    child.updated_at = now
    await store.save_child(child, session=session)
    await store.add_event(child.id, "imported", session=session, at=now,
                          actor_user_id=actor.user_id, fields=fields, **codes)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_updated", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id, fields=fields, source="import")
    return fields


async def leave_register(actor: Actor, child_id: int, revision: int, reason: LeaveReason, *,
                         note: str | None, session: AsyncSession, now: dt.datetime,
                         today: dt.date) -> bool:
    """The child leaves the register with a reason; False if it had already left."""
    child = await store.get_child(child_id, session=session)
    if child is None:
        raise NotFound("child")
    ensure_on_child(actor, RegisterRight.UPDATE, await _scope(child, session))
    leaving = leave(child.status, reason, on=today, note=note)
    if leaving is None:
        return False
    if not await store.mark_left(child.id, revision=revision, reason=str(reason), on=today,
                                 note=leaving.note, now=now, session=session):
        raise InvalidInput("child_changed")
    await store.add_event(child.id, "left", session=session, at=now,
                          actor_user_id=actor.user_id, reason=str(reason))
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_left", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id, reason=str(reason))
    return True


# --- the 16th birthday ------------------------------------------------------------------


@dataclass(frozen=True)
class TurnedSixteen:
    child: RegisterChild
    village: Unit | None
    recipients: list[int]  # Telegram ids: the village's collaborators, the commune's officers


async def leave_at_sixteen(*, session: AsyncSession, today: dt.date, now: dt.datetime,
                           limit: int = 500) -> list[TurnedSixteen]:
    """Children whose 16th birthday has come leave the register (once: a conditional update,
    so a second run or a second instance finds nothing to do). The caller writes the notices
    in the same transaction."""
    done = []
    for child in await store.list_turned_16(today, session=session, limit=limit):
        if not await store.mark_left(child.id, revision=None, reason=str(LeaveReason.TURNED_16),
                                     on=child.leaves_on, note=None, now=now, session=session):
            continue
        await store.add_event(child.id, "turned_16", session=session, at=now,
                              actor_user_id=None, reason=str(LeaveReason.TURNED_16))
        await audit.record(session=session, at=now, actor_user_id=None, action="child_left",
                           object_type=OBJECT, object_id=child.id, unit_id=child.commune_id,
                           reason=str(LeaveReason.TURNED_16))
        recipients = []
        village = None
        if child.village_id is not None:
            village = await units.get_unit(child.village_id, session=session)
            recipients += [m.telegram_user_id for m in await store.list_members_of(
                child.village_id, [Role.COLLABORATOR], session=session)]
        recipients += [m.telegram_user_id for m in await store.list_members_of(
            child.commune_id, [Role.OFFICER, Role.ADMIN], session=session)]
        done.append(TurnedSixteen(child, village, list(dict.fromkeys(recipients))))
    return done


# --- the periodic review ----------------------------------------------------------------


async def review_unchanged(actor: Actor, child_id: int, revision: int, *,
                           session: AsyncSession, now: dt.datetime, today: dt.date,
                           months: int) -> RegisterChild:
    """"Không thay đổi": the review is recorded and the next one is due in `months`."""
    child = await _changeable(actor, child_id, revision, session)
    was_due = child.review_due_on
    child.reviewed_on, child.review_due_on = today, review_due(today, months)
    child.revision += 1
    child.updated_at = now
    await store.save_child(child, session=session)
    await store.add_event(child.id, "reviewed", session=session, at=now,
                          actor_user_id=actor.user_id, due_on=was_due, done_on=today,
                          unchanged=True)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="child_reviewed", object_type=OBJECT, object_id=child.id,
                       unit_id=child.commune_id)
    return child


async def due_in_village(actor: Actor, commune_id: int, village_id: int, *,
                         session: AsyncSession, today: dt.date) -> list[RegisterChild]:
    """The village's children whose review is due (for someone who may list it)."""
    ensure(actor, RegisterAction.LIST, await place(commune_id, village_id, session=session))
    children = await store.list_active(commune_id, session=session, village_id=village_id)
    due = [c for c in children if c.review_due_on is not None and c.review_due_on <= today]
    return sorted(due, key=lambda c: sort_key(c.full_name))


@dataclass(frozen=True)
class ReviewList:
    village: Unit
    children: list[RegisterChild]
    recipients: list[int]  # the village's collaborators


async def claim_review_lists(*, session: AsyncSession, today: dt.date,
                             now: dt.datetime) -> list[ReviewList]:
    """Each village with children due gets its list once a day (claimed across instances);
    the caller writes the messages in the same transaction."""
    lists = []
    # Village by village: a province may have far more children due than one query should
    # return, and no village may be left out.
    for village_id in await store.villages_with_due_reviews(today, session=session):
        members = await store.list_members_of(village_id, [Role.COLLABORATOR], session=session)
        if not members:
            continue  # nobody to ask in that village: the officer's lists show them
        if not await store.claim_day(f"review:{today.isoformat()}:{village_id}",
                                     session=session, now=now):
            continue
        children = list(await store.list_due_reviews(today, village_id, session=session))
        if not children:
            continue  # reviewed meanwhile (another instance, an officer): nothing to ask
        village = await units.get_unit(village_id, session=session)
        await audit.record(session=session, at=now, actor_user_id=None,
                           action="review_list_sent", object_type="register",
                           object_id=village_id, unit_id=children[0].commune_id,
                           count=len(children))
        lists.append(ReviewList(village, sorted(children, key=lambda c: sort_key(c.full_name)),
                                [m.telegram_user_id for m in members]))
    return lists


async def order_review(actor: Actor, commune_id: int, village_id: int, *,
                       session: AsyncSession, today: dt.date,
                       now: dt.datetime) -> ReviewList | None:
    """An officer's ad hoc ("đột xuất") review of one village: every active child is due
    today, and the village's collaborators get the list now. None: nobody to ask there."""
    ensure(actor, RegisterAction.ORDER_REVIEW, await place(commune_id, village_id,
                                                           session=session))
    children = await store.list_active(commune_id, session=session, village_id=village_id)
    members = await store.list_members_of(village_id, [Role.COLLABORATOR], session=session)
    village = await units.get_unit(village_id, session=session)
    for child in children:
        child.review_due_on = today
        child.revision += 1
        await store.save_child(child, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="review_ordered", object_type="register", object_id=village_id,
                       unit_id=commune_id, count=len(children))
    if not members or not children:
        return None
    return ReviewList(village, sorted(children, key=lambda c: sort_key(c.full_name)),
                      [m.telegram_user_id for m in members])


# --- the export -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    child: RegisterChild
    village: str | None
    supports: dict[str, str]  # kind → status


async def export_rows(actor: Actor, commune_id: int, *, session: AsyncSession,
                      now: dt.datetime) -> tuple[str, list[ExportRow]]:
    """The commune's name and its active children (by village, then name) with their
    support, for someone allowed to export; audited (ids and the count only)."""
    ensure(actor, RegisterAction.EXPORT, await place(commune_id, None, session=session))
    commune = await units.get_unit(commune_id, session=session)
    names = {v.id: v.name for v in await villages(commune_id, session=session)}
    children = await store.list_active(commune_id, session=session)
    supports = await store.supports_of_commune(commune_id, session=session)
    rows = [ExportRow(c, names.get(c.village_id) if c.village_id else None,
                      supports.get(c.id, {})) for c in children]
    rows.sort(key=lambda r: (sort_key(r.village or ""), sort_key(r.child.full_name)))
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="register_exported", object_type="register",
                       object_id=commune_id, unit_id=commune_id, count=len(rows))
    return commune.name if commune else "", rows


# --- figures (aggregates only) ----------------------------------------------------------

TARGET_KINDS = (SupportKind.HEALTH_INSURANCE, SupportKind.BIRTH_REGISTRATION,
                SupportKind.SOCIAL_ASSISTANCE)  # the Tam Mỹ plan's 100% targets


@dataclass(frozen=True)
class RegisterFigures:
    """Children on the register now, by group, and how many have each kind of support."""

    total: int
    by_group: dict[str, int]  # SpecialGroup → children (a child may be in several)
    at_risk: int
    has: dict[str, int]  # SupportKind → children with it
    not_eligible: dict[str, int]  # SupportKind → children not eligible
    by_sex: dict[str, int] = field(default_factory=dict)  # Sex → active children
    by_age: dict[str, int] = field(default_factory=dict)  # AGE_BANDS → active children
    by_village: dict[int | None, int] = field(default_factory=dict)  # one commune only
    joined: int | None = None  # records added in the period (None: no period asked)
    left: dict[str, int] = field(default_factory=dict)  # LeaveReason → left in the period
    # Periodic reviews due in the period: done on time, done late, not done and overdue.
    reviews_on_time: int = 0
    reviews_late: int = 0
    reviews_overdue: int = 0

    @property
    def reviews_due(self) -> int:
        return self.reviews_on_time + self.reviews_late + self.reviews_overdue

    def on_time_share(self) -> float | None:
        """Share of the reviews due in the period that were done on or before the due day."""
        return None if not self.reviews_due else self.reviews_on_time / self.reviews_due

    def share(self, kind: str) -> float | None:
        """Share of the children concerned (not counting those not eligible) who have it."""
        base = self.total - self.not_eligible.get(kind, 0)
        return None if base <= 0 else self.has.get(kind, 0) / base


AGE_BANDS = ("0-5", "6-10", "11-15")


async def figures(commune_ids: Sequence[int], *, session: AsyncSession,
                  today: dt.date | None = None,
                  period: tuple[dt.datetime, dt.datetime, dt.date, dt.date] | None = None,
                  villages: bool = False) -> RegisterFigures:
    """Aggregate numbers for one commune or a province's communes (the caller has checked
    who may see them): counts only, never a name. With `today`: by sex, age band and (one
    commune only) village; with `period` (start, end as instants, first and last day): the
    records added and those that left, by reason."""
    total, at_risk = await store.active_totals(commune_ids, session=session)
    by_group = await store.group_counts(commune_ids, session=session)
    counts = await store.support_counts(commune_ids, session=session)
    has = {k: n for (k, s), n in counts.items() if s == SupportStatus.HAS}
    not_eligible = {k: n for (k, s), n in counts.items() if s == SupportStatus.NOT_ELIGIBLE}
    by_sex: dict[str, int] = {}
    by_age: dict[str, int] = {}
    by_village: dict[int | None, int] = {}
    if today is not None:
        for _commune, sex, band, village_id, n in await store.breakdown_counts(
                commune_ids, today=today, session=session):
            by_sex[sex] = by_sex.get(sex, 0) + n
            by_age[band] = by_age.get(band, 0) + n
            if villages and len(commune_ids) == 1:
                by_village[village_id] = by_village.get(village_id, 0) + n
    joined, left, reviews = None, {}, (0, 0, 0)
    if period is not None:
        start, end, first, last = period
        joined = await store.joined_count(commune_ids, start=start, end=end, session=session)
        left = await store.left_counts(commune_ids, first=first, last=last, session=session)
        if today is not None:
            reviews = await store.review_counts(commune_ids, first=first, last=last,
                                                today=today, session=session)
    return RegisterFigures(total, by_group, at_risk, has, not_eligible, by_sex, by_age,
                           by_village, joined, left, *reviews)

