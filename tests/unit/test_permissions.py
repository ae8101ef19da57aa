"""The permission matrix of domain/roles.py, written out as data.

The world: one province (id 1) with two communes, A (id 10) and B (id 20); each commune
has one village (11 in A, 21 in B). Every actor is tried on every action against every
unit. The expected answers below are written by hand, not derived from the code.
"""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput, NotAllowed
from domain.roles import (
    Action,
    Actor,
    Role,
    UnitKind,
    UnitScope,
    can,
    check_invite_target,
    citizen,
    ensure,
)

PROVINCE = 1
COMMUNE_A, VILLAGE_A = 10, 11
COMMUNE_B, VILLAGE_B = 20, 21
AGENCY_A = 100  # e.g. the police of commune A

# --- units ---------------------------------------------------------------------------------

TARGETS: dict[str, UnitScope] = {
    "province": UnitScope((PROVINCE,)),
    "commune_a": UnitScope((PROVINCE, COMMUNE_A)),
    "village_a": UnitScope((PROVINCE, COMMUNE_A, VILLAGE_A)),
    "commune_b": UnitScope((PROVINCE, COMMUNE_B)),
    "village_b": UnitScope((PROVINCE, COMMUNE_B, VILLAGE_B)),
}
TARGET_ORDER = ("province", "commune_a", "village_a", "commune_b", "village_b")
KIND = {
    "province": UnitKind.PROVINCE,
    "commune_a": UnitKind.COMMUNE,
    "village_a": UnitKind.VILLAGE,
    "commune_b": UnitKind.COMMUNE,
    "village_b": UnitKind.VILLAGE,
}

# --- actors --------------------------------------------------------------------------------

ACTORS: dict[str, Actor] = {
    "superadmin": Actor(user_id=1, role=Role.ADMIN, scope=None, is_superadmin=True),
    "province_admin": Actor(user_id=2, role=Role.ADMIN, scope=TARGETS["province"]),
    "commune_a_admin": Actor(user_id=3, role=Role.ADMIN, scope=TARGETS["commune_a"]),
    "commune_b_admin": Actor(user_id=4, role=Role.ADMIN, scope=TARGETS["commune_b"]),
    "commune_a_officer": Actor(user_id=5, role=Role.OFFICER, scope=TARGETS["commune_a"]),
    "commune_a_agency_member": Actor(
        user_id=6, role=Role.AGENCY_MEMBER, scope=TARGETS["commune_a"], agency_id=AGENCY_A
    ),
    "village_a_collaborator": Actor(
        user_id=7, role=Role.COLLABORATOR, scope=TARGETS["village_a"]
    ),
    "commune_a_leader": Actor(user_id=9, role=Role.LEADER, scope=TARGETS["commune_a"]),
    "citizen": citizen(8),
}

