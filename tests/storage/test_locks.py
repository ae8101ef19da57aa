"""PostgreSQL advisory locks: a stopped holder frees its locks at once, even when the engine
(and its connection pool) lives on, as it does when an application is restarted in-process."""

from __future__ import annotations

import pytest

from storage.locks import AdvisoryLocks


async def test_closing_the_holder_frees_its_lock_for_another_connection(db):
    if db.backend != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    first, second = AdvisoryLocks(db), AdvisoryLocks(db)
    await first.connect()
    await second.connect()
    try:
        key = first.key("scheduler")
        assert await first.try_lock(key)
        assert not await second.try_lock(key)
        await first.close()
        # The pool may hand the closed holder's connection to a new user: it must not
        # carry the lock with it.
        third = AdvisoryLocks(db)
        await third.connect()
        assert await second.try_lock(key)
        assert not await third.try_lock(key)
        await third.close()
    finally:
        await first.close()
        await second.close()
