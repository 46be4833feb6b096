"""The CSV export adds up to `budget`: summed over the rows, held_delta, spent_delta and
granted_delta are the held, spent and granted the budget command reports, for a user's cap
(that user's rows) and for the team pool (every row's held and spent, the pool's grants)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from policykit import ALICE, BOB, PolicyKit

from bot.money import Money
from bot.ports import Usage
from bot.reports.usage import POOL

DELTAS = ("held_delta", "spent_delta", "granted_delta")


async def hold(kit: PolicyKit, job_id: str, user_id: str, amount: str) -> None:
    ledger, scope = kit.services.ledger, ALICE.scope_key
    money, at = Money.usd(amount), kit.clock()
    outcome = await ledger.hold(
        job_id=job_id, scope=scope, user_id=user_id, amount=money, limits=[], at=at
    )
    assert outcome.admitted


async def capture(kit: PolicyKit, job_id: str, amount: str) -> None:
    assert await kit.services.ledger.capture(
        job_id=job_id, amount=Money.usd(amount), at=kit.clock()
    )


async def a_busy_day(kit: PolicyKit) -> None:
    """Holds captured in full and below the hold, released, open; grants, a take-back, a pool
    grant; amounts with sub-cent digits so that nothing adds up by rounding."""
    await kit.admin("caps", action="set", target="pool", amount="20", period="day")
    await hold(kit, "a1", "alice", "0.4020525")
    await capture(kit, "a1", "0.26964")  # below the hold: the whole hold closes
    await hold(kit, "a2", "alice", "0.4020525")
    assert await kit.services.ledger.release(job_id="a2", at=kit.clock(), note="fal failed")
    await hold(kit, "a3", "alice", "0.0024075")  # still in flight
    await hold(kit, "a4", "alice", "0.1500001")
    await capture(kit, "a4", "0")  # charged nothing: still closes the hold
    await hold(kit, "b1", "bob", "0.0216675")
    await capture(kit, "b1", "0.0216675")
    await hold(kit, "b2", "bob", "0.31")  # still in flight
    await kit.admin("grant", who="alice", amount="0.5000003", reason="demo")
    await kit.admin("grant", who="alice", amount="-0.2", reason="too much")
    await kit.admin("grant", who="pool", amount="1.25", reason="sprint")
    await kit.admin("grant", who="bob", amount="0.07", reason="thanks")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def total(rows: list[dict[str, str]], column: str) -> Money:
    return Money.usd(sum((Decimal(r[column]) for r in rows), Decimal(0)))


def as_usage(rows: list[dict[str, str]], grants: list[dict[str, str]]) -> Usage:
    return Usage(
        spent=total(rows, "spent_delta"),
        held=total(rows, "held_delta"),
        granted=total(grants, "granted_delta"),
    )


async def test_the_exports_deltas_sum_to_what_budget_shows(kit: PolicyKit) -> None:
    await a_busy_day(kit)
    reply = await kit.admin("export", period="day")
    assert reply.file is not None
    rows = read(reply.file)
    assert all(r[c] != "" for r in rows for c in DELTAS)  # every closing found its hold

    by_kind = {(r["ref"], r["kind"]): r for r in rows}
    assert by_kind[("a1", "capture")]["held_delta"] == "-0.4020525"  # the whole hold
    assert by_kind[("a1", "capture")]["spent_delta"] == "0.26964"  # what it charged
    assert by_kind[("a1", "capture")]["amount_usd"] == "0.26964"  # kept as it was
    assert by_kind[("a2", "release")]["held_delta"] == "-0.4020525"
    assert by_kind[("a2", "release")]["spent_delta"] == "0"

    alice_rows = [r for r in rows if r["user_id"] == "alice"]
    pool_grants = [r for r in rows if r["user_id"] == POOL]
    [mine, pool] = await kit.services.budgets.status(ALICE.scope_key, "alice", ALICE.roles)
    assert pool.limit.user_id is None
    assert as_usage(alice_rows, alice_rows) == mine.usage
    assert as_usage(rows, pool_grants) == pool.usage
    # The sums are not trivially zero: every kind of row moved them.
    assert mine.usage == Usage(
        spent=Money.usd("0.26964"), held=Money.usd("0.0024075"), granted=Money.usd("0.3000003")
    )
    [bob, _] = await kit.services.budgets.status(ALICE.scope_key, "bob", BOB.roles)
    bob_rows = [r for r in rows if r["user_id"] == "bob"]
    assert as_usage(bob_rows, bob_rows) == bob.usage

    # ...and the budget command says exactly those amounts, for the cap and for the pool.
    fields = dict((await kit.invoke("budget")).fields)
    left = mine.limit.limit - mine.usage.used
    cap = fields["Your daily cap"]
    assert cap.startswith(
        f"{left.room_text()} left of {mine.limit.limit} · {mine.usage.spent.used_text()} spent · "
    )
    assert f"· {mine.usage.held} in flight · {mine.usage.granted} granted ·" in cap
    team = next(value for name, value in fields.items() if "pool" in name)
    used = as_usage(rows, pool_grants)
    assert team.startswith(
        f"{(pool.limit.limit - used.used).room_text()} left of {pool.limit.limit} · "
    )
    shown = f"· {used.spent.used_text()} spent · {used.held.used_text()} in flight · "
    assert shown + f"{used.granted} granted ·" in team
