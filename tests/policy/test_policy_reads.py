"""A command reads its scope's caps and rules once and decides everything by that one read; the
next command reads afresh, so an admin's change (on this replica or another) applies to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from policykit import ALICE, PolicyKit
from sqlalchemy import event

from bot.model import ButtonAction
from bot.money import Money
from bot.ports import Cap, CapKind, Rule
from storage import Storage, open_storage
from tests.policy.conftest import kit_on
from tests.storage.storage_testkit import require_postgres, throwaway_schema

SCOPE = ALICE.scope_key


@contextmanager
def policy_reads(kit: PolicyKit) -> Iterator[list[str]]:
    """The statements that read the stored caps (every read of the policy reads them)."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM budget_caps" in statement:
            seen.append(statement)

    engine = kit.services.budgets.store._engine.sync_engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[PolicyKit, Storage]]:
    """A kit, and another process's storage on the same database (an admin's replica)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        async with kit_on(url, tmp_path) as kit:
            other = await open_storage(url)
            try:
                yield kit, other
            finally:
                await other.close()
        return
    await require_postgres()
    async with throwaway_schema() as url, kit_on(url, tmp_path) as kit:
        other = await open_storage(url)
        try:
            yield kit, other
        finally:
            await other.close()


async def test_a_generate_reads_the_policy_once_for_its_thresholds_hold_and_alert(kit):
    with policy_reads(kit) as seen:
        assert (await kit.generate()).job_id
    assert len(seen) == 1
    with policy_reads(kit) as seen:
        second = await kit.generate()  # $0.80 of $1: the alert, by the same read
    assert "Heads-up: your daily cap is 80% used" in second.text
    assert len(seen) == 1


async def test_a_confirmation_and_its_press_read_the_policy_once_each(kit):
    await kit.admin("limits", confirm_above="0.25")
    with policy_reads(kit) as seen:
        ask = await kit.generate()
    assert ask.buttons[0].action is ButtonAction.CONFIRM and len(seen) == 1
    with policy_reads(kit) as seen:
        held = await kit.press(ButtonAction.CONFIRM, ask.job_id)
    assert held.text.startswith("Held $0.40 for job") and len(seen) == 1


async def test_an_admins_new_cap_applies_to_the_next_command(kit):
    assert (await kit.generate()).job_id
    await kit.admin("caps", action="set", target="default", amount="0.50")
    refused = await kit.generate()
    assert refused.job_id is None and "your daily cap has $0.10 left" in refused.text
    await kit.admin("caps", action="clear", target="default")
    assert (await kit.generate()).job_id  # the $1 default again


async def test_a_cap_or_rule_set_on_another_replica_applies_to_the_next_command(replicas):
    kit, other = replicas
    assert (await kit.generate()).job_id
    pool = Cap(CapKind.POOL, "", Money.usd("0.50"), "day")
    await other.policy.set_cap(scope=SCOPE, cap=pool, actor="root", reason="", at=kit.clock())
    refused = await kit.generate()
    assert refused.job_id is None and "the team's daily pool has $0.10 left" in refused.text
    await other.policy.clear_cap(scope=SCOPE, kind=CapKind.POOL, subject="", actor="root",
                                 reason="", at=kit.clock())  # fmt: skip
    await other.policy.set_rule(scope=SCOPE, rule=Rule.CONFIRM_ABOVE, value="0.25",
                                actor="root", reason="", at=kit.clock())  # fmt: skip
    ask = await kit.generate()
    assert ask.buttons and ask.buttons[0].action is ButtonAction.CONFIRM
