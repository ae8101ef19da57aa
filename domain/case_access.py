"""Who may do what with one case. A case holds children's data, so access is narrower
than a unit: officers and administrators of the case's own commune; agency members only
for cases referred to their agency; a village collaborator only for the reports they
submitted; province level and install-wide administrators see aggregate numbers only.

Plain rules, no Telegram, no SQL: the service gathers a CaseScope and asks here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import NotAllowed
from domain.roles import Actor, Role


class CaseRight(StrEnum):
    VIEW = "view_case"  # the card: status, risk, deadline, history
    VIEW_DETAILS = "view_case_details"  # the story and the media
    VIEW_REPORTER = "view_reporter"  # who reported (only the officer handling the case)
    TAKE = "take_case"
    ASSIGN = "assign_case"
    UPDATE = "update_case"  # status, risk, special circumstances, closing, reopening
    NOTE = "note_case"
    REFER = "refer_case"
    RELAY = "relay_reporter"  # write to the reporter through the bot
    AUDIT = "view_case_audit"
    EXPORT_FORMS = "export_case_forms"  # the decree's forms filled from the case (DOCX)
    APPROVE = "approve_case"  # the commune's leader: approve or return a plan or a closing


@dataclass(frozen=True)
class CaseScope:
    """What the rules need to know about a case."""

    commune_id: int
    referred_agency_ids: frozenset[int] = frozenset()
    reporter_user_id: int | None = None  # None: opened by an officer
    # False once the reporter withdrew their contact (/xoathongtin): no more messages to them.
    reporter_reachable: bool = True
    holder_member_id: int | None = None
    is_open: bool = True


_COMMUNE_STAFF = frozenset({Role.ADMIN, Role.OFFICER})
_STAFF_RIGHTS = frozenset({CaseRight.VIEW, CaseRight.VIEW_DETAILS, CaseRight.TAKE,
                           CaseRight.ASSIGN, CaseRight.UPDATE, CaseRight.NOTE, CaseRight.REFER,
                           CaseRight.EXPORT_FORMS})
_AGENCY_RIGHTS = frozenset({CaseRight.VIEW, CaseRight.VIEW_DETAILS, CaseRight.NOTE})
_SUBMITTER_RIGHTS = frozenset({CaseRight.VIEW})
_LEADER_RIGHTS = frozenset({CaseRight.VIEW, CaseRight.VIEW_DETAILS, CaseRight.APPROVE})
_CLOSED_ALLOWS = frozenset({CaseRight.VIEW, CaseRight.VIEW_DETAILS, CaseRight.UPDATE,
                            CaseRight.NOTE, CaseRight.AUDIT, CaseRight.VIEW_REPORTER,
                            CaseRight.EXPORT_FORMS})


def rights(actor: Actor, case: CaseScope) -> frozenset[CaseRight]:
    """Everything `actor` may do with `case` (empty: not even see that it exists)."""
    own_commune = actor.unit_id == case.commune_id
    granted: set[CaseRight] = set()
    if actor.role in _COMMUNE_STAFF and own_commune:
        granted |= _STAFF_RIGHTS
        if actor.role is Role.ADMIN:
            granted.add(CaseRight.AUDIT)
        handling = actor.member_id is not None and actor.member_id == case.holder_member_id
        if handling:
            granted.add(CaseRight.VIEW_REPORTER)
            if case.reporter_user_id is not None and case.reporter_reachable:
                granted.add(CaseRight.RELAY)
    elif actor.role is Role.LEADER and own_commune:
        granted |= _LEADER_RIGHTS
    elif (actor.role is Role.AGENCY_MEMBER and own_commune and actor.agency_id is not None
          and actor.agency_id in case.referred_agency_ids):
        granted |= _AGENCY_RIGHTS
    elif (actor.role is Role.COLLABORATOR and case.reporter_user_id == actor.user_id
          and actor.scope is not None and actor.scope.is_within(case.commune_id)):
        granted |= _SUBMITTER_RIGHTS
    if not case.is_open:
        granted &= _CLOSED_ALLOWS
    return frozenset(granted)


def can_on_case(actor: Actor, right: CaseRight, case: CaseScope) -> bool:
    return right in rights(actor, case)


def ensure_on_case(actor: Actor, right: CaseRight, case: CaseScope) -> None:
    if not can_on_case(actor, right, case):
        raise NotAllowed(right, f"role={actor.role}")
