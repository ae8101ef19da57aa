"""Fixtures several end-to-end modules share."""

from __future__ import annotations

import pytest

from tests.e2e.flows import joined


@pytest.fixture
async def officer(bot):
    """Hùng, an officer of the example commune, joined through a real invitation."""
    return await joined(bot, 2001, "Hùng", "Người làm công tác bảo vệ trẻ em")
