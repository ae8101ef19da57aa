"""Inviting, joining, listing and revoking members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.errors import InvalidInput, InviteProblem, NotAllowed, NotFound
from domain.invites import check_redeemable, hash_invite_code, new_invite_code
from domain.roles import Action, Actor, Role, UnitKind, check_invite_target, ensure
from storage import audit, members, units
from storage.models import Agency, Invite, Member, Unit


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    invite: Invite
    unit: Unit
    agency: Agency | None


async def create_invite(
    actor: Actor,
    *,
    role: Role,
    unit_id: int,
    agency_id: int | None,
    session: AsyncSession,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> CreatedInvite:
    unit = await units.get_unit(unit_id, session=session)
    if unit is None or not unit.active:
        raise NotFound("unit")
    agency = None
    if agency_id is not None:
        agency = await units.get_agency(agency_id, session=session)
        if agency is None or not agency.active or agency.commune_id != unit.id:
            raise InvalidInput("agency_not_in_commune")
    scope = await units.get_unit_scope(unit.id, session=session)
    check_invite_target(actor, role, scope, unit.kind, agency_id)
    code = new_invite_code()
    invite = await members.create_invite(
        session=session, code_hash=hash_invite_code(code), role=role, unit_id=unit.id,
        agency_id=agency_id, created_by=actor.user_id, now=now, expires_at=now + ttl,
    )
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="invite_created", object_type="invite", object_id=invite.id,
                       unit_id=unit.id, role=str(role), agency_id=agency_id)
    return CreatedInvite(code=code, invite=invite, unit=unit, agency=agency)


async def redeem_invite(
    code: str, *, user_id: int, display_name: str, session: AsyncSession, now: dt.datetime
) -> Member:
    """Join with an invite code. Raises InviteProblem if it cannot be used."""
    invite = (await members.get_invite_by_hash(hash_invite_code(code), session=session)
              if code else None)
    if invite is None:
        raise InviteProblem(InviteProblem.UNKNOWN)
    check_redeemable(now=now, expires_at=invite.expires_at, used_at=invite.used_at,
                     revoked_at=invite.revoked_at)
    if not await members.claim_invite(invite.id, session=session, user_id=user_id, now=now):
        raise InviteProblem(InviteProblem.USED)
    previous = await members.get_member_by_user(user_id, session=session)
    member = await members.upsert_member(
        session=session, telegram_user_id=user_id, display_name=display_name[:128],
        role=invite.role, unit_id=invite.unit_id, agency_id=invite.agency_id,
        invited_by=invite.created_by, now=now,
    )
    await audit.record(session=session, at=now, actor_user_id=user_id, action="member_joined",
                       object_type="member", object_id=member.id, unit_id=invite.unit_id,
                       invite_id=invite.id, role=str(invite.role),
                       previous_role=str(previous.role) if previous else None)
    return member


def _admin_unit_ids(actor: Actor) -> list[int] | None:
    """The units an administrator manages (None: all of them)."""
    if actor.is_superadmin:
        return None
    if actor.scope is None:
        raise NotAllowed(Action.LIST_MEMBERS, "no unit")
    return [actor.scope.unit_id]


@dataclass(frozen=True)
class MemberPage:
    members: Sequence[Member]
    total: int
    page: int
    pages: int


async def list_members(
    actor: Actor, *, session: AsyncSession, page: int, per_page: int
) -> MemberPage:
    ensure(actor, Action.LIST_MEMBERS, actor.scope)
    unit_ids = _admin_unit_ids(actor)
    total = await members.count_members(unit_ids, session=session)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows = await members.list_members(unit_ids, session=session, offset=page * per_page,
                                      limit=per_page)
    return MemberPage(members=rows, total=total, page=page, pages=pages)


async def get_member_for_admin(
    actor: Actor, member_id: int, *, action: Action, session: AsyncSession
) -> Member:
    member = await members.get_member(member_id, session=session)
    if member is None or not member.active:
        raise NotFound("member")
    ensure(actor, action, await units.get_unit_scope(member.unit_id, session=session))
    return member


async def revoke_member(
    actor: Actor, member_id: int, *, session: AsyncSession, now: dt.datetime
) -> Member:
    member = await get_member_for_admin(actor, member_id, action=Action.REVOKE_MEMBER,
                                        session=session)
    if member.telegram_user_id == actor.user_id:
        raise InvalidInput("cannot_revoke_self")
    await members.deactivate_member(member, session=session, by_user_id=actor.user_id, now=now)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="member_revoked", object_type="member", object_id=member.id,
                       unit_id=member.unit_id)
    return member


async def list_pending_invites(
    actor: Actor, *, session: AsyncSession, now: dt.datetime
) -> Sequence[Invite]:
    ensure(actor, Action.LIST_INVITES, actor.scope)
    return await members.list_pending_invites(_admin_unit_ids(actor), session=session, now=now)


async def revoke_invite(
    actor: Actor, invite_id: int, *, session: AsyncSession, now: dt.datetime
) -> Invite:
    invite = await members.get_invite(invite_id, session=session)
    if invite is None or invite.used_at is not None or invite.revoked_at is not None:
        raise NotFound("invite")
    ensure(actor, Action.REVOKE_INVITE, await units.get_unit_scope(invite.unit_id, session=session))
    await members.revoke_invite(invite, session=session, by_user_id=actor.user_id, now=now)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="invite_revoked", object_type="invite", object_id=invite.id,
                       unit_id=invite.unit_id)
    return invite


async def invitable_communes(actor: Actor, *, session: AsyncSession) -> Sequence[Unit]:
    """Communes the administrator may invite people into."""
    if actor.is_superadmin:
        return await units.list_communes(session=session)
    if actor.scope is None or actor.role is not Role.ADMIN:
        return []
    return await units.list_communes(session=session, within=actor.scope.unit_id)


async def record_denied(
    actor_user_id: int, action: str, *, session: AsyncSession, now: dt.datetime,
    object_type: str = "", object_id: str = "",
) -> None:
    await audit.record(session=session, at=now, actor_user_id=actor_user_id,
                       action="denied", object_type=object_type or "action",
                       object_id=object_id or action, attempted=action)



@dataclass(frozen=True)
class InviteTargets:
    """What an administrator can invite people into, for one commune."""

    commune: Unit
    villages: Sequence[Unit]
    agencies: Sequence[Agency]


async def invite_targets(actor: Actor, commune_id: int, *, session: AsyncSession) -> InviteTargets:
    commune = await units.get_unit(commune_id, session=session)
    if commune is None or not commune.active or commune.kind is not UnitKind.COMMUNE:
        raise NotFound("commune")
    ensure(actor, Action.CREATE_INVITE, await units.get_unit_scope(commune.id, session=session))
    return InviteTargets(
        commune=commune,
        villages=await units.list_children(commune.id, session=session, kind=UnitKind.VILLAGE),
        agencies=await units.list_agencies(commune.id, session=session),
    )


@dataclass(frozen=True)
class MemberRow:
    member: Member
    unit_name: str
    agency_name: str | None


async def describe_members(
    rows: Sequence[Member], *, session: AsyncSession
) -> list[MemberRow]:
    described = []
    for member in rows:
        unit = await units.get_unit(member.unit_id, session=session)
        agency = (await units.get_agency(member.agency_id, session=session)
                  if member.agency_id else None)
        described.append(MemberRow(member, unit.name if unit else "?",
                                   agency.name if agency else None))
    return described


async def describe_invite(invite: Invite, *, session: AsyncSession) -> tuple[str, str | None]:
    unit = await units.get_unit(invite.unit_id, session=session)
    agency = await units.get_agency(invite.agency_id, session=session) if invite.agency_id else None
    return (unit.name if unit else "?", agency.name if agency else None)