# --- the expected matrix -------------------------------------------------------------------
# Columns:             province commune_a village_a commune_b village_b
Y, N = True, False
MATRIX: dict[str, dict[Action, tuple[bool, bool, bool, bool, bool]]] = {
    "superadmin": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (Y, Y, Y, Y, Y),
        Action.LIST_INVITES:       (Y, Y, Y, Y, Y),
        Action.REVOKE_INVITE:      (Y, Y, Y, Y, Y),
        Action.LIST_MEMBERS:       (Y, Y, Y, Y, Y),
        Action.REVOKE_MEMBER:      (Y, Y, Y, Y, Y),
        Action.VIEW_AUDIT:         (Y, Y, Y, Y, Y),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (Y, Y, Y, Y, Y),
        Action.VIEW_CASE:          (Y, Y, Y, Y, Y),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (Y, Y, Y, Y, Y),
        Action.SUBSCRIBE_GROUP:    (Y, Y, Y, Y, Y),
        Action.SUBSCRIBE_SELF:     (Y, Y, Y, Y, Y),
        Action.BROADCAST:          (Y, Y, Y, Y, Y),
        Action.VIEW_STATS:         (Y, Y, Y, Y, Y),
        Action.UPDATE_CASE:        (Y, Y, Y, Y, Y),
    },
    "province_admin": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (Y, Y, Y, Y, Y),
        Action.LIST_INVITES:       (Y, Y, Y, Y, Y),
        Action.REVOKE_INVITE:      (Y, Y, Y, Y, Y),
        Action.LIST_MEMBERS:       (Y, Y, Y, Y, Y),
        Action.REVOKE_MEMBER:      (Y, Y, Y, Y, Y),
        Action.VIEW_AUDIT:         (Y, Y, Y, Y, Y),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (Y, Y, Y, Y, Y),
        Action.VIEW_CASE:          (Y, Y, Y, Y, Y),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (Y, Y, Y, Y, Y),
        Action.SUBSCRIBE_GROUP:    (Y, Y, Y, Y, Y),
        Action.SUBSCRIBE_SELF:     (Y, Y, Y, Y, Y),
        Action.BROADCAST:          (Y, Y, Y, Y, Y),
        Action.VIEW_STATS:         (Y, Y, Y, Y, Y),
        Action.UPDATE_CASE:        (Y, Y, Y, Y, Y),
    },
    "commune_a_admin": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, Y, Y, N, N),
        Action.LIST_INVITES:       (N, Y, Y, N, N),
        Action.REVOKE_INVITE:      (N, Y, Y, N, N),
        Action.LIST_MEMBERS:       (N, Y, Y, N, N),
        Action.REVOKE_MEMBER:      (N, Y, Y, N, N),
        Action.VIEW_AUDIT:         (N, Y, Y, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, Y, Y, N, N),
        Action.VIEW_CASE:          (N, Y, Y, N, N),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, Y, Y, N, N),
        Action.SUBSCRIBE_GROUP:    (N, Y, Y, N, N),
        Action.SUBSCRIBE_SELF:     (N, Y, Y, N, N),
        Action.BROADCAST:          (N, Y, Y, N, N),
        Action.VIEW_STATS:         (N, Y, Y, N, N),
        Action.UPDATE_CASE:        (N, Y, Y, N, N),
    },
    "commune_b_admin": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, N, N, Y, Y),
        Action.LIST_INVITES:       (N, N, N, Y, Y),
        Action.REVOKE_INVITE:      (N, N, N, Y, Y),
        Action.LIST_MEMBERS:       (N, N, N, Y, Y),
        Action.REVOKE_MEMBER:      (N, N, N, Y, Y),
        Action.VIEW_AUDIT:         (N, N, N, Y, Y),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, N, N, Y, Y),
        Action.VIEW_CASE:          (N, N, N, Y, Y),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, N, N, Y, Y),
        Action.SUBSCRIBE_GROUP:    (N, N, N, Y, Y),
        Action.SUBSCRIBE_SELF:     (N, N, N, Y, Y),
        Action.BROADCAST:          (N, N, N, Y, Y),
        Action.VIEW_STATS:         (N, N, N, Y, Y),
        Action.UPDATE_CASE:        (N, N, N, Y, Y),
    },
    "commune_a_officer": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, N, N, N, N),
        Action.LIST_INVITES:       (N, N, N, N, N),
        Action.REVOKE_INVITE:      (N, N, N, N, N),
        Action.LIST_MEMBERS:       (N, N, N, N, N),
        Action.REVOKE_MEMBER:      (N, N, N, N, N),
        Action.VIEW_AUDIT:         (N, N, N, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, Y, Y, N, N),
        Action.VIEW_CASE:          (N, Y, Y, N, N),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, N, N, N, N),
        Action.SUBSCRIBE_GROUP:    (N, Y, Y, N, N),
        Action.SUBSCRIBE_SELF:     (N, Y, Y, N, N),
        Action.BROADCAST:          (N, N, N, N, N),
        Action.VIEW_STATS:         (N, Y, Y, N, N),
        Action.UPDATE_CASE:        (N, Y, Y, N, N),
    },
    "commune_a_agency_member": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, N, N, N, N),
        Action.LIST_INVITES:       (N, N, N, N, N),
        Action.REVOKE_INVITE:      (N, N, N, N, N),
        Action.LIST_MEMBERS:       (N, N, N, N, N),
        Action.REVOKE_MEMBER:      (N, N, N, N, N),
        Action.VIEW_AUDIT:         (N, N, N, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, N, N, N, N),
        Action.VIEW_CASE:          (N, N, N, N, N),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, N, N, N, N),
        Action.SUBSCRIBE_GROUP:    (N, N, N, N, N),
        Action.SUBSCRIBE_SELF:     (N, Y, Y, N, N),
        Action.BROADCAST:          (N, N, N, N, N),
        Action.VIEW_STATS:         (N, N, N, N, N),
        Action.UPDATE_CASE:        (N, N, N, N, N),
    },
    "village_a_collaborator": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, N, N, N, N),
        Action.LIST_INVITES:       (N, N, N, N, N),
        Action.REVOKE_INVITE:      (N, N, N, N, N),
        Action.LIST_MEMBERS:       (N, N, N, N, N),
        Action.REVOKE_MEMBER:      (N, N, N, N, N),
        Action.VIEW_AUDIT:         (N, N, N, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, N, N, N, N),
        Action.VIEW_CASE:          (N, N, N, N, N),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, N, N, N, N),
        Action.SUBSCRIBE_GROUP:    (N, N, N, N, N),
        Action.SUBSCRIBE_SELF:     (N, N, Y, N, N),
        Action.BROADCAST:          (N, N, N, N, N),
        Action.VIEW_STATS:         (N, N, N, N, N),
        Action.UPDATE_CASE:        (N, N, N, N, N),
    },
    # Lãnh đạo UBND xã: reads the commune's cases and figures, approves plans and closings
    # (per case, domain/case_access.py), takes and changes nothing.
    "commune_a_leader": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (Y, Y, Y, Y, Y),
        Action.CREATE_INVITE:      (N, N, N, N, N),
        Action.LIST_INVITES:       (N, N, N, N, N),
        Action.REVOKE_INVITE:      (N, N, N, N, N),
        Action.LIST_MEMBERS:       (N, N, N, N, N),
        Action.REVOKE_MEMBER:      (N, N, N, N, N),
        Action.VIEW_AUDIT:         (N, N, N, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, N, N, N, N),
        Action.VIEW_CASE:          (N, Y, Y, N, N),
        Action.VIEW_DEADLINES:     (Y, Y, Y, Y, Y),
        Action.EDIT_CALENDAR:      (N, N, N, N, N),
        Action.SUBSCRIBE_GROUP:    (N, N, N, N, N),
        Action.SUBSCRIBE_SELF:     (N, Y, Y, N, N),
        Action.BROADCAST:          (N, N, N, N, N),
        Action.VIEW_STATS:         (N, Y, Y, N, N),
        Action.UPDATE_CASE:        (N, N, N, N, N),
    },
    "citizen": {
        Action.VIEW_HOTLINES:      (Y, Y, Y, Y, Y),
        Action.VIEW_OWN_PROFILE:   (N, N, N, N, N),
        Action.CREATE_INVITE:      (N, N, N, N, N),
        Action.LIST_INVITES:       (N, N, N, N, N),
        Action.REVOKE_INVITE:      (N, N, N, N, N),
        Action.LIST_MEMBERS:       (N, N, N, N, N),
        Action.REVOKE_MEMBER:      (N, N, N, N, N),
        Action.VIEW_AUDIT:         (N, N, N, N, N),
        Action.REPORT_RISK:        (Y, Y, Y, Y, Y),
        Action.TAKE_CASE:          (N, N, N, N, N),
        Action.VIEW_CASE:          (N, N, N, N, N),
        Action.VIEW_DEADLINES:     (N, N, N, N, N),
        Action.EDIT_CALENDAR:      (N, N, N, N, N),
        Action.SUBSCRIBE_GROUP:    (N, N, N, N, N),
        Action.SUBSCRIBE_SELF:     (N, N, N, N, N),
        Action.BROADCAST:          (N, N, N, N, N),
        Action.VIEW_STATS:         (N, N, N, N, N),
        Action.UPDATE_CASE:        (N, N, N, N, N),
    },
}  # fmt: skip

