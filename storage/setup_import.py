"""Write a commune's set-up file to the database. Importing the same file twice changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.inheritance import (
    LEGACY,
    Origin,
    admin_fields_after_reimport,
    fields_of,
    legacy_fields,
    resolve,
)
from domain.province_deadlines import own_deadlines
from domain.roles import UnitKind
from domain.setup_file import CommuneSetupFile, EventChange, ProvinceSetupFile, default_events
from storage import audit, calendar
from storage import rounds as round_store
from storage.models import Agency, CalendarEvent, PlanTarget, RoundSpecRow, Unit
from storage.units import find_agency, find_unit, list_agencies, list_children


@dataclass
class ImportSummary:
    commune_id: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    # Targets the administrator changed in the chat: kept (the file did not change them) or
    # overridden (the file changed the same thing since its last import).
    kept: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


def _apply(obj: object, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


async def _upsert_unit(
    session: AsyncSession, summary: ImportSummary, kind: UnitKind, code: str,
    parent_id: int | None, now: dt.datetime, **values: object,
) -> Unit:
    unit = await find_unit(kind, code, parent_id, session=session)
    values = {"name": values.pop("name"), "active": True, **values}
    if unit is None:
        unit = Unit(kind=kind, code=code, parent_id=parent_id, created_at=now, **values)
        session.add(unit)
        summary.created.append(f"{kind}:{code}")
    elif _apply(unit, values):
        summary.updated.append(f"{kind}:{code}")
    await session.flush()
    return unit


def _row_values(row: CalendarEvent) -> dict:
    return {"name": row.name, "kind": row.kind, "date": row.date_rule,
            "lead_days": list(row.lead_days), "audience": list(row.audience),
            "message": row.message, "report_period": row.report_period, "active": row.active}


def province_changes(province: Unit | None) -> tuple[EventChange, ...]:
    """The [[events]] of the province's set-up file, as last imported (none if never)."""
    stored = (province.province_calendar or {}) if province is not None else {}
    return tuple(EventChange(**entry) for entry in stored.get("events", []))


async def sync_events(session: AsyncSession, summary: ImportSummary, commune_id: int,
                      province: Sequence[EventChange], file_fields: Mapping[str, dict] | None,
                      includes_day: bool, now: dt.datetime) -> None:
    """Write the commune's calendar: inherited events (defaults, its province's calendar)
    with the commune's own fields over them (domain/inheritance.resolve).

    `file_fields` is the commune's set-up file's [[events]] (an import of it); None keeps the
    fields its file wrote last time (an import of the province's file). /event changes are
    kept, except those of fields a newly imported commune file writes itself. A changed
    date, reading of "trước ngày", reminder days or switch drops the reminders not sent yet,
    so they are planned again (none for an event switched off); sent ones stay sent."""
    rows = {e.code: e for e in await calendar.list_events(commune_id, session=session,
                                                          active_only=False)}
    stored = {code: (row.own or {}) for code, row in rows.items()}
    admin = {code: dict(own.get("admin", {})) for code, own in stored.items()}
    if file_fields is None:
        file_fields = {code: dict(own.get("file", {}))
                       for code, own in stored.items() if own.get("file")}
        defaults = {event.code: event for event in default_events()}
        for code, row in rows.items():
            # written before origins: what differs from the default is the commune's own
            fields = legacy_fields(_row_values(row), defaults.get(code)) \
                if row.origin == LEGACY else None
            if fields:
                file_fields[code] = fields
    else:
        admin = {code: admin_fields_after_reimport(fields, file_fields.get(code, {}))
                 for code, fields in admin.items()}
    wanted = resolve(province, file_fields, {c: f for c, f in admin.items() if f})
    for item in wanted:
        spec = item.event
        own = {key: value for key, value in (("file", item.file_fields),
                                             ("admin", item.admin_fields)) if value}
        values = {"name": spec.name, "kind": str(spec.kind), "date_rule": spec.date,
                  "lead_days": list(spec.lead_days), "audience": list(spec.audience),
                  "message": spec.message, "report_period": spec.report_period,
                  "active": spec.active, "before_includes_day": includes_day,
                  "origin": str(item.origin), "own": own or None}
        event = rows.get(spec.code)
        if event is None:
            session.add(CalendarEvent(commune_id=commune_id, code=spec.code, updated_at=now,
                                      **values))
            summary.created.append(f"event:{spec.code}")
        else:
            rule_changed = (event.date_rule != spec.date
                            or list(event.lead_days) != list(spec.lead_days)
                            or event.active != spec.active
                            or event.before_includes_day != includes_day)
            if _apply(event, values):
                event.updated_at = now
                summary.updated.append(f"event:{spec.code}")
                if rule_changed:
                    await calendar.drop_planned_reminders(event.id, session=session)
    codes = {item.event.code for item in wanted}
    for code, event in rows.items():
        if code not in codes and (event.active or event.own):
            event.active = False
            event.own = None
            await calendar.drop_planned_reminders(event.id, session=session)
            summary.deactivated.append(f"event:{event.code}")
    await session.flush()


