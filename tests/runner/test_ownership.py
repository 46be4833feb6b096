"""The lease keeper (`bot.jobs.ownership.Ownership`) on real SQLite leases: renewals keep what is
still this replica's, a job taken over is let go at the next renewal, a database that stops
answering makes it let go before another replica could claim, and close hands back once.
Time is an injected monotonic clock; renewals are called directly (no waiting)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.jobs.ownership import Ownership
from bot.settings import load_settings
from storage import SqlJobLeases, Storage, open_storage

SECONDS = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Unreachable(SqlJobLeases):
    """The real leases, until `down` is set: then every renewal fails as a lost connection."""

    down = False

    async def renew(self, *, owner: str, job_ids: Collection[str], seconds: float) -> set[str]:
        if self.down:
            raise ConnectionRefusedError("database unreachable")
        return await super().renew(owner=owner, job_ids=job_ids, seconds=seconds)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()


def keeper(leases: SqlJobLeases, lost: list[str], clock: Clock, owner: str = "a") -> Ownership:
    return Ownership(leases, owner=owner, seconds=SECONDS, on_lost=lost.append, monotonic=clock)


async def test_a_job_taken_over_by_another_replica_is_let_go_at_the_next_renewal(storage):
    lost: list[str] = []
    mine = keeper(storage.leases, lost, Clock())
    assert await mine.claim("j1") and await mine.claim("j2")
    await mine.renew()
    assert lost == [] and mine.held == {"j1", "j2"}
    # j2's lease ran out (as if this replica had stalled) and replica b claimed it.
    await storage.leases.hand_back(owner="a")
    assert await storage.leases.claim(job_id="j2", owner="b", seconds=SECONDS)
    await mine.renew()
    assert lost == ["j2"] and mine.held == {"j1"}  # j1 renewed: nobody had taken it
    await mine.close(hand_back=False)


async def test_an_unreachable_database_lets_go_before_the_lease_could_run_out(storage):
    leases, lost, clock = Unreachable(storage.engine), [], Clock()
    mine = keeper(leases, lost, clock)
    assert await mine.claim("j1")
    clock.now += SECONDS / 3
    await mine.renew()  # renewed at t0 + 10 s
    leases.down = True
    clock.now += SECONDS / 3
    await mine.renew()  # 10 s without a renewal: the lease certainly holds
    assert lost == [] and mine.held == {"j1"}
    clock.now += SECONDS / 3
    await mine.renew()  # 20 s: a third of the lease is left; stop before anyone may claim
    assert lost == ["j1"] and mine.held == frozenset()
    await mine.close(hand_back=False)


async def test_close_hands_back_once_and_then_claims_nothing(storage):
    lost: list[str] = []
    mine = keeper(storage.leases, lost, Clock())
    assert await mine.claim("j1")
    assert not await storage.leases.claim(job_id="j1", owner="b", seconds=SECONDS)
    await mine.close()
    assert await storage.leases.claim(job_id="j1", owner="b", seconds=SECONDS)  # at once
    await mine.close()  # a second close hands back nothing (b's lease stays b's)
    assert not await storage.leases.claim(job_id="j1", owner="c", seconds=SECONDS)
    assert not await mine.claim("j2")
    assert lost == []


async def test_release_ends_the_lease_and_the_renewals_of_that_job(storage):
    lost: list[str] = []
    mine = keeper(storage.leases, lost, Clock())
    assert await mine.claim("j1")
    await mine.release("j1")
    assert mine.held == frozenset()
    assert await storage.leases.claim(job_id="j1", owner="b", seconds=SECONDS)
    await mine.renew()
    assert lost == []
    await mine.close(hand_back=False)


async def test_a_job_no_longer_driven_here_is_not_renewed(storage):
    lost: list[str] = []
    driving = {"j1", "j2"}
    mine = Ownership(
        storage.leases, owner="a", seconds=SECONDS, on_lost=lost.append, driving=lambda: driving
    )
    assert await mine.claim("j1") and await mine.claim("j2")
    driving.discard("j2")  # its driver ended without releasing (an error on its way out)
    await mine.renew()
    assert mine.held == {"j1"} and lost == []
    await mine.close()


async def test_a_stopping_replica_claims_nothing_more(storage):
    mine = keeper(storage.leases, [], Clock())
    mine.stop_claiming()
    assert not await mine.claim("j1")
    assert await storage.leases.claim(job_id="j1", owner="b", seconds=SECONDS)
    await mine.close()


def test_the_replica_settings_come_from_the_environment_within_their_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = load_settings(_env_file=None)
    assert defaults.job_lease_seconds == 30
    first, second = defaults.new_owner_id(), defaults.new_owner_id()
    assert first != second and first.count(":") == 2  # hostname:pid:suffix, one per core
    monkeypatch.setenv("LTXBOT_REPLICA_ID", "replica-1")
    monkeypatch.setenv("LTXBOT_JOB_LEASE_SECONDS", "5")
    named = load_settings(_env_file=None)
    assert (named.new_owner_id(), named.job_lease_seconds) == ("replica-1", 5)
    for outside in ("1", "601", "soon"):
        monkeypatch.setenv("LTXBOT_JOB_LEASE_SECONDS", outside)
        with pytest.raises(ConfigurationError, match="setting LTXBOT_JOB_LEASE_SECONDS"):
            load_settings(_env_file=None)
