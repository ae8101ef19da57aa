"""Fixtures several end-to-end modules share."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_ID
from tests.e2e.flows import create_invite, join


@pytest.fixture
async def officer(bot):
    """Hùng, an officer of the example commune, joined through a real invitation."""
    root = bot.user(ADMIN_ID, "Mai")
    person = bot.user(2001, "Hùng")
    await join(person, await create_invite(root, "Người làm công tác bảo vệ trẻ em"))
    await person.settle()
    return person
