"""The commune administrator's changes to the plan's targets, from the chat: a target value
for a year, the agency responsible, or a target switched off for a year.

Each change is checked (the unit's range, an agency of the commune), recorded on the target
(who and when: a later import of the set-up file keeps it unless the file changed the same
thing, see storage/setup_import.py) and audited with the old and new value. Targets hold
no personal data: the values may be audited as they are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import InvalidInput, NotAllowed, NotFound
from domain.roles import Actor, Role
from domain.targets import Rule, Source, Target, check_value, target_fingerprint
from services.rounds import in_force, target_of
from storage import audit
from storage import rounds as store
from storage.models import Agency, PlanTarget
from storage.units import get_agency, get_unit


@dataclass
class TargetItem:
    row: PlanTarget
    spec: Target
    agency: Agency | None
    goal: float | None  # the target value in force in `year`
    year: int
    off: bool  # switched off for `year`

    @property
    def editable_value(self) -> bool:
        """A target met by "lower than last period" has no value to set."""
        return self.spec.rule is not Rule.DOWN

    @property
    def fingerprint(self) -> str:
        """The target's editable state in eight hex digits (the confirmations carry it)."""
        return target_fingerprint(self.row.target_values, self.row.agency_id,
                                  self.row.off_years)

    @property
    def reported(self) -> bool:
        """An agency reports it (a figure the bot computes has no agency)."""
        return self.spec.source is Source.AGENCY


async def ensure_admin(actor: Actor, *, session: AsyncSession) -> int:
    """The commune the actor administers, or NotAllowed (officers, agencies, a province's
    administrators: only the commune's own administrator changes its targets)."""
    if actor.role is not Role.ADMIN or actor.unit_id is None:
        raise NotAllowed("targets_edit", f"role={actor.role}")
    unit = await get_unit(actor.unit_id, session=session)
    if unit is None or unit.kind != "commune":
        raise NotAllowed("targets_edit", "not a commune")
    return unit.id


async def _item(row: PlanTarget, year: int, session: AsyncSession) -> TargetItem:
    spec = target_of(row)
    agency = (await get_agency(row.agency_id, session=session)
              if row.agency_id is not None else None)
    return TargetItem(row, spec, agency, spec.value_for(year), year, not in_force(row, year))


async def list_items(actor: Actor, year: int, *, session: AsyncSession) -> list[TargetItem]:
    commune_id = await ensure_admin(actor, session=session)
    return [await _item(row, year, session)
            for row in await store.list_targets(commune_id, session=session)]


async def get_item(actor: Actor, target_id: int, year: int, *, session: AsyncSession,
                   for_change: bool = False) -> TargetItem:
    commune_id = await ensure_admin(actor, session=session)
    row = (await store.lock_target(target_id, session=session) if for_change
           else await store.get_target(target_id, session=session))
    if row is None or row.commune_id != commune_id or not row.active:
        raise NotFound("target")
    return await _item(row, year, session)


async def list_agencies(actor: Actor, *, session: AsyncSession) -> list[Agency]:
    commune_id = await ensure_admin(actor, session=session)
    return list(await store.list_active_agencies(commune_id, session=session))


def _remember_file(item: TargetItem) -> None:
    """Before the first change in the chat of a target imported before the bot remembered what
    the file said (rows older than migration 0019): what it holds now is what the file last
    put there, so a later import can tell the chat's change from the file's."""
    if item.row.file_values is None:
        item.row.file_values = {"values": dict(item.row.target_values or {}),
                                "agency": item.agency.code if item.agency else None}


class AlreadyDone(Exception):
    """The confirmed change is already in effect (the same confirmation pressed twice, or
    a change to what the target already holds): nothing was written."""

    def __init__(self, item: TargetItem) -> None:
        super().__init__("target_change_done")
        self.item = item


class ChangedMeanwhile(Exception):
    """The target changed after the confirmation was shown (another press, another
    administrator, an import): nothing was written; the person sees it as it is now."""

    def __init__(self, item: TargetItem) -> None:
        super().__init__("target_changed")
        self.item = item


