"""Who may do what with one case, across two communes of one province, written out by hand.

Commune A (10, village 11) and commune B (20, village 21) under province 1. Case "a" is in
commune A, referred to A's police (agency 100), reported by the village collaborator of A
and handled by officer A2. Case "b" is in commune B, reported by a citizen, not taken.
Case "a_closed" is case a after closing; case "a_phone" was opened by an officer (no
reporter to write back to)."""

from __future__ import annotations

import pytest

from domain.case_access import CaseRight, CaseScope, can_on_case, ensure_on_case, rights
from domain.errors import NotAllowed
from domain.roles import Actor, Role, UnitScope, citizen

PROVINCE, COMMUNE_A, VILLAGE_A, COMMUNE_B, VILLAGE_B = 1, 10, 11, 20, 21
POLICE_A, HEALTH_A, POLICE_B = 100, 101, 200
SCOPE_A = UnitScope((PROVINCE, COMMUNE_A))
SCOPE_B = UnitScope((PROVINCE, COMMUNE_B))

ACTORS = {
    "superadmin": Actor(user_id=1, role=Role.ADMIN, is_superadmin=True),
    "province_admin": Actor(user_id=2, role=Role.ADMIN, scope=UnitScope((PROVINCE,)),
                            member_id=2),
    "admin_a": Actor(user_id=3, role=Role.ADMIN, scope=SCOPE_A, member_id=3),
    "admin_b": Actor(user_id=4, role=Role.ADMIN, scope=SCOPE_B, member_id=4),
    "officer_a": Actor(user_id=5, role=Role.OFFICER, scope=SCOPE_A, member_id=5),
    "officer_a2": Actor(user_id=6, role=Role.OFFICER, scope=SCOPE_A, member_id=6),
    "officer_b": Actor(user_id=7, role=Role.OFFICER, scope=SCOPE_B, member_id=7),
    "police_a": Actor(user_id=8, role=Role.AGENCY_MEMBER, scope=SCOPE_A, agency_id=POLICE_A,
                      member_id=8),
    "health_a": Actor(user_id=9, role=Role.AGENCY_MEMBER, scope=SCOPE_A, agency_id=HEALTH_A,
                      member_id=9),
    "police_b": Actor(user_id=10, role=Role.AGENCY_MEMBER, scope=SCOPE_B, agency_id=POLICE_B,
                      member_id=10),
    "collaborator_a": Actor(user_id=11, role=Role.COLLABORATOR,
                            scope=UnitScope((PROVINCE, COMMUNE_A, VILLAGE_A)), member_id=11),
    "collaborator_b": Actor(user_id=12, role=Role.COLLABORATOR,
                            scope=UnitScope((PROVINCE, COMMUNE_B, VILLAGE_B)), member_id=12),
    "reporter_of_b": citizen(13),
    "citizen": citizen(14),
}

CASES = {
    "a": CaseScope(commune_id=COMMUNE_A, referred_agency_ids=frozenset({POLICE_A}),
                   reporter_user_id=11, holder_member_id=6),
    "a_closed": CaseScope(commune_id=COMMUNE_A, referred_agency_ids=frozenset({POLICE_A}),
                          reporter_user_id=11, holder_member_id=6, is_open=False),
    "a_phone": CaseScope(commune_id=COMMUNE_A, reporter_user_id=None, holder_member_id=6),
    "b": CaseScope(commune_id=COMMUNE_B, reporter_user_id=13, holder_member_id=None),
}

R = CaseRight
NONE: set[CaseRight] = set()
STAFF = {R.VIEW, R.VIEW_DETAILS, R.TAKE, R.ASSIGN, R.UPDATE, R.NOTE, R.REFER, R.EXPORT_FORMS}
STAFF_CLOSED = {R.VIEW, R.VIEW_DETAILS, R.UPDATE, R.NOTE, R.EXPORT_FORMS}