CASES = [
    pytest.param(actor, action, target, allowed, id=f"{actor}-{action}-{target}")
    for actor, rows in MATRIX.items()
    for action, row in rows.items()
    for target, allowed in zip(TARGET_ORDER, row, strict=True)
]


def test_matrix_covers_every_role_and_action() -> None:
    assert {a.role for a in ACTORS.values()} == set(Role)
    assert set(MATRIX) == set(ACTORS)
    for rows in MATRIX.values():
        assert set(rows) == set(Action)


@pytest.mark.parametrize(("actor", "action", "target", "allowed"), CASES)
def test_can(actor: str, action: Action, target: str, allowed: bool) -> None:
    assert can(ACTORS[actor], action, TARGETS[target]) is allowed


@pytest.mark.parametrize(("actor", "action", "target", "allowed"), CASES)
def test_ensure_raises_exactly_when_not_allowed(
    actor: str, action: Action, target: str, allowed: bool
) -> None:
    if allowed:
        ensure(ACTORS[actor], action, TARGETS[target])
    else:
        with pytest.raises(NotAllowed) as info:
            ensure(ACTORS[actor], action, TARGETS[target])
        assert info.value.action == action


# --- actions without a target --------------------------------------------------------------


@pytest.mark.parametrize("actor", list(ACTORS))
def test_everyone_may_view_hotlines_without_a_target(actor: str) -> None:
    assert can(ACTORS[actor], Action.VIEW_HOTLINES) is True


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("superadmin", True),
        ("province_admin", True),
        ("commune_a_admin", True),
        ("commune_a_officer", True),
        ("commune_a_agency_member", True),
        ("village_a_collaborator", True),
        ("citizen", False),
    ],
)
def test_view_own_profile_is_for_members_only(actor: str, allowed: bool) -> None:
    assert can(ACTORS[actor], Action.VIEW_OWN_PROFILE) is allowed


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("superadmin", True),  # install-wide: no target needed
        ("province_admin", False),
        ("commune_a_admin", False),
        ("commune_a_officer", False),
        ("citizen", False),
    ],
)
def test_unit_scoped_action_without_target(actor: str, allowed: bool) -> None:
    assert can(ACTORS[actor], Action.LIST_MEMBERS, None) is allowed