async def _import_events(session: AsyncSession, summary: ImportSummary, commune_id: int,
                         setup: CommuneSetupFile, province: Unit, now: dt.datetime) -> None:
    """The commune's calendar after an import of its own file."""
    await sync_events(session, summary, commune_id, province_changes(province),
                      {change.code: fields_of(change) for change in setup.events},
                      setup.commune.before_includes_day, now)


def merged_values(current: dict[str, float], last_file: dict[str, float] | None,
                  file_now: dict[str, float]) -> dict[str, float]:
    """The target values after an import: for each year the file's value where the file
    changed it since its last import (or on the first import), else the value as it is now
    (an administrator's in-chat change kept)."""
    if last_file is None:
        return dict(file_now)
    merged = {}
    for year in sorted(set(current) | set(file_now) | set(last_file)):
        if last_file.get(year) != file_now.get(year):
            value = file_now.get(year)
        else:
            value = current.get(year)
        if value is not None:
            merged[year] = value
    return merged


async def _rename_target(session: AsyncSession, commune_id: int, target: PlanTarget,
                         code: str) -> None:
    """A target that gained parts becomes its first part: the values sent for it in earlier
    rounds become that part's (it was the first rate that was tracked)."""
    old = target.code
    target.code = code
    for part in await round_store.list_commune_parts(commune_id, session=session):
        if old in (part.answers or {}):
            answers = dict(part.answers)
            answers[code] = answers.pop(old)
            part.answers = answers
            await round_store.save_part(part, session=session)


