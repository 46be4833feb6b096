"""Group-committed holds (storage.admission): concurrent holds of a scope decided in one batch
must come out exactly as if each ran alone, in arrival order, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from storage_testkit import T0, require_postgres, throwaway_schema

from bot.money import Money
from bot.ports import HoldOutcome, Limit, Throttle, Throttled, Usage
from storage import Storage, admission, open_storage
from storage.admission import Admissions, Request

# PostgreSQL's advisory locks are per database, not per schema: a scope of this run's own keeps
# parallel runs of the suite (throw-away schemas, one server) from queueing on each other.
SCOPE = f"discord:batch-{uuid.uuid4().hex[:8]}"


def pool(room: int) -> Limit:
    return Limit("the team pool", SCOPE, None, Money(room), None, None)


def mine(room: int, user: str = "u1") -> Limit:
    return Limit("your cap", SCOPE, user, Money(room), T0, None)


async def hold(storage: Storage, job_id: str, amount: int, *limits: Limit, user="u1", **extra):
    return await storage.ledger.hold(
        job_id=job_id, scope=SCOPE, user_id=user, amount=Money(amount), limits=limits, at=T0,
        **extra,
    )  # fmt: skip


async def test_holds_in_one_batch_are_decided_in_arrival_order(storage: Storage):
    amounts = [40, 30, 50, 20, 10, 5]  # alone, in this order: 40, 30 fit; 50 not; 20, 10 fit
    outcomes = await asyncio.gather(
        *(hold(storage, f"j{n}", a, pool(100), user=f"u{n}") for n, a in enumerate(amounts))
    )
    assert [o.admitted for o in outcomes] == [True, True, False, True, True, False]
    assert outcomes[2].usage == Usage(spent=Money(0), held=Money(70), granted=Money(0))
    assert outcomes[5].usage == Usage(spent=Money(0), held=Money(100), granted=Money(0))
    assert sorted(await storage.ledger.open_holds()) == ["j0", "j1", "j3", "j4"]


async def test_a_batch_counts_a_users_earlier_hold_against_that_user_only(storage: Storage):
    await storage.ledger.grant(scope=SCOPE, user_id="u2", amount=Money(5), at=T0, actor="a",
                               note="")  # fmt: skip
    outcomes = await asyncio.gather(
        hold(storage, "a1", 6, mine(10), pool(100)),
        hold(storage, "b1", 6, mine(10, "u2"), pool(100), user="u2"),
        hold(storage, "a2", 6, mine(10), pool(100)),  # u1 has 4 left
        hold(storage, "b2", 6, mine(10, "u2"), pool(100), user="u2"),  # u2 has 4 + 5 granted
    )
    assert [o.admitted for o in outcomes] == [True, True, False, True]
    assert outcomes[2].blocked_by == mine(10)
    assert outcomes[2].usage == Usage(spent=Money(0), held=Money(6), granted=Money(0))


async def test_a_job_twice_in_one_batch_is_held_once(storage: Storage):
    first, again = await asyncio.gather(hold(storage, "j", 5, pool(9)), hold(storage, "j", 5))
    assert first == HoldOutcome(admitted=True) and again == HoldOutcome(True, replayed=True)
    assert (await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)).held == Money(5)


async def test_throttles_count_the_holds_admitted_earlier_in_the_batch(storage: Storage):
    throttle = Throttle(max_open=5, max_recent=3, recent_since=T0 - timedelta(minutes=1))
    outcomes = await asyncio.gather(
        *(hold(storage, f"r{n}", 1, throttle=throttle) for n in range(5)),
        hold(storage, "other", 1, throttle=throttle, user="u2"),
    )
    assert [o.admitted for o in outcomes] == [True, True, True, False, False, True]
    assert (outcomes[3].throttled, outcomes[3].count, outcomes[3].oldest_recent) == (
        Throttled.RATE,
        3,
        T0,
    )
    in_flight = Throttle(max_open=3)
    refused = await asyncio.gather(hold(storage, "f1", 1, throttle=in_flight))
    assert (refused[0].throttled, refused[0].count) == (Throttled.IN_FLIGHT, 3)


async def test_a_hold_the_database_refuses_fails_alone(storage: Storage):
    too_big = 2**63  # beyond the BIGINT amount column: the insert itself fails
    outcomes = await asyncio.gather(
        hold(storage, "ok1", 5), hold(storage, "bad", too_big), hold(storage, "ok2", 5),
        return_exceptions=True,
    )  # fmt: skip
    assert outcomes[0] == outcomes[2] == HoldOutcome(admitted=True)
    assert isinstance(outcomes[1], Exception)
    assert sorted(await storage.ledger.open_holds()) == ["ok1", "ok2"]


async def test_scopes_are_batched_apart_and_each_keeps_its_own_room(storage: Storage):
    async def on(scope: str, n: int) -> bool:
        scope = f"{SCOPE}-{scope}"
        cap = Limit("pool", scope, None, Money(30), None, None)
        outcome = await storage.ledger.hold(
            job_id=f"{scope}-{n}", scope=scope, user_id="u", amount=Money(10), limits=[cap], at=T0
        )
        return outcome.admitted

    admitted = await asyncio.gather(*(on(scope, n) for n in range(6) for scope in ("s1", "s2")))
    assert sum(admitted) == 6
    for scope in (f"{SCOPE}-s1", f"{SCOPE}-s2"):
        assert (await storage.ledger.usage(scope=scope, user_id=None, since=None)).held == Money(30)


# --- the queueing itself, without a database --------------------------------------------------


class GatedAdmit:
    """A stand-in for admit_batch that records each batch and waits for the test to let it go."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.fail_with: Exception | None = None

    async def __call__(self, _engine, batch) -> list[HoldOutcome]:
        self.batches.append([r.job_id for r in batch])
        self.started.set()
        await self.go.wait()
        if self.fail_with is not None and len(batch) > 1:
            raise self.fail_with
        if self.fail_with is not None and batch[0].job_id == "bad":
            raise self.fail_with
        return [HoldOutcome(admitted=True) for _ in batch]