EXPECTED: dict[tuple[str, str], set[CaseRight]] = {
    # Province level and the installation's operators: aggregate numbers only.
    ("superadmin", "a"): NONE, ("superadmin", "a_closed"): NONE,
    ("superadmin", "a_phone"): NONE, ("superadmin", "b"): NONE,
    ("province_admin", "a"): NONE, ("province_admin", "a_closed"): NONE,
    ("province_admin", "a_phone"): NONE, ("province_admin", "b"): NONE,
    # Administrators: their own commune, with the audit log.
    ("admin_a", "a"): STAFF | {R.AUDIT}, ("admin_a", "a_closed"): STAFF_CLOSED | {R.AUDIT},
    ("admin_a", "a_phone"): STAFF | {R.AUDIT}, ("admin_a", "b"): NONE,
    ("admin_b", "a"): NONE, ("admin_b", "a_closed"): NONE, ("admin_b", "a_phone"): NONE,
    ("admin_b", "b"): STAFF | {R.AUDIT},
    # Officers: their commune; the one handling a case also sees and writes to the reporter.
    ("officer_a", "a"): STAFF, ("officer_a", "a_closed"): STAFF_CLOSED,
    ("officer_a", "a_phone"): STAFF, ("officer_a", "b"): NONE,
    ("officer_a2", "a"): STAFF | {R.VIEW_REPORTER, R.RELAY},
    ("officer_a2", "a_closed"): STAFF_CLOSED | {R.VIEW_REPORTER},
    ("officer_a2", "a_phone"): STAFF | {R.VIEW_REPORTER},  # nobody to write back to
    ("officer_a2", "b"): NONE,
    ("officer_b", "a"): NONE, ("officer_b", "a_closed"): NONE, ("officer_b", "a_phone"): NONE,
    ("officer_b", "b"): STAFF,
    # Agency members: only cases referred to their agency.
    ("police_a", "a"): {R.VIEW, R.VIEW_DETAILS, R.NOTE},
    ("police_a", "a_closed"): {R.VIEW, R.VIEW_DETAILS, R.NOTE},
    ("police_a", "a_phone"): NONE, ("police_a", "b"): NONE,
    ("health_a", "a"): NONE, ("health_a", "a_closed"): NONE, ("health_a", "a_phone"): NONE,
    ("health_a", "b"): NONE,
    ("police_b", "a"): NONE, ("police_b", "a_closed"): NONE, ("police_b", "a_phone"): NONE,
    ("police_b", "b"): NONE,
    # Village collaborators: the reports they sent, status only.
    ("collaborator_a", "a"): {R.VIEW}, ("collaborator_a", "a_closed"): {R.VIEW},
    ("collaborator_a", "a_phone"): NONE, ("collaborator_a", "b"): NONE,
    ("collaborator_b", "a"): NONE, ("collaborator_b", "a_closed"): NONE,
    ("collaborator_b", "a_phone"): NONE, ("collaborator_b", "b"): NONE,
    # Citizens, the reporter included, never see a case (they have /status).
    ("reporter_of_b", "a"): NONE, ("reporter_of_b", "a_closed"): NONE,
    ("reporter_of_b", "a_phone"): NONE, ("reporter_of_b", "b"): NONE,
    ("citizen", "a"): NONE, ("citizen", "a_closed"): NONE, ("citizen", "a_phone"): NONE,
    ("citizen", "b"): NONE,
}


def test_the_table_covers_every_actor_and_case():
    assert set(EXPECTED) == {(a, c) for a in ACTORS for c in CASES}


@pytest.mark.parametrize("actor_name,case_name", sorted(EXPECTED))
def test_case_rights(actor_name, case_name):
    actor, case = ACTORS[actor_name], CASES[case_name]
    expected = EXPECTED[(actor_name, case_name)]
    assert set(rights(actor, case)) == expected
    for right in CaseRight:
        assert can_on_case(actor, right, case) == (right in expected)
        if right not in expected:
            with pytest.raises(NotAllowed):
                ensure_on_case(actor, right, case)


def test_a_referral_gives_access_to_that_case_only_and_can_end():
    police = ACTORS["police_a"]
    referred = CaseScope(commune_id=COMMUNE_A, referred_agency_ids=frozenset({POLICE_A}))
    other = CaseScope(commune_id=COMMUNE_A, referred_agency_ids=frozenset({HEALTH_A}))
    withdrawn = CaseScope(commune_id=COMMUNE_A)
    assert can_on_case(police, R.VIEW, referred)
    assert not can_on_case(police, R.VIEW, other)
    assert not can_on_case(police, R.VIEW, withdrawn)
    # A referral to an agency of the same id in another commune gives nothing.
    forged = Actor(user_id=99, role=Role.AGENCY_MEMBER, scope=SCOPE_B, agency_id=POLICE_A)
    assert not can_on_case(forged, R.VIEW, referred)