async def _import_targets(session: AsyncSession, summary: ImportSummary, commune_id: int,
                          setup: CommuneSetupFile) -> None:
    """The plan's targets (one row per part of a target with several rates) and the report
    rounds; removed ones are deactivated (parts sent for them keep their values). What an
    administrator changed in the chat (a target value, the agency) stays unless the file
    itself changed that same thing since its last import: then the file wins, and the
    summary says so."""
    agencies = {a.code: a.id for a in await list_agencies(commune_id, session=session)}
    codes_of = {v: k for k, v in agencies.items()}
    existing = {t.code: t for t in await round_store.list_targets(commune_id, session=session,
                                                                  active_only=False)}
    position = 0
    for setup_target in setup.targets:
        rows = setup_target.rows()
        if (setup_target.parts and rows[0].target.code not in existing
                and setup_target.code in existing):
            legacy = existing.pop(setup_target.code)
            await _rename_target(session, commune_id, legacy, rows[0].target.code)
            existing[legacy.code] = legacy
            summary.updated.append(f"target:{setup_target.code}")
        for row in rows:
            spec = row.target
            file_now = {"values": {str(y): v for y, v in spec.values.items()},
                        "agency": spec.agency}
            values = {"number": spec.number, "position": position, "name": spec.name,
                      "unit": str(spec.unit), "rule": str(spec.rule),
                      "source": str(spec.source), "figure": spec.figure, "active": True,
                      "title": row.title, "group_code": row.group_code,
                      "file_values": file_now}
            position += 1
            target = existing.pop(spec.code, None)
            if target is None:
                values["target_values"] = file_now["values"]
                values["agency_id"] = agencies.get(spec.agency) if spec.agency else None
                session.add(PlanTarget(commune_id=commune_id, code=spec.code, **values))
                summary.created.append(f"target:{spec.code}")
                continue
            last = target.file_values
            current = {"values": dict(target.target_values or {}),
                       "agency": codes_of.get(target.agency_id)}
            merged = merged_values(current["values"], last["values"] if last else None,
                                   file_now["values"])
            if last is None or last.get("agency") != file_now["agency"]:
                agency = file_now["agency"]
            else:
                agency = current["agency"]
            if target.edited_at is not None:
                file_changed = last is None or last != file_now
                chat_changed = (current["values"] != (last or {}).get("values")
                                or current["agency"] != (last or {}).get("agency"))
                if chat_changed and file_changed and (merged != current["values"]
                                                      or agency != current["agency"]):
                    summary.overridden.append(f"target:{spec.code}")
                elif chat_changed:
                    summary.kept.append(f"target:{spec.code}")
            values["target_values"] = merged
            values["agency_id"] = agencies.get(agency) if agency else None
            if _apply(target, values):
                summary.updated.append(f"target:{spec.code}")
    for target in existing.values():
        if target.active:
            target.active = False
            summary.deactivated.append(f"target:{target.code}")
    specs = {s.code: s for s in await round_store.list_specs(commune_id, session=session,
                                                            active_only=False)}
    for spec in setup.rounds:
        values = {"name": spec.name, "collect_by": spec.collect_by,
                  "open_working_days": spec.open_working_days, "period": spec.period,
                  "year": spec.year, "active": True}
        row = specs.pop(spec.code, None)
        if row is None:
            session.add(RoundSpecRow(commune_id=commune_id, code=spec.code, **values))
            summary.created.append(f"round:{spec.code}")
        elif _apply(row, values):
            summary.updated.append(f"round:{spec.code}")
    for row in specs.values():
        if row.active:
            row.active = False
            summary.deactivated.append(f"round:{row.code}")
    await session.flush()


