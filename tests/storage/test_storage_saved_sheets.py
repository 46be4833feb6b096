"""Saved sheets on SQLite and PostgreSQL: unique per (scope, name), replaced only by their saver
or an admin (decided by the database, also when two savers race), deleted likewise, and the
picture's uses counted across names and scopes."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from storage_testkit import T0

from bot.ports import SavedSheet

SCOPE = "discord:G1"


def sheet(name: str = "hero", *, by: str = "alice", sha: str = "a" * 64, **changes) -> SavedSheet:
    base = SavedSheet(SCOPE, name, sha, 1536, 896, None, by, by.title(), T0)
    return replace(base, **changes)


async def test_a_name_is_kept_once_per_scope_and_listed_by_name(storage):
    store = storage.saved_sheets
    assert await store.save(sheet=sheet("zebra"))
    assert await store.save(sheet=sheet("hero", prompt_prefix="Reference sheet: a fox."))
    assert await store.save(sheet=sheet("hero", scope="slack:T1", by="carol"))
    names = [s.name for s in await store.in_scope(scope=SCOPE)]
    assert names == ["hero", "zebra"]
    found = await store.find(scope=SCOPE, name="hero")
    assert found == sheet("hero", prompt_prefix="Reference sheet: a fox.")
    assert await store.find(scope=SCOPE, name="nobody") is None
    assert await store.uses(sha256="a" * 64) == 3
    assert await store.uses(sha256="b" * 64) == 0


async def test_only_the_saver_or_an_admin_replaces_a_name(storage):
    store = storage.saved_sheets
    assert await store.save(sheet=sheet(sha="a" * 64))
    assert not await store.save(sheet=sheet(by="bob", sha="b" * 64))
    assert (await store.find(scope=SCOPE, name="hero")).sha256 == "a" * 64
    assert await store.save(sheet=sheet(sha="c" * 64, width=768, height=448))
    assert (await store.find(scope=SCOPE, name="hero")).width == 768
    assert await store.save(sheet=sheet(by="root", sha="d" * 64), replace_anyones=True)
    stored = await store.find(scope=SCOPE, name="hero")
    assert (stored.sha256, stored.saved_by) == ("d" * 64, "root")


async def test_two_savers_racing_for_a_new_name_one_wins(storage):
    store = storage.saved_sheets
    won = await asyncio.gather(*(store.save(sheet=sheet(by=f"user{n}")) for n in range(6)))
    assert sorted(won) == [False] * 5 + [True]
    winner = await store.find(scope=SCOPE, name="hero")
    assert winner.saved_by == f"user{won.index(True)}"


async def test_delete_by_the_saver_or_anyone_for_an_admin(storage):
    store = storage.saved_sheets
    await store.save(sheet=sheet("hero"))
    await store.save(sheet=sheet("villain"))
    assert await store.delete(scope=SCOPE, name="hero", by="bob") is None
    gone = await store.delete(scope=SCOPE, name="hero", by="alice")
    assert gone is not None and gone.name == "hero"
    assert await store.delete(scope=SCOPE, name="villain", by=None) is not None
    assert await store.in_scope(scope=SCOPE) == []
    assert await store.delete(scope=SCOPE, name="hero", by=None) is None
