"""SQL per job, command to delivery, on SQLite: every BEGIN IMMEDIATE opens a write; the policy
is read once by the command and once for the delivery's "budget left", each in one statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.events import Succeeded
from bot.simulated_fal import SimulatedFal
from tests.runner.runnerkit import RecordingPoster, generate, paid_core

# Before: 50 statements, 20 BEGIN IMMEDIATE (10 of them only to read: the policy 6 times as
# BEGIN + 2 SELECTs, the channel list and presets, the usage twice).
MAX_IMMEDIATE = 2  # the hold and the capture; every other write is one statement
MAX_STATEMENTS = 22
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


@contextmanager
def recorded(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)


def transactions(seen: list[str]) -> list[list[str]]:
    """The statements from each BEGIN IMMEDIATE to the next (autocommit reads after a commit
    land in the one before them, which can only hide a read-only one, never invent it)."""
    runs: list[list[str]] = []
    for statement in seen:
        if statement == "BEGIN IMMEDIATE":
            runs.append([])
        elif runs:
            runs[-1].append(statement)
    return runs


async def test_one_job_begins_immediate_only_to_write_and_reads_its_policy_twice(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        with recorded(core.storage.engine) as seen:
            job_id = await generate(core)
            assert isinstance(await asyncio.wait_for(poster.ending(job_id), 20), Succeeded)
            await core.supervisor.wait(job_id)
    read_only = [run for run in transactions(seen) if not any(s.startswith(WRITES) for s in run)]
    assert read_only == [], read_only
    assert seen.count("BEGIN IMMEDIATE") <= MAX_IMMEDIATE, seen
    assert len(seen) <= MAX_STATEMENTS, seen
    policy = [s for s in seen if s.startswith("SELECT") and "FROM budget_caps" in s]
    assert len(policy) == 2 and all("FROM scope_rules" in s for s in policy), policy
    # The alert after the hold and the delivery's "budget left": one statement each.
    usage = [s for s in seen if s.startswith("SELECT coalesce(sum(")]
    assert len(usage) == 2, usage