async def import_setup(
    setup: CommuneSetupFile, *, session: AsyncSession, now: dt.datetime,
    actor_user_id: int | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    province = await _upsert_unit(session, summary, UnitKind.PROVINCE, setup.province.code,
                                  None, now, name=setup.province.name)
    c = setup.commune
    commune = await _upsert_unit(
        session, summary, UnitKind.COMMUNE, c.code, province.id, now,
        name=c.name, on_duty_phone=c.on_duty_phone, report_to=c.report_to or None,
        hotlines=[{"name": h.name, "number": h.number} for h in c.hotlines],
        leader_approval=c.leader_approval,
    )
    summary.commune_id = commune.id

    wanted_villages = {v.code for v in setup.villages}
    for village in setup.villages:
        await _upsert_unit(session, summary, UnitKind.VILLAGE, village.code, commune.id, now,
                           name=village.name)
    for unit in await list_children(commune.id, session=session, kind=UnitKind.VILLAGE):
        if unit.code not in wanted_villages:
            unit.active = False
            summary.deactivated.append(f"village:{unit.code}")

    wanted_agencies = {a.code for a in setup.agencies}
    for spec in setup.agencies:
        agency = await find_agency(commune.id, spec.code, session=session)
        values = {"kind": spec.kind, "name": spec.name, "phone": spec.phone, "active": True}
        if agency is None:
            session.add(Agency(commune_id=commune.id, code=spec.code, **values))
            summary.created.append(f"agency:{spec.code}")
        elif _apply(agency, values):
            summary.updated.append(f"agency:{spec.code}")
    for agency in await list_agencies(commune.id, session=session):
        if agency.code not in wanted_agencies:
            agency.active = False
            summary.deactivated.append(f"agency:{agency.code}")
    await session.flush()
    await _import_events(session, summary, commune.id, setup, province, now)
    await _import_targets(session, summary, commune.id, setup)

    if summary.changed:
        await audit.record(session=session, at=now, actor_user_id=actor_user_id,
                           action="setup_import", object_type="unit", object_id=commune.id,
                           unit_id=commune.id, created=len(summary.created),
                           updated=len(summary.updated), deactivated=len(summary.deactivated))
    return summary


async def sync_province_events(session: AsyncSession, summary: ImportSummary, province: Unit,
                               now: dt.datetime) -> None:
    """The province's own deadlines up (its file's report_6m_by / report_year_by) as events
    of the province unit: written, changed, or switched off when the file drops one. A
    changed date or reminder days drops the reminders not sent yet (sent ones stay sent)."""
    stored = province.province_calendar or {}
    includes_day = bool(stored.get("before_includes_day"))
    wanted = own_deadlines(stored.get("deadlines") or {}, province_changes(province))
    rows = {e.code: e for e in await calendar.list_events(province.id, session=session,
                                                          active_only=False)}
    for spec in wanted:
        values = {"name": spec.name, "kind": str(spec.kind), "date_rule": spec.date,
                  "lead_days": list(spec.lead_days), "audience": list(spec.audience),
                  "message": spec.message, "report_period": spec.report_period,
                  "active": True, "before_includes_day": includes_day,
                  "origin": str(Origin.PROVINCE_OWN), "own": None}
        event = rows.get(spec.code)
        if event is None:
            session.add(CalendarEvent(commune_id=province.id, code=spec.code, updated_at=now,
                                      **values))
            summary.created.append(f"event:{spec.code}")
            continue
        rule_changed = (event.date_rule != spec.date or not event.active
                        or list(event.lead_days) != list(spec.lead_days)
                        or event.before_includes_day != includes_day)
        if _apply(event, values):
            event.updated_at = now
            summary.updated.append(f"event:{spec.code}")
            if rule_changed:
                await calendar.drop_planned_reminders(event.id, session=session)
    codes = {spec.code for spec in wanted}
    for code, event in rows.items():
        if code not in codes and event.active:
            event.active = False
            await calendar.drop_planned_reminders(event.id, session=session)
            summary.deactivated.append(f"event:{code}")
    await session.flush()


async def import_province(
    setup: ProvinceSetupFile, *, session: AsyncSession, now: dt.datetime,
    actor_user_id: int | None = None,
) -> ImportSummary:
    """A province's set-up file: its calendar is stored on the province and written into
    every commune of the province, over each commune's own fields (which stay)."""
    summary = ImportSummary()
    p = setup.province
    province = await _upsert_unit(session, summary, UnitKind.PROVINCE, p.code, None, now,
                                  name=p.name)
    stored = {"events": [{"code": change.code, **fields_of(change)} for change in setup.events],
              "deadlines": setup.deadline_rules(), "report_to": p.report_to,
              "communes_report_to": p.communes_report_to,
              "before_includes_day": p.before_includes_day}
    if province.province_calendar != stored:
        province.province_calendar = stored
        summary.updated.append(f"province_calendar:{p.code}")
    await session.flush()
    changes = province_changes(province)
    await sync_province_events(session, summary, province, now)
    for commune in await list_children(province.id, session=session, kind=UnitKind.COMMUNE):
        rows = await calendar.list_events(commune.id, session=session, active_only=False)
        includes_day = any(row.before_includes_day for row in rows)
        await sync_events(session, summary, commune.id, changes, None, includes_day, now)
    if summary.changed:
        await audit.record(session=session, at=now, actor_user_id=actor_user_id,
                           action="province_import", object_type="unit", object_id=province.id,
                           unit_id=province.id, created=len(summary.created),
                           updated=len(summary.updated), deactivated=len(summary.deactivated))
    return summary
