"""The key-value store (Slack installations, OAuth state, dedup claims) on SQLite and PostgreSQL:
expiry on an injected clock, claims won exactly once under races (one engine, and two engines as
two replicas), and migrating a 0002 database to 0003 keeps what it held."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from storage_testkit import T0

from bot.money import Money
from bot.ports import Cap, CapKind
from storage import SqlKeyValueStore, SqlPolicyStore, Storage, open_storage
from storage.engine import create_engine
from storage.migrate import MIGRATIONS
from storage.tables import KEY_LENGTH, ledger_entries

SCOPE = "slack:T0TEAM"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def store_on(storage: Storage, clock: Clock, **options: int) -> SqlKeyValueStore:
    return SqlKeyValueStore(storage.engine, clock, **options)


async def test_saved_values_are_replaced_and_vanish_when_their_ttl_runs_out(storage):
    clock = Clock()
    store = store_on(storage, clock)
    assert await store.load(key="missing") is None
    await store.save(key="install:T1:bot", value='{"token": "a"}')
    await store.save(key="install:T1:bot", value='{"token": "b"}')
    await store.save(key="state:xyz", value="1", ttl_seconds=600)
    assert await store.load(key="install:T1:bot") == '{"token": "b"}'
    clock.advance(599.9)
    assert await store.load(key="state:xyz") == "1"
    clock.advance(0.1)  # exactly at the expiry: gone, as in the memory store
    assert await store.load(key="state:xyz") is None
    assert await store.load(key="install:T1:bot") == '{"token": "b"}'  # no ttl: kept
    # Saving again without a ttl makes a record permanent.
    await store.save(key="state:xyz", value="2")
    clock.advance(10**6)
    assert await store.load(key="state:xyz") == "2"


async def test_a_claim_is_won_once_until_it_expires_and_a_live_one_is_never_taken_over(storage):
    clock = Clock()
    store = store_on(storage, clock)
    assert await store.claim(key="seen:Ev1", value="first", ttl_seconds=3600)
    assert not await store.claim(key="seen:Ev1", value="second", ttl_seconds=3600)
    assert await store.load(key="seen:Ev1") == "first"
    clock.advance(3600)
    assert await store.claim(key="seen:Ev1", value="later", ttl_seconds=60)
    assert await store.load(key="seen:Ev1") == "later"
    assert await store.claim(key="forever")  # no ttl: never claimable again
    clock.advance(10**7)
    assert not await store.claim(key="forever")


async def test_discard_consumes_a_live_key_once_and_not_an_expired_one(storage):
    clock = Clock()
    store = store_on(storage, clock)
    await store.save(key="state:a", value="1", ttl_seconds=600)
    await store.save(key="state:b", value="1", ttl_seconds=600)
    assert await store.discard(key="state:a")
    assert not await store.discard(key="state:a")
    clock.advance(600)
    assert not await store.discard(key="state:b")  # expired: an old OAuth state is refused
    assert await store.claim(key="state:b", ttl_seconds=1)  # and its row is gone


async def test_racing_consumers_of_one_oauth_state_let_exactly_one_through(storage):
    store = store_on(storage, Clock())
    await store.save(key="state:race", value="1", ttl_seconds=600)
    consumed = await asyncio.gather(*(store.discard(key="state:race") for _ in range(30)))
    assert consumed.count(True) == 1


async def test_discard_prefix_removes_exactly_the_keys_that_start_with_it(storage):
    clock = Clock()
    store = store_on(storage, clock)
    keys = ["i:-:T1:bot", "i:-:T1:installer", "i:-:T1:installer:U1", "i:-:T10:bot",
            "i:-:t1:bot", "i:-:TX:bot", "i:-:T1_old", "i:-:T1%:bot"]  # fmt: skip
    for key in keys:
        await store.save(key=key, value="v")
    await store.save(key="i:-:T1:expired", value="v", ttl_seconds=1)
    clock.advance(1)
    # The count is of live keys; the expired row goes too (it no longer matters to anyone).
    assert await store.discard_prefix(prefix="i:-:T1:") == 3
    # Neither case nor SQL wildcards (% and _) widen a prefix.
    assert await store.discard_prefix(prefix="i:-:T_") == 0
    assert await store.discard_prefix(prefix="i:-:T1%") == 1
    left = [key for key in keys if await store.load(key=key) is not None]
    assert left == ["i:-:T10:bot", "i:-:t1:bot", "i:-:TX:bot", "i:-:T1_old"]
    assert not await store.claim(key="i:-:T10:bot")
    assert await store.claim(key="i:-:T1:expired")


async def test_expired_rows_are_swept_as_writes_go_by(storage):
    clock = Clock()
    store = store_on(storage, clock, sweep_every=4)
    for n in range(3):
        assert await store.claim(key=f"seen:{n}", ttl_seconds=5)
    await store.save(key="keep", value="1")
    clock.advance(5)
    assert await rows(storage) == 4  # expired rows are invisible but still there ...
    for n in range(4):  # ... until the fourth write since the last sweep
        await store.save(key="keep", value=str(n))
    assert await rows(storage) == 1
    assert await store.claim(key="seen:new", ttl_seconds=5)
    clock.advance(5)
    assert await store.purge_expired() == 1
    assert await store.load(key="keep") == "3"


async def rows(storage: Storage) -> int:
    async with storage.engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM key_values"))).scalar())


async def test_keys_longer_than_the_column_are_refused_alike_on_both_databases(storage):
    store = store_on(storage, Clock())
    assert await store.claim(key="k" * KEY_LENGTH)
    with pytest.raises(ValueError, match="1 to 512 characters"):
        await store.save(key="k" * (KEY_LENGTH + 1), value="v")
    with pytest.raises(ValueError):
        await store.claim(key="")


async def test_100_concurrent_claims_of_one_key_have_exactly_one_winner(storage):
    clock = Clock()
    store = store_on(storage, clock)
    won = await asyncio.gather(
        *(store.claim(key="seen:Ev-race", value=str(n), ttl_seconds=60) for n in range(100))
    )
    assert won.count(True) == 1
    assert await store.load(key="seen:Ev-race") == str(won.index(True))
    # An expired claim taken over by many at once also goes to exactly one of them.
    clock.advance(60)
    again = await asyncio.gather(
        *(store.claim(key="seen:Ev-race", value=f"r{n}", ttl_seconds=60) for n in range(100))
    )
    assert again.count(True) == 1
    assert await store.load(key="seen:Ev-race") == f"r{again.index(True)}"


async def test_two_replicas_racing_for_the_same_keys_each_win_each_key_once(storage_url: str):
    # Two engines (two pools) on one database, as two replicas receiving one Slack retry each.
    first, second = await open_storage(storage_url), await open_storage(storage_url)
    try:
        clock = Clock()
        replicas = [store_on(first, clock), store_on(second, clock)]
        keys = [f"seen:Ev{n}" for n in range(25)]
        attempts = [(replica, key) for key in keys for replica in replicas for _ in range(3)]
        won = await asyncio.gather(
            *(replica.claim(key=key, ttl_seconds=60) for replica, key in attempts)
        )
        winners = [key for (_, key), got in zip(attempts, won, strict=True) if got]
        assert sorted(winners) == sorted(keys)
        # What one replica saved, the other reads (installations found after any restart).
        await replicas[0].save(key="i:-:T1:bot", value="token-json")
        assert await replicas[1].load(key="i:-:T1:bot") == "token-json"
    finally:
        await first.close()
        await second.close()


async def test_0003_follows_0002_and_migrating_a_0002_database_keeps_its_data(storage_url: str):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_revision("0003_keyvalue").down_revision == "0002"
    engine = create_engine(storage_url)

    def to_0002(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")

    async with engine.begin() as connection:
        await connection.run_sync(to_0002)
    # The hold as a 0002 database keeps it (today's ledger also writes balances, 0008).
    hold = {"kind": "hold", "scope": SCOPE, "user_id": "u", "ref": "old", "amount": 5}
    async with engine.begin() as connection:
        await connection.execute(ledger_entries.insert(), {**hold, "effective_at": T0,
                                                           "created_at": T0})  # fmt: skip
    await SqlPolicyStore(engine).set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money(50),
                                         "month"), actor="root", reason="", at=T0)  # fmt: skip
    await engine.dispose()
    opened = await open_storage(storage_url)  # upgrades to head
    try:
        assert await opened.ledger.open_holds() == ["old"]
        assert await opened.ledger.balance_drift() == []  # 0008 back-filled the hold
        assert [cap.amount for cap in await opened.policy.caps(scope=SCOPE)] == [Money(50)]
        assert await opened.keyvalue.claim(key="seen:first", ttl_seconds=60)
        assert not await opened.keyvalue.claim(key="seen:first", ttl_seconds=60)
    finally:
        await opened.close()
