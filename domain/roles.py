"""Who is who: roles, the units they belong to, and what each may do.

Every permission decision of the bot goes through `can()` / `ensure()` here,
so the matrix can be read in one place and is unit-tested as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidInput, NotAllowed


class Role(StrEnum):
    ADMIN = "admin"  # administrator of a commune or province (or the whole install)
    OFFICER = "officer"  # case worker of a commune (cán bộ Văn hóa - Xã hội, ...)
    AGENCY_MEMBER = "agency"  # police, health station, school, ... of a commune
    COLLABORATOR = "collaborator"  # village collaborator (cộng tác viên thôn)
    # Lãnh đạo UBND xã: the Chủ tịch, or a Phó Chủ tịch by delegation; approves support
    # plans (Decree 56/2017, Điều 28) and closings (Điều 30), reads the commune's cases.
    LEADER = "leader"
    CITIZEN = "citizen"  # everyone else


class UnitKind(StrEnum):
    PROVINCE = "province"
    COMMUNE = "commune"
    VILLAGE = "village"


class AgencyKind(StrEnum):
    CULTURE_SOCIAL = "culture_social"  # Phòng Văn hóa - Xã hội
    POLICE = "police"  # Công an xã
    HEALTH = "health"  # Trạm Y tế
    SCHOOL = "school"
    FRONT = "front"  # Mặt trận Tổ quốc
    UNION = "union"  # Đoàn Thanh niên, Hội Phụ nữ, ...
    VILLAGE = "village"  # thôn/xóm
    OTHER = "other"


class Action(StrEnum):
    VIEW_HOTLINES = "view_hotlines"
    VIEW_OWN_PROFILE = "view_own_profile"
    CREATE_INVITE = "create_invite"
    LIST_INVITES = "list_invites"
    REVOKE_INVITE = "revoke_invite"
    LIST_MEMBERS = "list_members"
    REVOKE_MEMBER = "revoke_member"
    VIEW_AUDIT = "view_audit"
    REPORT_RISK = "report_risk"
    TAKE_CASE = "take_case"
    VIEW_CASE = "view_case"
    VIEW_DEADLINES = "view_deadlines"
    EDIT_CALENDAR = "edit_calendar"
    SUBSCRIBE_GROUP = "subscribe_group"
    SUBSCRIBE_SELF = "subscribe_self"
    BROADCAST = "broadcast"
    VIEW_STATS = "view_stats"
    UPDATE_CASE = "update_case"


# The role part of the matrix. Scope (which unit) is checked separately in can().
_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW_HOTLINES: frozenset(Role),
    Action.VIEW_OWN_PROFILE: frozenset(
        {Role.ADMIN, Role.OFFICER, Role.AGENCY_MEMBER, Role.COLLABORATOR, Role.LEADER}
    ),
    Action.CREATE_INVITE: frozenset({Role.ADMIN}),
    Action.LIST_INVITES: frozenset({Role.ADMIN}),
    Action.REVOKE_INVITE: frozenset({Role.ADMIN}),
    Action.LIST_MEMBERS: frozenset({Role.ADMIN}),
    Action.REVOKE_MEMBER: frozenset({Role.ADMIN}),
    Action.VIEW_AUDIT: frozenset({Role.ADMIN}),
    Action.REPORT_RISK: frozenset(Role),
    Action.TAKE_CASE: frozenset({Role.ADMIN, Role.OFFICER}),
    # Agency members see referred cases only: the cases issue adds that rule.
    Action.VIEW_CASE: frozenset({Role.ADMIN, Role.OFFICER, Role.LEADER}),
    Action.VIEW_DEADLINES: frozenset({Role.ADMIN, Role.OFFICER, Role.AGENCY_MEMBER,
                                      Role.COLLABORATOR, Role.LEADER}),
    Action.EDIT_CALENDAR: frozenset({Role.ADMIN}),
    # Adding the bot to an agency's group and choosing the agency: officers and admins.
    Action.SUBSCRIBE_GROUP: frozenset({Role.ADMIN, Role.OFFICER}),
    Action.SUBSCRIBE_SELF: frozenset({Role.ADMIN, Role.OFFICER, Role.AGENCY_MEMBER,
                                      Role.COLLABORATOR, Role.LEADER}),
    Action.BROADCAST: frozenset({Role.ADMIN}),
    Action.VIEW_STATS: frozenset({Role.ADMIN, Role.OFFICER, Role.LEADER}),
    Action.UPDATE_CASE: frozenset({Role.ADMIN, Role.OFFICER}),
}

# Actions that act on a unit: the actor's unit must be that unit or one of its ancestors.
_UNIT_SCOPED = frozenset(
    {
        Action.CREATE_INVITE,
        Action.LIST_INVITES,
        Action.REVOKE_INVITE,
        Action.LIST_MEMBERS,
        Action.REVOKE_MEMBER,
        Action.VIEW_AUDIT,
        Action.TAKE_CASE,
        Action.VIEW_CASE,
        Action.EDIT_CALENDAR,
        Action.SUBSCRIBE_GROUP,
        Action.SUBSCRIBE_SELF,
        Action.BROADCAST,
        Action.VIEW_STATS,
        Action.UPDATE_CASE,
    }
)

# The unit kind each invited role belongs to.
ROLE_UNIT_KINDS: dict[Role, frozenset[UnitKind]] = {
    Role.ADMIN: frozenset({UnitKind.PROVINCE, UnitKind.COMMUNE}),
    Role.OFFICER: frozenset({UnitKind.COMMUNE}),
    Role.AGENCY_MEMBER: frozenset({UnitKind.COMMUNE}),
    Role.COLLABORATOR: frozenset({UnitKind.VILLAGE}),
    Role.LEADER: frozenset({UnitKind.COMMUNE}),
}
INVITABLE_ROLES: tuple[Role, ...] = (
    Role.OFFICER,
    Role.AGENCY_MEMBER,
    Role.COLLABORATOR,
    Role.LEADER,
    Role.ADMIN,
)


@dataclass(frozen=True)
class UnitScope:
    """A unit and its ancestors, root first, ending with the unit itself."""

    path: tuple[int, ...]

    @property
    def unit_id(self) -> int:
        return self.path[-1]

    def is_within(self, unit_id: int) -> bool:
        return unit_id in self.path


@dataclass(frozen=True)
class Actor:
    """The person acting, as the rules see them. `scope` is None for citizens
    and for install-wide administrators (`is_superadmin`)."""

    user_id: int
    role: Role = Role.CITIZEN
    scope: UnitScope | None = None
    agency_id: int | None = None
    member_id: int | None = None
    is_superadmin: bool = False

    @property
    def is_member(self) -> bool:
        return self.role is not Role.CITIZEN

    @property
    def unit_id(self) -> int | None:
        return self.scope.unit_id if self.scope else None


def citizen(user_id: int) -> Actor:
    return Actor(user_id=user_id)


def can(actor: Actor, action: Action, target: UnitScope | None = None) -> bool:
    """May `actor` do `action` (on `target`, for unit-scoped actions)?"""
    if actor.role not in _ALLOWED[action]:
        return False
    if action not in _UNIT_SCOPED or actor.is_superadmin:
        return True
    if actor.scope is None or target is None:
        return False
    return target.is_within(actor.scope.unit_id)


def ensure(actor: Actor, action: Action, target: UnitScope | None = None) -> None:
    """Raise NotAllowed unless `can(actor, action, target)`."""
    if not can(actor, action, target):
        raise NotAllowed(action, f"role={actor.role}")


def check_invite_target(
    actor: Actor,
    role: Role,
    target: UnitScope,
    target_kind: UnitKind,
    agency_id: int | None,
) -> None:
    """Checks for creating an invite (NotAllowed or InvalidInput).

    The role must be invitable, the unit of the right kind for that role, the
    actor an admin over that unit, and an agency member needs an agency.
    """
    ensure(actor, Action.CREATE_INVITE, target)
    if role not in INVITABLE_ROLES:
        raise InvalidInput("role_not_invitable")
    if target_kind not in ROLE_UNIT_KINDS[role]:
        raise InvalidInput("unit_kind_mismatch")
    if (role is Role.AGENCY_MEMBER) != (agency_id is not None):
        raise InvalidInput("agency_required" if agency_id is None else "agency_not_allowed")
