"""Queries on members and invites."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.names import sort_key
from domain.roles import Role
from storage.models import Invite, Member
from storage.units import within_units


class MemberBrief(NamedTuple):
    """What deciding who acts needs of an active member row (see conversation.first_look)."""

    id: int
    role: Role
    unit_id: int
    agency_id: int | None


# Built once: every update looks its sender up; a new statement object each time meant
# building the expression and its cache key again before SQLAlchemy found it compiled.
_MEMBER_BY_USER = select(Member).where(Member.telegram_user_id == sa.bindparam("user_id"))
_ACTIVE_MEMBER_BY_USER = _MEMBER_BY_USER.where(col(Member.active).is_(True))


async def get_member_by_user(
    telegram_user_id: int, *, session: AsyncSession, active_only: bool = True
) -> Member | None:
    stmt = _ACTIVE_MEMBER_BY_USER if active_only else _MEMBER_BY_USER
    return (await session.exec(stmt, params={"user_id": telegram_user_id})).first()


async def get_member(member_id: int, *, session: AsyncSession) -> Member | None:
    return await session.get(Member, member_id)


async def count_members(unit_ids: Sequence[int] | None, *, session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(Member).where(
        col(Member.active).is_(True), within_units(Member.unit_id, unit_ids)
    )
    return (await session.exec(stmt)).one()


async def list_members(
    unit_ids: Sequence[int] | None, *, session: AsyncSession, offset: int = 0, limit: int = 10
) -> Sequence[Member]:
    """A page of members by unit, role, then name in Vietnamese order (a commune has tens of
    members, a province hundreds: sorted here, as SQL collations differ by backend)."""
    stmt = (
        select(Member)
        .where(col(Member.active).is_(True), within_units(Member.unit_id, unit_ids))
        .order_by(Member.unit_id, Member.role, Member.id)
    )
    rows = (await session.exec(stmt)).all()
    ordered = sorted(rows, key=lambda m: (m.unit_id, m.role, sort_key(m.display_name), m.id))
    return ordered[offset:offset + limit]


async def list_all_active_members(*, session: AsyncSession) -> Sequence[Member]:
    stmt = select(Member).where(col(Member.active).is_(True)).order_by(Member.id)
    return (await session.exec(stmt)).all()


async def upsert_member(
    *,
    session: AsyncSession,
    telegram_user_id: int,
    display_name: str,
    role: Role,
    unit_id: int,
    agency_id: int | None,
    invited_by: int | None,
    now: dt.datetime,
) -> Member:
    """Create the user's membership, or replace the role/unit of the existing one."""
    member = await get_member_by_user(telegram_user_id, session=session, active_only=False)
    if member is None:
        member = Member(telegram_user_id=telegram_user_id, display_name=display_name,
                        role=role, unit_id=unit_id, joined_at=now)
        session.add(member)
    member.display_name = display_name
    member.role = role
    member.unit_id = unit_id
    member.agency_id = agency_id
    member.invited_by = invited_by
    member.active = True
    member.joined_at = now
    member.revoked_at = None
    member.revoked_by = None
    member.commands_key = None
    await session.flush()
    return member


async def deactivate_member(
    member: Member, *, session: AsyncSession, by_user_id: int, now: dt.datetime
) -> None:
    member.active = False
    member.revoked_at = now
    member.revoked_by = by_user_id
    member.commands_key = None
    await session.flush()


async def create_invite(
    *,
    session: AsyncSession,
    code_hash: str,
    role: Role,
    unit_id: int,
    agency_id: int | None,
    created_by: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> Invite:
    invite = Invite(code_hash=code_hash, role=role, unit_id=unit_id, agency_id=agency_id,
                    created_by=created_by, created_at=now, expires_at=expires_at)
    session.add(invite)
    await session.flush()
    return invite


async def get_invite(invite_id: int, *, session: AsyncSession) -> Invite | None:
    return await session.get(Invite, invite_id)


async def get_invite_by_hash(code_hash: str, *, session: AsyncSession) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()


async def claim_invite(
    invite_id: int, *, session: AsyncSession, user_id: int, now: dt.datetime
) -> bool:
    """Mark the invite used by `user_id`; False if someone else used or revoked it first.

    A conditional UPDATE, so two people pressing the same link at once cannot both join.
    """
    stmt = (
        update(Invite)
        .where(
            Invite.id == invite_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
            Invite.expires_at > now,
        )
        .values(used_at=now, used_by=user_id)
    )
    result = await session.exec(stmt)
    return result.rowcount == 1


async def list_pending_invites(
    unit_ids: Sequence[int] | None, *, session: AsyncSession, now: dt.datetime, limit: int = 20
) -> Sequence[Invite]:
    stmt = select(Invite).where(
        col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None), Invite.expires_at > now
    )
    stmt = stmt.where(within_units(Invite.unit_id, unit_ids))
    return (await session.exec(stmt.order_by(Invite.expires_at).limit(limit))).all()


async def revoke_invite(
    invite: Invite, *, session: AsyncSession, by_user_id: int, now: dt.datetime
) -> None:
    invite.revoked_at = now
    invite.revoked_by = by_user_id
    await session.flush()


async def set_commands_key(member: Member, key: str, *, session: AsyncSession) -> None:
    member.commands_key = key
    await session.flush()
