"""Queries on units (province → commune → village) and agencies."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.names import sorted_by_name
from domain.roles import UnitKind, UnitScope
from storage.models import Agency, Unit

# province → commune → village: a path is never longer than this.
_MAX_DEPTH = 6


def within_units(column, unit_ids: Sequence[int] | None):  # noqa: ANN001, ANN201
    """A condition: `column` (a unit id) is one of `unit_ids` or below them (None = anywhere).

    Units nest province → commune → village, so two levels of children cover all.
    """
    if unit_ids is None:
        return sa.true()
    children = select(Unit.id).where(col(Unit.parent_id).in_(unit_ids))
    grandchildren = select(Unit.id).where(col(Unit.parent_id).in_(children))
    return col(column).in_(unit_ids) | col(column).in_(children) | col(column).in_(grandchildren)


async def get_unit(unit_id: int, *, session: AsyncSession) -> Unit | None:
    return await session.get(Unit, unit_id)


async def get_unit_scope(unit_id: int, *, session: AsyncSession) -> UnitScope:
    """The unit and its ancestors, root first."""
    path: list[int] = []
    current: int | None = unit_id
    while current is not None and len(path) < _MAX_DEPTH:
        unit = await session.get(Unit, current)
        if unit is None:
            break
        path.append(unit.id)
        current = unit.parent_id
    return UnitScope(tuple(reversed(path)))


async def find_unit(
    kind: UnitKind, code: str, parent_id: int | None, *, session: AsyncSession
) -> Unit | None:
    stmt = select(Unit).where(Unit.kind == kind, Unit.code == code)
    stmt = stmt.where(
        col(Unit.parent_id).is_(None) if parent_id is None else Unit.parent_id == parent_id
    )
    return (await session.exec(stmt)).first()


async def list_children(
    parent_id: int, *, session: AsyncSession, kind: UnitKind | None = None, active_only: bool = True
) -> Sequence[Unit]:
    stmt = select(Unit).where(Unit.parent_id == parent_id)
    if kind is not None:
        stmt = stmt.where(Unit.kind == kind)
    if active_only:
        stmt = stmt.where(col(Unit.active).is_(True))
    return sorted_by_name((await session.exec(stmt.order_by(Unit.id))).all())


# Built once (the menu lists the communes on every /start): see storage/reports.py.
_ACTIVE_COMMUNES = (select(Unit).where(Unit.kind == UnitKind.COMMUNE, col(Unit.active).is_(True))
                    .order_by(Unit.id))
_ACTIVE_COMMUNES_WITHIN = _ACTIVE_COMMUNES.where(
    (Unit.id == sa.bindparam("within")) | (Unit.parent_id == sa.bindparam("within")))


async def list_communes(
    *, session: AsyncSession, within: int | None = None
) -> Sequence[Unit]:
    """Active communes, all of them or those under unit `within` (a province or a commune)."""
    if within is None:
        rows = await session.exec(_ACTIVE_COMMUNES)
    else:
        rows = await session.exec(_ACTIVE_COMMUNES_WITHIN, params={"within": within})
    return sorted_by_name(rows.all())


async def list_agencies(
    commune_id: int, *, session: AsyncSession, active_only: bool = True
) -> Sequence[Agency]:
    stmt = select(Agency).where(Agency.commune_id == commune_id)
    if active_only:
        stmt = stmt.where(col(Agency.active).is_(True))
    return sorted_by_name((await session.exec(stmt.order_by(Agency.id))).all())


async def get_agency(agency_id: int, *, session: AsyncSession) -> Agency | None:
    return await session.get(Agency, agency_id)


async def find_agency(commune_id: int, code: str, *, session: AsyncSession) -> Agency | None:
    stmt = select(Agency).where(Agency.commune_id == commune_id, Agency.code == code)
    return (await session.exec(stmt)).first()
