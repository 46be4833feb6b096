"""`admin usage` agrees with `budget` and the ledger: videos are counted by how each hold
ended (charged, in flight, released), a refused request counts nowhere, and the team pool's
spend is everyone's, as its cap counts it. The chart reads well for every period: the total
and the pool's cap as lines over time, one labelled bar per user for all time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from policykit import ALICE, BOB, CAROL, VIDEO

from bot.money import Money
from bot.ports import EntryKind
from bot.reports.chart import ChartWindow, draw_chart
from commands.admin_reports import _pool_cap

UTC_ZONE = ZoneInfo("UTC")
CAPTURE = EntryKind.CAPTURE


async def ledger_state(kit) -> None:
    """alice: 2 charged, 1 released; bob: 1 in flight; carol: 1 charged, 1 refused."""
    await kit.admin("caps", action="set", target="pool", amount="20", period="day", reason="q")
    for who, amount in (("alice", "5"), ("carol", "0.5")):
        await kit.admin("caps", action="set", target="user", who=who, amount=amount,
                        period="day", reason="trial")  # fmt: skip
    alice = [(await kit.generate(ALICE)).job_id for _ in range(3)]
    for job_id in alice[:2]:
        await kit.finish(job_id, VIDEO)
    assert await kit.services.ledger.release(job_id=alice[2], at=kit.clock())  # a failed one
    assert (await kit.generate(BOB)).job_id
    carol = (await kit.generate(CAROL)).job_id
    await kit.finish(carol, Money.usd("0.12"))
    refused = await kit.generate(CAROL)  # past carol's cap: no hold, no entry
    assert refused.job_id is None and "cap" in refused.text
    await kit.admin("grant", who="pool", amount="1", reason="bonus")


async def test_usage_counts_and_pool_spend_agree_with_budget_and_the_ledger(kit) -> None:
    await ledger_state(kit)
    entries = await kit.services.ledger.entries(scope=ALICE.scope_key)
    captures = [e for e in entries if e.kind is EntryKind.CAPTURE]
    usage = await kit.admin("usage", period="day")
    budget = await kit.invoke("budget", ALICE)
    users = {row["user_id"]: row for row in usage.data["users"]}
    pool = usage.data["pool"]
    assert sum(row["videos"] for row in users.values()) == pool["videos"] == len(captures) == 3
    assert (users["alice"]["videos"], users["alice"]["released"]) == (2, 1)
    assert (users["bob"]["videos"], users["bob"]["in_flight"]) == (0, 1)
    assert (users["carol"]["videos"], users["carol"]["released"]) == (1, 0)  # refused: nowhere
    pool_cap = next(cap for cap in budget.data["caps"] if cap["team_pool"])
    spent = Money(sum(e.amount.nanos for e in captures)).exact_str()
    assert pool["spent_usd"] == pool_cap["spent_usd"] == usage.data["spent_usd"] == spent
    assert pool["held_usd"] == pool_cap["held_usd"] and pool["granted_usd"] == "1"
    mine = next(cap for cap in budget.data["caps"] if not cap["team_pool"])
    assert users["alice"]["spent_usd"] == mine["spent_usd"]
    lines = usage.text.splitlines()
    assert (
        "<@alice>: $0.80 spent (2 videos) · $0.00 in flight (0 videos) · 1 not charged"
        in (lines[1])
    )
    assert lines[-1] == (
        "Team pool (everyone): $0.92 spent (3 videos) · $0.40 in flight (1 video) "
        "· 1 not charged (released) · $1.00 granted"
    )


async def test_the_chart_shows_the_total_and_the_cap_over_time(kit) -> None:
    await ledger_state(kit)
    entries = await kit.services.ledger.entries(scope=ALICE.scope_key)
    since = _day_start(kit)
    cap = await _pool_cap(_invocation(kit), kit.services, since)
    assert cap == Money.usd("20")  # the pool's daily cap, on a day's chart
    assert await _pool_cap(_invocation(kit), kit.services, None) is None  # not on all time's
    window = ChartWindow(since, since + timedelta(days=1), UTC_ZONE)
    figure = draw_chart(entries, window=window, title="Spend today", cap=cap)
    (axes,) = figure.axes
    shown = r"Spend today: \$0.92 spent of the \$20.00 pool cap"  # \$: no math mode
    assert axes.get_title() == shown
    labels = [line.get_label().replace("\\", "") for line in axes.get_lines()]
    assert "total so far" in labels and "pool cap $20.00" in labels
    total = next(line for line in axes.get_lines() if line.get_label() == "total so far")
    assert axes.get_xlabel() == "time (UTC)"
    assert max(total.get_ydata()) == sum(e.amount.nanos for e in entries if e.kind is CAPTURE)


async def test_all_time_is_one_labelled_bar_per_user_without_a_time_axis(kit) -> None:
    await ledger_state(kit)
    entries = await kit.services.ledger.entries(scope=ALICE.scope_key)
    since = min(e.effective_at for e in entries)
    window = ChartWindow(since, kit.clock() + timedelta(seconds=1), UTC_ZONE, over_time=False)
    figure = draw_chart(entries, window=window, title="Spend all time", names={"alice": "Alice"})
    (axes,) = figure.axes
    assert [t.get_text() for t in axes.get_yticklabels()] == ["carol", "Alice"]  # biggest on top
    assert [t.get_text() for t in axes.texts] == [r"\$0.12", r"\$0.80"]
    assert axes.get_xlabel() == "spent, all time"


async def test_usage_draws_a_chart_for_every_period(kit) -> None:
    await ledger_state(kit)
    for period in ("day", "week", "month", "none"):
        reply = await kit.admin("usage", period=period)
        assert reply.file is not None and reply.file.read_bytes().startswith(b"\x89PNG")


def _day_start(kit) -> datetime:
    return kit.clock().replace(hour=0, minute=0, second=0, microsecond=0)


def _invocation(kit):
    from bot.model import Invocation, Place

    return Invocation("admin usage", ALICE, Place(ALICE.platform, ALICE.scope, "C1"))
