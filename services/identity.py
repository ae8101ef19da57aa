"""Who is acting: a Telegram user id becomes an Actor the rules understand."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.roles import Actor, Role, citizen
from storage.members import MemberBrief, get_member_by_user
from storage.units import get_unit_scope

NOT_LOOKED = object()  # the caller has not read the membership: resolve_actor reads it


async def resolve_actor(
    user_id: int, *, session: AsyncSession, superadmin_ids: Collection[int],
    member: MemberBrief | object | None = NOT_LOOKED,
) -> Actor:
    """`member`: the user's active membership (None: none) when the caller has just read it;
    by default it is read here."""
    if member is NOT_LOOKED:
        member = await get_member_by_user(user_id, session=session)
    if user_id in superadmin_ids:
        scope = await get_unit_scope(member.unit_id, session=session) if member else None
        return Actor(user_id=user_id, role=Role.ADMIN, scope=scope, is_superadmin=True,
                     member_id=member.id if member else None)
    if member is None:
        return citizen(user_id)
    return Actor(
        user_id=user_id,
        role=member.role,
        scope=await get_unit_scope(member.unit_id, session=session),
        agency_id=member.agency_id,
        member_id=member.id,
    )