async def _checked(actor: Actor, target_id: int, year: int, seen: str | None,
                   in_effect: Callable[[TargetItem], bool], *,
                   session: AsyncSession) -> TargetItem:
    """The target locked for the change, once the change is known to be due: compare-and-
    set on the state the confirmation was shown for (`seen`, its fingerprint). A change
    already in effect raises AlreadyDone; a target changed since, ChangedMeanwhile."""
    item = await get_item(actor, target_id, year, session=session, for_change=True)
    if in_effect(item):
        raise AlreadyDone(item)
    if seen is not None and seen != item.fingerprint:
        raise ChangedMeanwhile(item)
    return item


def _recorded(item: TargetItem, actor: Actor, now: dt.datetime) -> None:
    item.row.edited_at = now
    item.row.edited_by = actor.user_id


def _year_value(item: TargetItem, year: int) -> float | None:
    value = (item.row.target_values or {}).get(str(year))
    return float(value) if value is not None else None


async def set_value(actor: Actor, target_id: int, year: int, value: float, *,
                    session: AsyncSession, now: dt.datetime,
                    seen: str | None = None) -> tuple[TargetItem, float | None]:
    """The target value for `year` (and the years after it, until the next one set); returns
    the item and the value in force before. `seen`: see _checked."""
    item = await get_item(actor, target_id, year, session=session)
    if not item.editable_value:
        raise InvalidInput("target_no_value")
    check_value(item.spec.unit, value)
    item = await _checked(actor, target_id, year, seen,
                          lambda it: _year_value(it, year) == value, session=session)
    _remember_file(item)
    old = item.goal
    values = dict(item.row.target_values or {})
    values[str(year)] = value
    item.row.target_values = values
    _recorded(item, actor, now)
    await store.save_target(item.row, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="target_changed", object_type="plan_target",
                       object_id=item.row.id, unit_id=item.row.commune_id,
                       target=item.row.code, what="value", year=year, old=old, new=value)
    return await get_item(actor, target_id, year, session=session), old


async def set_agency(actor: Actor, target_id: int, agency_id: int, year: int, *,
                     session: AsyncSession, now: dt.datetime,
                     seen: str | None = None) -> TargetItem:
    item = await get_item(actor, target_id, year, session=session)
    if not item.reported:
        raise InvalidInput("target_no_agency")
    agency = await get_agency(agency_id, session=session)
    if agency is None or agency.commune_id != item.row.commune_id or not agency.active:
        raise InvalidInput("agency_not_in_commune")
    item = await _checked(actor, target_id, year, seen,
                          lambda it: it.row.agency_id == agency.id, session=session)
    _remember_file(item)
    old = item.row.agency_id
    item.row.agency_id = agency.id
    _recorded(item, actor, now)
    await store.save_target(item.row, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="target_changed", object_type="plan_target",
                       object_id=item.row.id, unit_id=item.row.commune_id,
                       target=item.row.code, what="agency", old=old, new=agency.id)
    return await get_item(actor, target_id, year, session=session)


async def set_off(actor: Actor, target_id: int, year: int, off: bool, *,
                  session: AsyncSession, now: dt.datetime,
                  seen: str | None = None) -> TargetItem:
    """Switches the target off for `year` (not asked, not in that year's report) or back on."""
    item = await _checked(actor, target_id, year, seen, lambda it: it.off == off,
                          session=session)
    years = set(item.row.off_years or [])
    _remember_file(item)
    years = years | {year} if off else years - {year}
    item.row.off_years = sorted(years)
    _recorded(item, actor, now)
    await store.save_target(item.row, session=session)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="target_changed", object_type="plan_target",
                       object_id=item.row.id, unit_id=item.row.commune_id,
                       target=item.row.code, what="off" if off else "on", year=year)
    return await get_item(actor, target_id, year, session=session)
