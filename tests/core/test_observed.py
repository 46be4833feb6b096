"""`bot.jobs.observed`: each stored state change is logged once and told to the observer with
the state it left; writes that change no state, lost races and replays are not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.jobs.observed import ObservedJobs, ObservedLedger
from bot.jobs.record import Job, JobState, Origin
from bot.model import Platform
from bot.money import Money
from bot.ports import EntryKind
from bot.request import GenerationRequest
from storage import Storage, open_storage

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
PRICE = Money(2_407_500)


class Recorder:
    def __init__(self) -> None:
        self.moves: list[tuple[str, JobState | None, JobState]] = []
        self.money: list[tuple[EntryKind, Money]] = []

    def job_changed(self, job: Job, before: JobState | None) -> None:
        self.moves.append((job.id, before, job.state))

    def money_moved(self, kind: EntryKind, amount: Money) -> None:
        self.money.append((kind, amount))


def a_job(job_id: str) -> Job:
    origin = Origin(platform=Platform.SLACK, scope="T1", channel_id="C1", user_id="U1")
    return Job(id=job_id, origin=origin, request=GenerationRequest(prompt="a fox"),
               quoted_megapixels=1, quoted_nanos=PRICE.nanos, created_at=T0,
               updated_at=T0)  # fmt: skip


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()


async def test_each_transition_once_with_the_state_it_left(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.jobs.transitions")
    seen = Recorder()
    jobs = ObservedJobs(storage.jobs, seen)
    job = a_job("j1")
    await jobs.insert(job)
    held = job.advance(JobState.HELD, T0, held_at=T0)
    assert await jobs.replace(held)
    assert await jobs.replace(held.with_changes(T0, sheet_url="https://x"))  # no new state
    assert not await jobs.replace(job.advance(JobState.REJECTED, T0))  # a stale copy loses
    fresh = await jobs.get("j1")
    assert fresh is not None
    assert await jobs.replace(fresh.advance(JobState.FAILED, T0 + timedelta(seconds=1)))
    assert seen.moves == [
        ("j1", None, JobState.RECEIVED),
        ("j1", JobState.RECEIVED, JobState.HELD),
        ("j1", JobState.HELD, JobState.FAILED),
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.jobs.transitions"]
    assert lines == [
        "job j1: new -> received (quoted $0.0024075)",
        "job j1: received -> held (quoted $0.0024075)",
        "job j1: held -> failed (quoted $0.0024075)",
    ]
    assert caplog.records[-1].job_id == "j1"  # type: ignore[attr-defined]  # for JSON logs


async def test_money_is_told_once_per_entry_written(storage: Storage) -> None:
    seen = Recorder()
    jobs = ObservedJobs(storage.jobs)
    ledger = ObservedLedger(storage.ledger, jobs, seen)
    for job_id in ("j1", "j2"):
        await jobs.insert(a_job(job_id))
        hold = {"job_id": job_id, "scope": "slack:T1", "user_id": "U1", "amount": PRICE}
        assert (await ledger.hold(**hold, limits=[], at=T0)).admitted
        assert (await ledger.hold(**hold, limits=[], at=T0)).replayed  # nothing new
    assert await ledger.capture(job_id="j1", amount=Money(1_000), at=T0)
    assert not await ledger.release(job_id="j1", at=T0)  # already closed
    assert await ledger.release(job_id="j2", at=T0)
    assert seen.money == [
        (EntryKind.HOLD, PRICE),
        (EntryKind.HOLD, PRICE),
        (EntryKind.CAPTURE, Money(1_000)),
        (EntryKind.RELEASE, PRICE),  # the hold it closed: the job's quoted price
    ]
