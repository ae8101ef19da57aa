"""The audit log: who saw and changed what. Details hold ids and codes only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry


async def record(
    *,
    session: AsyncSession,
    at: dt.datetime,
    actor_user_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int,
    unit_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(at=at, actor_user_id=actor_user_id, action=action,
                       object_type=object_type, object_id=str(object_id), unit_id=unit_id,
                       details=details)
    session.add(entry)
    await session.flush()
    return entry


async def list_entries(
    *,
    session: AsyncSession,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_user_id: int | None = None,
    limit: int = 50,
) -> Sequence[AuditEntry]:
    stmt = select(AuditEntry)
    if object_type is not None:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if actor_user_id is not None:
        stmt = stmt.where(AuditEntry.actor_user_id == actor_user_id)
    stmt = stmt.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return (await session.exec(stmt)).all()


async def latest(*, session: AsyncSession, object_type: str, object_id: str,
                 actions: Sequence[str]) -> AuditEntry | None:
    """The newest entry of one of `actions` on the object."""
    stmt = (select(AuditEntry).where(AuditEntry.object_type == object_type,
                                     AuditEntry.object_id == object_id,
                                     col(AuditEntry.action).in_(list(actions)))
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(1))
    return (await session.exec(stmt)).first()
