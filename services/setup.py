"""Set-up tasks run from the command line: importing a commune, the first invitations."""

from __future__ import annotations

import datetime as dt

from domain.clock import Clock, SystemClock
from domain.errors import UnknownCode
from domain.roles import Actor, Role, UnitKind
from domain.setup_file import CommuneSetupFile, ProvinceSetupFile
from services import membership
from storage import migrate
from storage.db import Database
from storage.setup_import import ImportSummary, import_province, import_setup
from storage.units import find_agency, find_unit

# The command line acts as an install-wide administrator; its audit rows carry user id 0.
CLI_ACTOR = Actor(user_id=0, role=Role.ADMIN, is_superadmin=True)


async def import_commune(database_url: str, setup: CommuneSetupFile | ProvinceSetupFile,
                         clock: Clock | None = None) -> ImportSummary:
    """Import a commune's set-up file, or a province's (its calendar, into every commune of
    the province)."""
    db = Database(database_url)
    run = import_province if isinstance(setup, ProvinceSetupFile) else import_setup
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            return await run(setup, session=session, now=(clock or SystemClock()).now(),
                             actor_user_id=CLI_ACTOR.user_id)
    finally:
        await db.dispose()


async def create_invite_by_codes(
    db: Database, *, province: str, commune: str | None, role: Role, agency: str | None,
    village: str | None, ttl: dt.timedelta, now: dt.datetime,
) -> membership.CreatedInvite:
    """An invitation addressed by codes (ninh-binh / minh-tan / cong-an)."""
    async with db.session() as session:
        unit = await find_unit(UnitKind.PROVINCE, province, None, session=session)
        if unit is None:
            raise UnknownCode("province", province)
        if commune:
            unit = await find_unit(UnitKind.COMMUNE, commune, unit.id, session=session)
            if unit is None:
                raise UnknownCode("commune", commune)
        agency_id = None
        if agency:
            found = await find_agency(unit.id, agency, session=session)
            if found is None:
                raise UnknownCode("agency", agency)
            agency_id = found.id
        if village:
            unit = await find_unit(UnitKind.VILLAGE, village, unit.id, session=session)
            if unit is None:
                raise UnknownCode("village", village)
        return await membership.create_invite(CLI_ACTOR, role=role, unit_id=unit.id,
                                              agency_id=agency_id, session=session, now=now,
                                              ttl=ttl)