def test_admin_without_scope_and_not_superadmin_may_not_act_on_units() -> None:
    orphan = Actor(user_id=9, role=Role.ADMIN, scope=None)
    for target in TARGETS.values():
        assert can(orphan, Action.CREATE_INVITE, target) is False


def test_actor_properties() -> None:
    assert ACTORS["citizen"].is_member is False
    assert ACTORS["citizen"].unit_id is None
    assert ACTORS["commune_a_officer"].is_member is True
    assert ACTORS["commune_a_officer"].unit_id == COMMUNE_A
    assert ACTORS["village_a_collaborator"].unit_id == VILLAGE_A


# --- check_invite_target -------------------------------------------------------------------
# expected: "ok", "NotAllowed", or the InvalidInput code.

INVITE_CASES = [
    # A commune admin inviting into their own commune and its village.
    ("commune_a_admin", Role.OFFICER, "commune_a", None, "ok"),
    ("commune_a_admin", Role.AGENCY_MEMBER, "commune_a", AGENCY_A, "ok"),
    ("commune_a_admin", Role.COLLABORATOR, "village_a", None, "ok"),
    ("commune_a_admin", Role.ADMIN, "commune_a", None, "ok"),
    # ... but not into the other commune, its village, or the province.
    ("commune_a_admin", Role.OFFICER, "commune_b", None, "NotAllowed"),
    ("commune_a_admin", Role.COLLABORATOR, "village_b", None, "NotAllowed"),
    ("commune_a_admin", Role.ADMIN, "province", None, "NotAllowed"),
    # Scope is checked before anything else.
    ("commune_a_admin", Role.CITIZEN, "commune_b", None, "NotAllowed"),
    # A province admin may invite into both communes and make province admins.
    ("province_admin", Role.OFFICER, "commune_a", None, "ok"),
    ("province_admin", Role.OFFICER, "commune_b", None, "ok"),
    ("province_admin", Role.COLLABORATOR, "village_b", None, "ok"),
    ("province_admin", Role.ADMIN, "province", None, "ok"),
    ("superadmin", Role.ADMIN, "province", None, "ok"),
    ("superadmin", Role.AGENCY_MEMBER, "commune_b", AGENCY_A + 1, "ok"),
    # Non-admins may never invite, even inside their own unit.
    ("commune_a_officer", Role.OFFICER, "commune_a", None, "NotAllowed"),
    ("commune_a_agency_member", Role.AGENCY_MEMBER, "commune_a", AGENCY_A, "NotAllowed"),
    ("village_a_collaborator", Role.COLLABORATOR, "village_a", None, "NotAllowed"),
    ("citizen", Role.COLLABORATOR, "village_a", None, "NotAllowed"),
    # Citizens are not invited: everyone is one already.
    ("superadmin", Role.CITIZEN, "commune_a", None, "role_not_invitable"),
    ("province_admin", Role.CITIZEN, "village_a", None, "role_not_invitable"),
    # Role and unit kind must fit.
    ("superadmin", Role.OFFICER, "province", None, "unit_kind_mismatch"),
    ("superadmin", Role.OFFICER, "village_a", None, "unit_kind_mismatch"),
    ("superadmin", Role.AGENCY_MEMBER, "village_a", AGENCY_A, "unit_kind_mismatch"),
    ("superadmin", Role.AGENCY_MEMBER, "province", AGENCY_A, "unit_kind_mismatch"),
    ("superadmin", Role.COLLABORATOR, "commune_a", None, "unit_kind_mismatch"),
    ("superadmin", Role.COLLABORATOR, "province", None, "unit_kind_mismatch"),
    ("superadmin", Role.ADMIN, "village_a", None, "unit_kind_mismatch"),
    ("commune_a_admin", Role.COLLABORATOR, "commune_a", None, "unit_kind_mismatch"),
    # An agency member needs an agency; nobody else may have one.
    ("commune_a_admin", Role.AGENCY_MEMBER, "commune_a", None, "agency_required"),
    ("commune_a_admin", Role.OFFICER, "commune_a", AGENCY_A, "agency_not_allowed"),
    ("commune_a_admin", Role.ADMIN, "commune_a", AGENCY_A, "agency_not_allowed"),
    ("commune_a_admin", Role.COLLABORATOR, "village_a", AGENCY_A, "agency_not_allowed"),
]


@pytest.mark.parametrize(
    ("actor", "role", "target", "agency_id", "expected"),
    [pytest.param(*case, id="-".join(str(c) for c in case)) for case in INVITE_CASES],
)
def test_check_invite_target(
    actor: str, role: Role, target: str, agency_id: int | None, expected: str
) -> None:
    def check() -> None:
        check_invite_target(ACTORS[actor], role, TARGETS[target], KIND[target], agency_id)

    if expected == "ok":
        check()
    elif expected == "NotAllowed":
        with pytest.raises(NotAllowed):
            check()
    else:
        with pytest.raises(InvalidInput) as info:
            check()
        assert info.value.code == expected
