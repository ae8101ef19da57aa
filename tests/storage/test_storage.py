"""Storage on every backend: migrations match the models, imports are idempotent,
invitations cannot be used twice even at the same instant, ids are BIGINT."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import zoneinfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from domain.cases import DeadlineRules
from domain.errors import InviteProblem
from domain.roles import Role, UnitKind
from domain.setup_file import events_for, load_setup_file
from services import cases as case_service
from services import membership
from services.identity import resolve_actor
from services.setup import CLI_ACTOR
from storage import migrate, updates
from storage.members import upsert_member
from storage.models import Agency, AuditEntry, Case, Member, Unit
from storage.setup_import import import_setup
from tests.conftest import EXAMPLE_SETUP

HEAD = "0018"  # the newest revision in storage/migrations/versions


async def test_migrations_leave_no_difference_with_the_models(db):
    async with db.engine.connect() as conn:
        def diff(sync_conn):
            context = MigrationContext.configure(sync_conn,
                                                 opts={"compare_type": migrate.compare_type})
            return compare_metadata(context, SQLModel.metadata)

        assert await conn.run_sync(diff) == []
    assert await migrate.current_revision(db) == HEAD


async def test_migrations_go_down_and_up_again(tmp_path):
    from storage.db import Database

    database = Database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    await migrate.upgrade(database)
    await migrate.downgrade(database, "base")
    assert await migrate.current_revision(database) is None
    await migrate.upgrade(database)
    assert await migrate.current_revision(database) == HEAD
    await database.dispose()


async def test_setup_import_is_idempotent_and_follows_the_file(db, clock):
    setup = load_setup_file(EXAMPLE_SETUP)
    async with db.session() as session:
        first = await import_setup(setup, session=session, now=clock.now())
    async with db.session() as session:
        second = await import_setup(setup, session=session, now=clock.now())
    events = events_for(setup)
    assert len(first.created) == (1 + 1 + len(setup.villages) + len(setup.agencies) + len(events)
                                  + sum(len(t.rows()) for t in setup.targets)
                                  + len(setup.rounds))
    assert not second.changed
    # Rename a village and drop an agency: updated and deactivated, never deleted.
    data = setup.model_dump()
    data["villages"][0]["name"] = "Thôn Đông Mới"
    data["agencies"] = data["agencies"][:-1]  # the last one: no target names it
    async with db.session() as session:
        third = await import_setup(type(setup).model_validate(data), session=session,
                                   now=clock.now())
    assert third.updated == [f"village:{setup.villages[0].code}"]
    assert third.deactivated == [f"agency:{setup.agencies[-1].code}"]
    async with db.session() as session:
        units = (await session.exec(select(Unit))).all()
        agencies = (await session.exec(select(Agency))).all()
        audit = (await session.exec(select(AuditEntry))).all()
    assert len(units) == 2 + len(setup.villages)
    assert sum(not a.active for a in agencies) == 1
    assert [a.action for a in audit] == ["setup_import", "setup_import"]  # not for the no-op


async def _invite(db, clock, commune) -> str:
    async with db.session() as session:
        created = await membership.create_invite(
            CLI_ACTOR, role=Role.OFFICER, unit_id=commune.commune_id, agency_id=None,
            session=session, now=clock.now(), ttl=dt.timedelta(hours=1))
    return created.code


async def test_invite_cannot_be_used_twice_even_concurrently(db, clock, commune):
    code = await _invite(db, clock, commune)
    big_ids = [2**40 + 1, 2**40 + 2, 2**40 + 3, 2**40 + 4]  # BIGINT Telegram ids

    async def redeem(user_id: int) -> str:
        try:
            async with db.session() as session:
                await membership.redeem_invite(code, user_id=user_id, display_name="X",
                                               session=session, now=clock.now())
            return "joined"
        except InviteProblem as problem:
            return problem.code

    results = await asyncio.gather(*(redeem(uid) for uid in big_ids))
    assert sorted(results) == ["joined", "used", "used", "used"]
    async with db.session() as session:
        members = (await session.exec(select(Member))).all()
    assert len(members) == 1 and members[0].telegram_user_id in big_ids


async def test_timestamps_come_back_timezone_aware(db, clock, commune):
    await _invite(db, clock, commune)
    async with db.session() as session:
        entry = (await session.exec(select(AuditEntry))).first()
    assert entry.at.tzinfo is not None and entry.at == clock.now()


async def test_update_ids_are_claimed_once(db, clock):
    async with db.session() as session:
        assert await updates.claim_update(2**40, session=session, now=clock.now())
        assert not await updates.claim_update(2**40, session=session, now=clock.now())
        assert await updates.claim_update(2**40 + 1, session=session, now=clock.now())
    async with db.session() as session:
        removed = await updates.prune_updates(session=session,
                                              before=clock.now() + dt.timedelta(seconds=1))
    assert removed == 2


async def test_province_admin_sees_members_of_all_its_communes(db, clock, commune):
    """Scope queries: a village collaborator counts under the commune and the province."""
    setup = load_setup_file(EXAMPLE_SETUP)
    async with db.session() as session:
        village = (await session.exec(select(Unit).where(Unit.kind == UnitKind.VILLAGE))).first()
        province = (await session.exec(select(Unit).where(Unit.kind == UnitKind.PROVINCE))).one()
    for user_id, role, unit_id in ((11, Role.OFFICER, commune.commune_id),
                                   (12, Role.COLLABORATOR, village.id),
                                   (13, Role.ADMIN, province.id)):
        async with db.session() as session:
            created = await membership.create_invite(
                CLI_ACTOR, role=role, unit_id=unit_id, agency_id=None, session=session,
                now=clock.now(), ttl=dt.timedelta(hours=1))
            await membership.redeem_invite(created.code, user_id=user_id, display_name="X",
                                           session=session, now=clock.now())
    from services.identity import resolve_actor

    async with db.session() as session:
        province_admin = await resolve_actor(13, session=session, superadmin_ids=set())
        page = await membership.list_members(province_admin, session=session, page=0, per_page=10)
        assert page.total == 3
        commune_officer = await resolve_actor(11, session=session, superadmin_ids=set())
        with pytest.raises(Exception, match="list_members"):
            await membership.list_members(commune_officer, session=session, page=0, per_page=10)
    assert setup.commune.code == "minh-tan"


async def _recompute(db, config, now, *, batch=500):
    """What bot.jobs.refresh_case_deadlines does: claim, then batches until done."""
    async with db.session() as session:
        if not await case_service.claim_due_refresh(session=session, config=config, now=now):
            return None
    after, changed = 0, 0
    while after is not None:
        async with db.session() as session:
            after, count = await case_service.refresh_due_batch(
                session=session, config=config, now=now, after_id=after, limit=batch)
        changed += count
    return changed


async def _open_cases(db, clock, config, count):
    async with db.session() as session:
        commune_id = (await session.exec(select(Unit.id).where(
            Unit.kind == UnitKind.COMMUNE))).first()
        await upsert_member(session=session, telegram_user_id=2001, display_name="Hùng",
                            role=Role.OFFICER, unit_id=commune_id, agency_id=None,
                            invited_by=None, now=clock.now())
        actor = await resolve_actor(2001, session=session, superadmin_ids=set())
        for _ in range(count):
            await case_service.open_case(
                actor, {"channel": "phone", "category": "neglect", "village_id": None,
                        "age_group": "6-10", "urgent": False}, "Không ai trông em",
                session=session, now=clock.now(), config=config)


async def test_start_up_recomputes_deadlines_once_per_set_of_rules(db, commune, clock):
    config = case_service.CaseConfig(tz=zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
    await _open_cases(db, clock, config, 3)
    async with db.session() as session:
        for case in (await session.exec(select(Case))).all():
            case.due_at, case.next_alert_at = None, None  # as before migrations 0005, 0007
    assert await _recompute(db, config, clock.now(), batch=2) == 3  # in two batches
    async with db.session() as session:
        cases = (await session.exec(select(Case))).all()
        assert all(c.due_at is not None and c.next_alert_at is not None for c in cases)
        assert all(c.next_alert_at == c.due_at - dt.timedelta(hours=24) for c in cases)
        cases[0].due_at = None
    # The next start, same rules: nothing walked.
    assert await _recompute(db, config, clock.now()) is None
    longer = dataclasses.replace(config, rules=DeadlineRules(assessment_working_days=5))
    assert await _recompute(db, longer, clock.now()) == 3


async def test_deadline_recompute_is_one_instance_s_and_resumes_after_a_crash(db, commune,
                                                                              clock):
    config = case_service.CaseConfig(tz=zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
    await _open_cases(db, clock, config, 2)
    now = clock.now()
    async with db.session() as session:  # instance A claims and does one batch, then dies
        assert await case_service.claim_due_refresh(session=session, config=config, now=now)
    async with db.session() as session:
        after, _count = await case_service.refresh_due_batch(
            session=session, config=config, now=now, after_id=0, limit=1)
    assert after is not None
    async with db.session() as session:  # instance B starts while A's lease is fresh
        assert not await case_service.claim_due_refresh(
            session=session, config=config, now=now + dt.timedelta(seconds=30))
    later = now + case_service.DUE_REFRESH_STALE + dt.timedelta(seconds=1)
    assert await _recompute(db, config, later) == 0  # B takes the stale lease over, finishes
    assert await _recompute(db, config, later) is None  # done: nobody walks it again
