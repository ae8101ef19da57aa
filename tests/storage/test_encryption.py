"""Encryption at rest: the raw database holds no sensitive string in plain text; rows from
before encryption are encrypted at start; rotation; a missing or wrong key refuses to start."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.startup import StartupError, check_data_key
from storage import data_key
from storage.crypto import Keyring, generate_key, keyring, use_keyring
from storage.models import CaseEvent, Report, ReportDraft, ReportReporter
from tests.conftest import START, TEST_DATA_KEY, start_bot
from tests.storage.seed_private import (
    LATITUDE,
    SECRETS,
    database_bytes,
    raw_encrypted_values,
    seed_case,
    seed_draft_and_input,
)


async def _seed(db):
    async with db.session() as session:
        report, case = await seed_case(session, now=START)
        await seed_draft_and_input(session, now=START, case_id=case.id)
    return report, case


async def test_the_database_holds_no_sensitive_string_in_plain_text(db, commune):
    report, _case = await _seed(db)
    raw = await raw_encrypted_values(db)
    assert len(raw) >= 15 and all(v.startswith("enc1:") for v in raw)
    blob = "\n".join(raw)
    if db.backend == "sqlite":  # the file itself, write-ahead log included
        await db.dispose()
        file = database_bytes(db)
        for secret in SECRETS.values():
            assert secret.encode() not in file, secret
    for secret in [*SECRETS.values(), str(LATITUDE)]:
        assert secret not in blob
    async with db.session() as session:  # and the bot reads them back as they were
        got = await session.get(Report, report.id)
        reporter = await session.get(ReportReporter, report.id)
        draft = (await session.exec(select(ReportDraft))).one()
        assert (got.story, got.child_name, got.latitude) == (SECRETS["story"],
                                                             SECRETS["child_name"], LATITUDE)
        assert (reporter.name, reporter.phone) == (SECRETS["reporter_name"], SECRETS["phone"])
        assert draft.answers == {"story": SECRETS["draft"]}


async def test_rows_from_before_encryption_are_encrypted_at_start(db, commune):
    report, case = await _seed(db)
    async with db.engine.begin() as conn:  # as an older version wrote them
        await conn.execute(sa.text("UPDATE reports SET story = :s, latitude = :lat"),
                           {"s": SECRETS["story"], "lat": str(LATITUDE)})
        await conn.execute(sa.text("UPDATE case_events SET note = :n"), {"n": SECRETS["note"]})
    await check_data_key(db, keyring())
    raw = await raw_encrypted_values(db)
    assert all(v.startswith("enc1:") for v in raw)
    async with db.session() as session:
        assert (await session.get(Report, report.id)).story == SECRETS["story"]
        assert (await session.get(Report, report.id)).latitude == LATITUDE
        notes = (await session.exec(select(CaseEvent.note).where(CaseEvent.case_id == case.id)
                                    )).all()
        assert SECRETS["note"] in notes


async def test_rotation_re_encrypts_everything_and_the_old_key_can_go(db, commune):
    report, _case = await _seed(db)
    new_key = generate_key()
    rotating = Keyring.from_text(new_key, old=TEST_DATA_KEY)
    previous = use_keyring(rotating)
    try:
        changed = await data_key.reencrypt(db, rotating, batch=2)  # several batches
        assert sum(changed.values()) == len(await raw_encrypted_values(db))
        assert (await data_key.inspect(db, rotating)).key_ids == {rotating.current_id}
        assert await data_key.reencrypt(db, rotating) == {}  # nothing left: idempotent
        use_keyring(Keyring.from_text(new_key))
        async with db.session() as session:
            assert (await session.get(Report, report.id)).story == SECRETS["story"]
        with pytest.raises(StartupError) as err:  # the old key alone cannot read them now
            await check_data_key(db, Keyring.from_text(TEST_DATA_KEY))
        assert rotating.current_id in str(err.value)
    finally:
        use_keyring(previous)


async def test_missing_or_wrong_key_refuses_to_start_with_a_clear_message(db, commune, fake,
                                                                          clock):
    with pytest.raises(StartupError) as err:  # no key, even on an empty database
        await check_data_key(db, None)
    assert "TREEM_DATA_KEY" in str(err.value) and "treem keygen" in str(err.value)
    await _seed(db)
    with pytest.raises(StartupError) as err:
        await check_data_key(db, None)
    assert "Cơ sở dữ liệu" in str(err.value) and " / " in str(err.value)
    with pytest.raises(StartupError) as err:  # the bot itself, with another key
        await start_bot(fake, db, clock, TREEM_DATA_KEY=generate_key())
    message = str(err.value)
    assert Keyring.from_text(TEST_DATA_KEY).current_id in message
    assert "TREEM_DATA_KEY" in message and " / " in message
    assert SECRETS["story"] not in message


async def test_register_names_are_encrypted_and_rotation_recomputes_the_duplicate_key(db,
                                                                                      commune):
    from domain.register import register_match_key
    from storage import register as register_store
    from storage.models import RegisterChild, Unit

    name = "Nguyễn Thị Bé Na"
    async with db.session() as session:
        unit = (await session.exec(select(Unit).where(Unit.kind == "commune"))).first()
        session.add(RegisterChild(
            commune_id=unit.id, full_name=name, caregiver="Trần Văn Cha", sex="female",
            match_key=register_match_key(name, 2015, unit.id, digest=keyring().blind_index),
            birth_year=2015, leaves_on=START.date(), groups=["orphan"], created_at=START,
            updated_at=START))
        await session.commit()
    async with db.session() as session:
        raw = (await session.exec(sa.text("SELECT full_name, caregiver FROM register_children")
                                  )).one()
    assert name not in raw[0] and "Trần" not in raw[1] and raw[0].startswith("enc")
    new_key = generate_key()
    rotating = Keyring.from_text(new_key, old=TEST_DATA_KEY)
    previous = use_keyring(rotating)
    try:
        await data_key.reencrypt(db, rotating)
        assert await register_store.recompute_match_keys(db, rotating, batch=1) == 1
        assert await register_store.recompute_match_keys(db, rotating) == 0  # idempotent
        async with db.session() as session:
            found = await register_store.find_by_match_key(
                register_match_key("nguyen thi be na", 2015, unit.id,
                                   digest=rotating.blind_index), session=session)
            assert [child.full_name for child in found] == [name]
    finally:
        use_keyring(previous)
