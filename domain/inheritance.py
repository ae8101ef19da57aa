"""A commune's calendar in layers: the national defaults, its province's calendar, its own.

1. **Defaults** (domain/data/default_events.toml): every commune starts with them.
2. **The province** (a province set-up file): changes a default by its code (only the fields
   it writes) or adds events. Every commune of the province inherits the result.
3. **The commune's own**: its set-up file's [[events]] entries, then what an administrator
   changed with /event. Each writes only some fields of an event; the others stay inherited,
   so a later province change of a field the commune did not write still reaches it.

Re-importing the province file changes layer 2 only; re-importing the commune's file replaces
its file entries and keeps its /event changes, except for the fields the file now writes
itself (the file is the newer, deliberate word on those). Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from domain.errors import N_, Problem
from domain.setup_file import EventChange, EventSetup, default_events

# What a commune writes about one event: EventChange's fields, without the code.
Fields = dict[str, object]
# /event's words for the fields of an event row (date_rule is "date" in a set-up file)
ROW_TO_FIELD = {"date_rule": "date", "active": "active", "lead_days": "lead_days",
                "audience": "audience", "message": "message"}


class Origin(StrEnum):
    DEFAULT = "default"  # the national default, as it is
    PROVINCE = "province"  # set or changed by the province: inherited
    COMMUNE = "commune"  # the commune's own event, or its own change of an inherited one
    # The province's own deadline up (to the UBND tỉnh, the ministry): an event of the
    # province unit itself, never inherited (domain/province_deadlines.py)
    PROVINCE_OWN = "province_own"


@dataclass(frozen=True)
class Resolved:
    event: EventSetup
    origin: Origin
    inherited: EventSetup | None  # what the commune would have without its own fields
    file_fields: Fields  # what the commune's set-up file writes
    admin_fields: Fields  # what /event changed

    @property
    def own_fields(self) -> Fields:
        return {**self.file_fields, **self.admin_fields}

    @property
    def overrides_province(self) -> bool:
        """The commune changed an event its province set (not only a default)."""
        return self.origin is Origin.COMMUNE and self.inherited is not None and bool(
            self.own_fields) and self.inherited_origin is Origin.PROVINCE

    inherited_origin: Origin | None = None  # where `inherited` came from


def fields_of(change: EventChange) -> Fields:
    """The fields an [[events]] entry writes (its code left out)."""
    given = change.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    given.pop("code", None)
    return given


def inherited_calendar(province: Sequence[EventChange]) -> dict[str, tuple[EventSetup, Origin]]:
    """What every commune of the province inherits: the defaults changed by the province's
    entries, and the province's own events, each with where it comes from."""
    changes = {change.code: change for change in province}
    found: dict[str, tuple[EventSetup, Origin]] = {}
    try:
        for event in default_events():
            if event.code in changes:
                found[event.code] = (changes.pop(event.code).over(event), Origin.PROVINCE)
            else:
                found[event.code] = (event, Origin.DEFAULT)
        for change in changes.values():
            found[change.code] = (change.over(None), Origin.PROVINCE)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Problem(N_("{field}: {reason}"), field=".".join(str(p) for p in first["loc"]),
                      reason=first["msg"]) from None
    return found


def _over(base: EventSetup | None, code: str, fields: Fields) -> EventSetup:
    return EventChange(code=code, **fields).over(base)


def resolve(province: Sequence[EventChange], commune_file: Mapping[str, Fields],
            admin: Mapping[str, Fields] | None = None) -> list[Resolved]:
    """The commune's calendar: inherited events (defaults, then the province), each changed
    by the commune's file and /event fields of the same code, then the commune's own events.

    An /event change of an event that no longer exists (its code left the commune's file and
    nothing inherits it) is dropped; a new event of the commune's file needs name, kind and
    date (Problem otherwise, as at load)."""
    admin = admin or {}
    inherited = inherited_calendar(province)
    resolved: list[Resolved] = []
    for code in [*inherited, *(c for c in commune_file if c not in inherited)]:
        base, base_origin = inherited.get(code, (None, None))
        file_fields = dict(commune_file.get(code, {}))
        admin_fields = dict(admin.get(code, {}))
        event = _over(base, code, file_fields) if file_fields or base is None else base
        if admin_fields:
            try:
                event = _over(event, code, admin_fields)
            except (Problem, ValidationError):  # a stored change the event no longer takes
                admin_fields = {}
        own = bool(file_fields or admin_fields) or base is None
        resolved.append(Resolved(event=event,
                                 origin=Origin.COMMUNE if own else base_origin,
                                 inherited=base, file_fields=file_fields,
                                 admin_fields=admin_fields, inherited_origin=base_origin))
    return resolved


def admin_fields_after_reimport(admin: Fields, file_fields: Fields) -> Fields:
    """/event changes that survive an import of the commune's file: those of fields the file
    does not write."""
    return {key: value for key, value in admin.items() if key not in file_fields}


def admin_change(before: Fields, row_changes: Mapping[str, object]) -> Fields:
    """An event's /event fields after an administrator changes `row_changes` (the event row's
    names: date_rule, active, lead_days, audience, message)."""
    after = dict(before)
    for name, value in row_changes.items():
        after[ROW_TO_FIELD[name]] = list(value) if isinstance(value, (list, tuple)) else value
    return after


LEGACY = "legacy"  # an event row written before origins were kept (migration 0017p)
_COMPARED = ("name", "kind", "date", "lead_days", "audience", "message", "report_period",
             "active")


def legacy_fields(values: Mapping[str, object], default: EventSetup | None) -> Fields:
    """The fields a commune wrote, for an event row written before origins were kept: where
    it differs from the default of its code (all of it for an event of its own)."""
    base = default.model_dump(mode="json") if default is not None else {}
    found: Fields = {}
    for name in _COMPARED:
        value = values.get(name)
        value = list(value) if isinstance(value, (list, tuple)) else value
        if value is not None and (default is None or value != base.get(name)):
            found[name] = value
    return found
