"""Policy and ledger reads: one statement each, no write lock (no BEGIN IMMEDIATE on SQLite);
a scope's caps and rules come from one statement, every cap's usage from one statement, with
the same answers as before; writes still begin IMMEDIATE."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from storage_testkit import DAY, T0, statements, write_lock_held_elsewhere

from bot.money import Money
from bot.ports import Cap, CapKind, ChannelAccess, Rule, Usage
from storage import Storage
from storage.tables import scope_rules

SCOPE = "discord:guild-1"


async def some_policy(storage: Storage) -> None:
    store = storage.policy
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money(900), "month"),
                        actor="root", reason="", at=T0)  # fmt: skip
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.USER, "bob", None, "day"),
                        actor="root", reason="", at=T0 + timedelta(hours=1))  # fmt: skip
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.DEFAULT, "", Money(100), "week"),
                        actor="root", reason="", at=T0)  # fmt: skip
    await store.set_cap(scope="slack:T1", cap=Cap(CapKind.DEFAULT, "", Money(5), "day"),
                        actor="x", reason="", at=T0)  # fmt: skip
    await store.set_rule(scope=SCOPE, rule=Rule.MAX_IN_FLIGHT, value="2", actor="r", reason="",
                         at=T0)  # fmt: skip
    await store.set_rule(scope=SCOPE, rule=Rule.TIMEZONE, value="Europe/Paris", actor="r",
                         reason="", at=T0)  # fmt: skip
    await store.set_rule(scope="slack:T1", rule=Rule.PER_MINUTE, value="9", actor="r",
                         reason="", at=T0)  # fmt: skip


async def test_caps_and_rules_are_read_in_one_statement_and_agree(storage: Storage):
    await some_policy(storage)
    async with storage.engine.begin() as connection:  # a rule a newer version knows
        await connection.execute(scope_rules.insert().values(
            scope=SCOPE, name="from_the_future", value="x", set_by=None, set_at=T0,
        ))  # fmt: skip
    with statements(storage) as seen:
        caps, rules = await asyncio.gather(
            storage.policy.caps(scope=SCOPE), storage.policy.rules(scope=SCOPE)
        )
    assert [s for s in seen if "budget_caps" in s or "scope_rules" in s] == seen
    assert len(seen) == 1 and "budget_caps" in seen[0] and "scope_rules" in seen[0]
    assert [(c.kind, c.subject, c.amount, c.period, c.set_by, c.set_at) for c in caps] == [
        (CapKind.DEFAULT, "", Money(100), "week", "root", T0),
        (CapKind.POOL, "", Money(900), "month", "root", T0),
        (CapKind.USER, "bob", None, "day", "root", T0 + timedelta(hours=1)),
    ]
    assert rules == {Rule.MAX_IN_FLIGHT: "2", Rule.TIMEZONE: "Europe/Paris"}
    assert await storage.policy.caps(scope="discord:empty") == []
    assert await storage.policy.rules(scope="discord:empty") == {}


async def test_an_admissions_policy_channel_list_and_presets_come_from_one_statement(
    storage: Storage,
):
    await some_policy(storage)
    store = storage.policy
    listed = [(SCOPE, "C1", ChannelAccess.ALLOW), (SCOPE, "C2", ChannelAccess.DENY)]
    for scope, channel, access in [*listed, ("slack:T1", "C9", ChannelAccess.DENY)]:
        await store.set_channel(
            scope=scope, channel_id=channel, access=access, actor="r", reason="", at=T0
        )
    presets = [("C1", "num_frames", "49"), ("C1", "resolution", "720p"), ("C2", "num_frames", "97")]
    for channel, option, value in presets:
        await store.set_channel_default(
            scope=SCOPE, channel_id=channel, option=option, value=value, actor="r", reason="", at=T0
        )
    with statements(storage) as seen:
        read = await store.read(scope=SCOPE, channel_list=True, presets_of="C1")
    assert len(seen) == 1, seen
    every_table = ("budget_caps", "scope_rules", "channel_access", "channel_defaults")
    assert all(f"FROM {table}" in seen[0] for table in every_table), seen
    assert list(read.caps) == await store.caps(scope=SCOPE)
    assert dict(read.rules) == await store.rules(scope=SCOPE)
    assert read.channels == await store.channels(scope=SCOPE)
    assert read.channels == {"C1": ChannelAccess.ALLOW, "C2": ChannelAccess.DENY}
    assert read.presets == await store.channel_defaults(scope=SCOPE, channel_id="C1")
    assert read.presets == {"num_frames": "49", "resolution": "720p"}
    with statements(storage) as seen:
        policy_only = await store.read(scope=SCOPE)
        with_presets = await store.read(scope=SCOPE, presets_of="C2")
        with_list = await store.read(scope=SCOPE, channel_list=True)
    assert len(seen) == 3 and not any("channel_" in s for s in seen[:1]), seen
    assert "channel_access" not in seen[1] and "channel_defaults" not in seen[2], seen
    assert (policy_only.channels, policy_only.presets) == (None, None)
    assert with_presets.presets == {"num_frames": "97"} and with_presets.channels is None
    assert with_list.channels == read.channels and with_list.presets is None
    assert policy_only.caps == with_presets.caps == with_list.caps == read.caps
    empty = await store.read(scope="discord:empty", channel_list=True, presets_of="C1")
    assert (empty.caps, dict(empty.rules), empty.channels, empty.presets) == ((), {}, {}, {})


async def test_policy_and_ledger_reads_go_on_while_another_writer_holds_the_lock(
    on_sqlite: Storage, sqlite_file: Path
):
    await some_policy(on_sqlite)
    await on_sqlite.policy.set_channel(scope=SCOPE, channel_id="C1", access=ChannelAccess.ALLOW,
                                       actor="r", reason="", at=T0)  # fmt: skip
    await on_sqlite.ledger.hold(job_id="j1", scope=SCOPE, user_id="u1", amount=Money(5),
                                limits=(), at=T0)  # fmt: skip
    ledger, store = on_sqlite.ledger, on_sqlite.policy
    with write_lock_held_elsewhere(sqlite_file), statements(on_sqlite) as seen:
        # With BEGIN IMMEDIATE each of these waited up to the 30 s busy timeout.
        async with asyncio.timeout(5):
            assert len(await store.caps(scope=SCOPE)) == 3
            assert await store.channels(scope=SCOPE) == {"C1": ChannelAccess.ALLOW}
            assert await store.channel_defaults(scope=SCOPE, channel_id="C1") == {}
            assert len(await store.audit(scope=SCOPE)) == 6
            assert (await ledger.usage(scope=SCOPE, user_id="u1", since=T0)).held == Money(5)
            windows = [("u1", T0), (None, None)]
            assert [u.held for u in await ledger.usages(scope=SCOPE, windows=windows)] == [
                Money(5), Money(5),
            ]  # fmt: skip
            assert len(await ledger.entries(scope=SCOPE)) == 1
            assert await ledger.open_holds() == ["j1"]
    assert len(seen) == 8 and not [s for s in seen if s.startswith("BEGIN")], seen


async def test_policy_and_ledger_writes_still_begin_immediate(on_sqlite: Storage):
    store, ledger = on_sqlite.policy, on_sqlite.ledger
    writes = [
        store.set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money(9), "day"), actor="r",
                      reason="", at=T0),
        store.set_rule(scope=SCOPE, rule=Rule.PER_MINUTE, value="3", actor="r", reason="",
                       at=T0),
        store.first_alert(scope=SCOPE, cap="pool", user_id="", period_start=T0, at=T0),
        ledger.grant(scope=SCOPE, user_id=None, amount=Money(3), at=T0, actor="r", note=""),
        ledger.hold(job_id="j1", scope=SCOPE, user_id="u1", amount=Money(1), limits=(), at=T0),
        ledger.capture(job_id="j1", amount=Money(1), at=T0),
    ]  # fmt: skip
    for write in writes:
        with statements(on_sqlite) as seen:
            await write
        assert seen[0] == "BEGIN IMMEDIATE", seen


async def ledger_history(storage: Storage) -> None:
    """Captures, open and closed holds, user and pool grants, an adjust, in and out of a day."""
    ledger = storage.ledger

    async def hold(job: str, user: str, amount: int, at=T0) -> None:
        assert (await ledger.hold(job_id=job, scope=SCOPE, user_id=user, amount=Money(amount),
                                  limits=(), at=at)).admitted  # fmt: skip

    await hold("old", "ann", 70, at=T0 - 3 * DAY)
    await ledger.capture(job_id="old", amount=Money(60), at=T0)
    await hold("a1", "ann", 40)
    await ledger.capture(job_id="a1", amount=Money(25), at=T0)
    await hold("a2", "ann", 30)  # stays open
    await hold("b1", "bob", 50)
    await ledger.release(job_id="b1", at=T0)
    await hold("b2", "bob", 20, at=T0 + timedelta(hours=2))
    for user, amount, at in (("ann", 15, T0), (None, 100, T0), (None, -30, T0 - 2 * DAY),
                             ("bob", -5, T0), ("cy", 7, T0 - 5 * DAY)):  # fmt: skip
        await ledger.grant(scope=SCOPE, user_id=user, amount=Money(amount),
                           at=at, actor="root", note="")  # fmt: skip
    await ledger.hold(job_id="elsewhere", scope="slack:T1", user_id="ann", amount=Money(11),
                      limits=(), at=T0)  # fmt: skip


WINDOWS: list[list[tuple[str | None, Any]]] = [
    [("ann", T0), (None, T0)],  # the usual: the user's day and the pool's
    [("ann", T0 - DAY), ("ann", T0 - 7 * DAY), ("bob", T0 + timedelta(hours=1))],
    [("bob", None), (None, None), ("cy", T0 - 6 * DAY), ("nobody", T0)],
    [(None, T0 - 4 * DAY), (None, T0)],
    [("ann", T0)],
]


@pytest.mark.parametrize("windows", WINDOWS)
async def test_every_caps_usage_comes_from_one_statement_equal_to_each_usage(
    storage: Storage, windows: list[tuple[str | None, Any]]
):
    await ledger_history(storage)
    expected = [
        await storage.ledger.usage(scope=SCOPE, user_id=user, since=since)
        for user, since in windows
    ]
    with statements(storage) as seen:
        assert await storage.ledger.usages(scope=SCOPE, windows=windows) == expected
    assert len(seen) == 1, seen
    assert any(usage != Usage(Money(0), Money(0), Money(0)) for usage in expected)


async def test_the_usages_of_no_window_need_no_statement(storage: Storage):
    with statements(storage) as seen:
        assert await storage.ledger.usages(scope=SCOPE, windows=[]) == []
    assert seen == []
