"""What the bot tells a person about themselves and where to call for help."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.roles import Actor, UnitKind
from storage import units
from storage.models import Unit


@dataclass(frozen=True)
class Profile:
    unit_name: str | None
    commune_name: str | None
    agency_name: str | None


async def _commune_of(unit: Unit | None, session: AsyncSession) -> Unit | None:
    if unit is None or unit.kind is UnitKind.COMMUNE:
        return unit
    if unit.kind is UnitKind.VILLAGE and unit.parent_id is not None:
        return await units.get_unit(unit.parent_id, session=session)
    return None


async def describe(actor: Actor, *, session: AsyncSession) -> Profile:
    unit = await units.get_unit(actor.unit_id, session=session) if actor.unit_id else None
    commune = await _commune_of(unit, session)
    agency = await units.get_agency(actor.agency_id, session=session) if actor.agency_id else None
    return Profile(
        unit_name=unit.name if unit else None,
        commune_name=commune.name if commune else None,
        agency_name=agency.name if agency else None,
    )


async def hotline_communes(
    actor: Actor, *, session: AsyncSession, commune_id: int | None = None
) -> list[tuple[str, str | None, list[dict]]]:
    """The communes whose own numbers to show: the one given (where a report is), else the
    member's commune, else the commune of this installation when there is only one."""
    unit_id = commune_id or actor.unit_id
    unit = await units.get_unit(unit_id, session=session) if unit_id else None
    commune = await _commune_of(unit, session)
    if commune is None:
        communes = await units.list_communes(session=session)
        commune = communes[0] if len(communes) == 1 else None
    if commune is None:
        return []
    return [(commune.name, commune.on_duty_phone, list(commune.hotlines or []))]
