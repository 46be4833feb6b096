"""Fixtures for the Discord adapter tests (helpers live in discordkit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discordkit import Kit, kit_for


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    async with kit_for(tmp_path) as kit:
        yield kit