def request(job_id: str) -> Request:
    future = asyncio.get_running_loop().create_future()
    return Request(job_id, SCOPE, "u", Money(1), (), T0, None, future)


async def test_holds_arriving_during_a_batch_wait_for_the_next_one_together():
    gate = GatedAdmit()
    admissions = Admissions(None, gate)  # type: ignore[arg-type]
    first = asyncio.create_task(admissions.hold(request("a")))
    await asyncio.wait_for(gate.started.wait(), 5)
    later = [asyncio.create_task(admissions.hold(request(n))) for n in ("b", "c", "d")]
    gone = request("gone")
    gave_up = asyncio.create_task(admissions.hold(gone))
    gone.future.cancel()  # its caller gives up while it waits in the queue
    # The tasks queue their holds before the gated batch resumes (tasks run in FIFO order).
    gate.go.set()
    assert await asyncio.wait_for(asyncio.gather(first, *later), 5) == [HoldOutcome(True)] * 4
    assert gate.batches == [["a"], ["b", "c", "d"]]  # the cancelled one was never decided
    with pytest.raises(asyncio.CancelledError):
        await gave_up


async def test_a_failing_batch_is_retried_one_by_one_and_only_the_culprit_fails():
    gate = GatedAdmit()
    gate.fail_with = ValueError("cannot store that")
    gate.go.set()
    admissions = Admissions(None, gate)  # type: ignore[arg-type]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(admissions.hold(request(n)) for n in ("x", "bad", "y")),
                       return_exceptions=True),
        5,
    )  # fmt: skip
    assert outcomes[0] == outcomes[2] == HoldOutcome(True)
    assert isinstance(outcomes[1], ValueError)
    assert gate.batches == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]


async def test_a_caller_giving_up_does_not_stop_the_batch_of_the_others():
    gate = GatedAdmit()
    admissions = Admissions(None, gate)  # type: ignore[arg-type]
    impatient = asyncio.create_task(admissions.hold(request("a")))
    patient = asyncio.create_task(admissions.hold(request("b")))
    await asyncio.wait_for(gate.started.wait(), 5)
    impatient.cancel()
    gate.go.set()
    assert await asyncio.wait_for(patient, 5) == HoldOutcome(True)
    with pytest.raises(asyncio.CancelledError):
        await impatient


@pytest.mark.postgres
async def test_a_job_another_replica_held_meanwhile_under_another_scope_is_replayed(
    monkeypatch: pytest.MonkeyPatch,
):
    # Only PostgreSQL lets two writers interleave (per-scope locks); SQLite serializes them all.
    await require_postgres()
    async with throwaway_schema() as url:
        ours, theirs = await open_storage(url), await open_storage(url)
        try:
            read = admission._read_tallies

            async def read_then_lose_the_race(connection, batch):
                tallies = await read(connection, batch)
                if batch[0].scope == SCOPE and not raced:
                    # The other replica commits the same job right after our read.
                    raced.append(await theirs.ledger.hold(
                        job_id="j", scope=f"{SCOPE}-elsewhere", user_id="u1", amount=Money(1),
                        limits=(), at=T0,
                    ))  # fmt: skip
                return tallies

            raced: list[HoldOutcome] = []
            monkeypatch.setattr(admission, "_read_tallies", read_then_lose_the_race)
            both = asyncio.gather(hold(ours, "j", 5), hold(ours, "k", 5))
            mine, other = await asyncio.wait_for(both, 10)
            assert raced == [HoldOutcome(admitted=True)]
            assert mine == HoldOutcome(admitted=True, replayed=True)
            assert other == HoldOutcome(admitted=True)
            assert sorted(await ours.ledger.open_holds()) == ["j", "k"]
            elsewhere = await ours.ledger.entries(scope=f"{SCOPE}-elsewhere")
            assert [e.ref for e in elsewhere] == ["j"]
        finally:
            await ours.close()
            await theirs.close()


async def test_close_cancels_the_drainers_and_their_waiting_holds():
    gate = GatedAdmit()
    admissions = Admissions(None, gate)  # type: ignore[arg-type]
    running = asyncio.create_task(admissions.hold(request("a")))
    await asyncio.wait_for(gate.started.wait(), 5)
    queued = asyncio.create_task(admissions.hold(request("b")))
    await asyncio.sleep(0)  # let the second hold reach the queue
    await asyncio.wait_for(admissions.close(), 5)
    for hold in (running, queued):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(hold, 5)
    assert not admissions._drainers, "a drainer outlived close()"
