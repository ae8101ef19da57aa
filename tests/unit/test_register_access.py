"""Who may do what with the register, across two communes of one province, written out by
hand as a table (the style of test_case_access.py).

Commune A (10, villages 11 and 12) and commune B (20, village 21) under province 1. Child
"a11" lives in village 11 of A, and one of their cases was referred to A's police (100);
"a12" lives in village 12 of A with no referral; "b21" lives in village 21 of B."""

from __future__ import annotations

import pytest

from domain.errors import NotAllowed
from domain.register_access import (
    ChildScope,
    PlaceScope,
    RegisterAction,
    RegisterRight,
    can,
    ensure,
    ensure_on_child,
    rights,
)
from domain.roles import Actor, Role, UnitScope, citizen

PROVINCE, COMMUNE_A, VILLAGE_A1, VILLAGE_A2, COMMUNE_B, VILLAGE_B = 1, 10, 11, 12, 20, 21
POLICE_A, HEALTH_A = 100, 101
SCOPE_A, SCOPE_B = UnitScope((PROVINCE, COMMUNE_A)), UnitScope((PROVINCE, COMMUNE_B))

ACTORS = {
    "superadmin": Actor(user_id=1, role=Role.ADMIN, is_superadmin=True),
    "province_admin": Actor(user_id=2, role=Role.ADMIN, scope=UnitScope((PROVINCE,))),
    "admin_a": Actor(user_id=3, role=Role.ADMIN, scope=SCOPE_A),
    "officer_a": Actor(user_id=5, role=Role.OFFICER, scope=SCOPE_A),
    "officer_b": Actor(user_id=7, role=Role.OFFICER, scope=SCOPE_B),
    "police_a": Actor(user_id=8, role=Role.AGENCY_MEMBER, scope=SCOPE_A, agency_id=POLICE_A),
    "health_a": Actor(user_id=9, role=Role.AGENCY_MEMBER, scope=SCOPE_A, agency_id=HEALTH_A),
    "collab_a1": Actor(user_id=11, role=Role.COLLABORATOR,
                       scope=UnitScope((PROVINCE, COMMUNE_A, VILLAGE_A1))),
    "collab_a2": Actor(user_id=12, role=Role.COLLABORATOR,
                       scope=UnitScope((PROVINCE, COMMUNE_A, VILLAGE_A2))),
    "collab_b": Actor(user_id=13, role=Role.COLLABORATOR,
                      scope=UnitScope((PROVINCE, COMMUNE_B, VILLAGE_B))),
    "citizen": citizen(99),
}

CHILDREN = {
    "a11": ChildScope(COMMUNE_A, VILLAGE_A1, frozenset({POLICE_A})),
    "a12": ChildScope(COMMUNE_A, VILLAGE_A2),
    "b21": ChildScope(COMMUNE_B, VILLAGE_B),
}

V, U, C = RegisterRight.VIEW, RegisterRight.UPDATE, RegisterRight.VIEW_CASES
ALL = {V, U, C}

# (actor, child) → rights. Every pair not listed: nothing at all.
EXPECTED: dict[tuple[str, str], set[RegisterRight]] = {
    ("admin_a", "a11"): ALL, ("admin_a", "a12"): ALL,
    ("officer_a", "a11"): ALL, ("officer_a", "a12"): ALL,
    ("officer_b", "b21"): ALL,
    ("police_a", "a11"): {V},  # the referral gave the police this child, read only
    ("collab_a1", "a11"): {V, U},
    ("collab_a2", "a12"): {V, U},
    ("collab_b", "b21"): {V, U},
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("child", CHILDREN)
def test_rights_on_one_record(actor, child):
    assert rights(ACTORS[actor], CHILDREN[child]) == frozenset(EXPECTED.get((actor, child), set()))


A, L, E, F, R = (RegisterAction.ADD, RegisterAction.LIST, RegisterAction.EXPORT,
                 RegisterAction.FIGURES, RegisterAction.ORDER_REVIEW)
PLACES = {
    "commune_a": PlaceScope(COMMUNE_A, None, PROVINCE),
    "village_a1": PlaceScope(COMMUNE_A, VILLAGE_A1, PROVINCE),
    "village_a2": PlaceScope(COMMUNE_A, VILLAGE_A2, PROVINCE),
    "commune_b": PlaceScope(COMMUNE_B, None, PROVINCE),
}
# (actor, place) → actions on that register. Not listed: none.
EXPECTED_ACTIONS: dict[tuple[str, str], set[RegisterAction]] = {
    ("superadmin", "commune_a"): {F}, ("superadmin", "village_a1"): {F},
    ("superadmin", "village_a2"): {F}, ("superadmin", "commune_b"): {F},
    ("province_admin", "commune_a"): {F}, ("province_admin", "village_a1"): {F},
    ("province_admin", "village_a2"): {F}, ("province_admin", "commune_b"): {F},
    ("admin_a", "commune_a"): {A, L, E, F}, ("admin_a", "village_a1"): {A, L, F, R},
    ("admin_a", "village_a2"): {A, L, F, R},
    ("officer_a", "commune_a"): {A, L, E, F}, ("officer_a", "village_a1"): {A, L, F, R},
    ("officer_a", "village_a2"): {A, L, F, R},
    ("officer_b", "commune_b"): {A, L, E, F},
    ("collab_a1", "village_a1"): {A, L},
    ("collab_a2", "village_a2"): {A, L},
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("place", PLACES)
def test_actions_on_a_register(actor, place):
    allowed = {a for a in RegisterAction if can(ACTORS[actor], a, PLACES[place])}
    assert allowed == EXPECTED_ACTIONS.get((actor, place), set())


def test_ensure_raises_not_allowed():
    with pytest.raises(NotAllowed):
        ensure_on_child(ACTORS["collab_a2"], RegisterRight.VIEW, CHILDREN["a11"])
    with pytest.raises(NotAllowed):
        ensure(ACTORS["police_a"], RegisterAction.EXPORT, PLACES["commune_a"])
    ensure(ACTORS["collab_a1"], RegisterAction.ADD, PLACES["village_a1"])
