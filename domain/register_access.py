"""Who may do what with the register of children in special circumstances, in the style of
domain/case_access.py. Village collaborators (the village's child-protection collaborators
and heads are invited with that role) add, update and remove the children of their own
village only; officers and administrators of the commune see and edit all of it and export
it; an agency member sees only a child a case referral gave their agency; province level and
install-wide administrators get aggregate numbers only.

Plain rules, no Telegram, no SQL: the service gathers a ChildScope and asks here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import NotAllowed
from domain.roles import Actor, Role


class RegisterRight(StrEnum):
    VIEW = "view_child"  # the record: name, birth, caregiver, groups, support, history
    UPDATE = "update_child"  # change fields, support statuses, leave the register
    VIEW_CASES = "view_child_cases"  # the record lists the child's cases


class RegisterAction(StrEnum):
    """Actions on a commune's (or a village's) register as a whole."""

    ADD = "add_child"
    LIST = "list_children"
    EXPORT = "export_register"
    ORDER_REVIEW = "order_review"  # an ad hoc ("đột xuất") review of one village
    FIGURES = "register_figures"  # aggregate numbers, no names


@dataclass(frozen=True)
class ChildScope:
    """What the rules need to know about one record."""

    commune_id: int
    village_id: int | None
    # Agencies a referral of one of the child's cases went to.
    referred_agency_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PlaceScope:
    """A commune, and a village of it (None: the whole commune)."""

    commune_id: int
    village_id: int | None = None
    province_id: int | None = None


_STAFF = frozenset({Role.ADMIN, Role.OFFICER})
_STAFF_RIGHTS = frozenset(RegisterRight)
_VILLAGE_RIGHTS = frozenset({RegisterRight.VIEW, RegisterRight.UPDATE})
_AGENCY_RIGHTS = frozenset({RegisterRight.VIEW})


def _own_commune(actor: Actor, commune_id: int) -> bool:
    return not actor.is_superadmin and actor.unit_id == commune_id


def _own_village(actor: Actor, village_id: int | None) -> bool:
    return (actor.role is Role.COLLABORATOR and village_id is not None
            and actor.unit_id == village_id)


def rights(actor: Actor, child: ChildScope) -> frozenset[RegisterRight]:
    """Everything `actor` may do with this record (empty: not even see that it exists)."""
    if actor.role in _STAFF and _own_commune(actor, child.commune_id):
        return _STAFF_RIGHTS
    if (_own_village(actor, child.village_id) and actor.scope is not None
            and actor.scope.is_within(child.commune_id)):
        return _VILLAGE_RIGHTS
    if (actor.role is Role.AGENCY_MEMBER and _own_commune(actor, child.commune_id)
            and actor.agency_id is not None and actor.agency_id in child.referred_agency_ids):
        return _AGENCY_RIGHTS
    return frozenset()


def can_on_child(actor: Actor, right: RegisterRight, child: ChildScope) -> bool:
    return right in rights(actor, child)


def ensure_on_child(actor: Actor, right: RegisterRight, child: ChildScope) -> None:
    if not can_on_child(actor, right, child):
        raise NotAllowed(right, f"role={actor.role}")


def can(actor: Actor, action: RegisterAction, place: PlaceScope) -> bool:
    """May `actor` do `action` on the register of `place`?"""
    staff = actor.role in _STAFF and _own_commune(actor, place.commune_id)
    if action is RegisterAction.FIGURES:
        province_admin = (actor.role is Role.ADMIN and actor.scope is not None
                          and place.province_id is not None
                          and actor.unit_id == place.province_id)
        return staff or province_admin or actor.is_superadmin
    if action is RegisterAction.EXPORT:
        return staff and place.village_id is None
    if action is RegisterAction.ORDER_REVIEW:
        return staff and place.village_id is not None
    # ADD and LIST: the commune's staff anywhere in it; a collaborator in their village.
    return staff or (_own_village(actor, place.village_id) and actor.scope is not None
                     and actor.scope.is_within(place.commune_id))


def ensure(actor: Actor, action: RegisterAction, place: PlaceScope) -> None:
    if not can(actor, action, place):
        raise NotAllowed(action, f"role={actor.role}")
