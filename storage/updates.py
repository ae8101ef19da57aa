"""Webhook de-duplication shared by every instance: an update id is accepted once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProcessedUpdate


async def claim_update(update_id: int, *, session: AsyncSession, now: dt.datetime) -> bool:
    """True the first time `update_id` is seen, False for a repeat (Telegram retries)."""
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id, received_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def prune_updates(*, session: AsyncSession, before: dt.datetime) -> int:
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.received_at) < before)
    )
    return result.rowcount or 0
