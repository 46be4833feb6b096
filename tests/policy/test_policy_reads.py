"""A command reads its scope's caps and rules once (a generate with its channel list and
presets, in one statement) and decides everything by that one read; the
next command reads afresh, so an admin's change (on this replica or another) applies to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from policykit import ADMIN, ALICE, PolicyKit

from bot.model import ButtonAction
from bot.money import Money
from bot.ports import Cap, CapKind, Rule
from storage import Storage, open_storage
from tests.policy.conftest import kit_on
from tests.storage.storage_testkit import require_postgres, statements, throwaway_schema

SCOPE = ALICE.scope_key


@contextmanager
def policy_reads(kit: PolicyKit) -> Iterator[list[str]]:
    """The statements that read the stored caps (every read of the policy reads them), once
    the block has run."""
    seen: list[str] = []
    with statements(kit.storage) as every:
        yield seen
    seen.extend(s for s in every if s.startswith("SELECT") and "FROM budget_caps" in s)


@contextmanager
def table_reads(kit: PolicyKit) -> Iterator[list[set[str]]]:
    """Each statement that reads a table of what admins set for a request: the ones it reads
    (once the block has run)."""
    seen: list[set[str]] = []
    tables = ("budget_caps", "channel_access", "channel_defaults")
    with statements(kit.storage) as every:
        yield seen
    for statement in every:
        read = {table for table in tables if f"FROM {table}" in statement}
        if statement.startswith("SELECT") and read:
            seen.append(read)


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


EVERYTHING = {"budget_caps", "channel_access", "channel_defaults"}


async def test_a_generate_reads_the_channel_list_and_presets_with_the_policy_in_one_statement(kit):
    await kit.in_channel("admin channel", "C1", action="allow")
    await kit.in_channel("admin defaults", "C1", num_frames="49")
    with table_reads(kit) as seen:
        assert (await kit.generate()).job_id
    assert seen == [EVERYTHING]
    with table_reads(kit) as seen:
        refused = await kit.generate(channel="C2")
    assert refused.text.startswith("Videos are not made in this channel. Allowed channels: <#C1>")
    assert seen == [EVERYTHING]


async def test_an_estimate_reads_no_channel_list_and_a_reroll_no_presets(kit):
    await kit.in_channel("admin channel", "C1", action="deny")
    await kit.in_channel("admin defaults", "C1", num_frames="49")
    with table_reads(kit) as seen:
        estimate = await kit.invoke("estimate")  # told in any channel, with its presets
    assert estimate.text.startswith("This video would cost") and "49 frames" in str(estimate.fields)
    assert seen == [{"budget_caps", "channel_defaults"}]
    await kit.in_channel("admin channel", "C1", action="clear")
    job_id = (await kit.generate()).job_id
    assert job_id is not None
    with table_reads(kit) as seen:
        rerolled = await kit.press(ButtonAction.REROLL, job_id)
    assert rerolled.text.startswith("Held $") and seen == [{"budget_caps", "channel_access"}]


async def test_asking_for_an_approval_and_approving_it_read_the_policy_once_each(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel="<#CADMIN>")
    assert (await kit.generate()).job_id and (await kit.generate()).job_id
    waiting = await kit.generate()  # past the $1 default: it waits for an approval
    assert waiting.job_id is not None, waiting.text
    with policy_reads(kit) as seen:
        asked = await kit.press(ButtonAction.REQUEST_APPROVAL, waiting.job_id)
    assert asked.text.startswith("Asked the admins in <#CADMIN>") and len(seen) == 1
    with policy_reads(kit) as seen:
        approved = await kit.press(ButtonAction.APPROVE, waiting.job_id, ADMIN)
    assert approved.text.startswith("Approved: job") and len(seen) == 1


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
    assert refused.job_id is None and "your daily cap has $0.0979475 left" in refused.text
    await kit.admin("caps", action="clear", target="default")
    assert (await kit.generate()).job_id  # the $1 default again


async def test_a_cap_or_rule_set_on_another_replica_applies_to_the_next_command(replicas):
    kit, other = replicas
    assert (await kit.generate()).job_id
    pool = Cap(CapKind.POOL, "", Money.usd("0.50"), "day")
    await other.policy.set_cap(scope=SCOPE, cap=pool, actor="root", reason="", at=kit.clock())
    refused = await kit.generate()
    assert refused.job_id is None and "the server's daily pool has $0.0979475 left" in refused.text
    await other.policy.clear_cap(scope=SCOPE, kind=CapKind.POOL, subject="", actor="root",
                                 reason="", at=kit.clock())  # fmt: skip
    await other.policy.set_rule(scope=SCOPE, rule=Rule.CONFIRM_ABOVE, value="0.25",
                                actor="root", reason="", at=kit.clock())  # fmt: skip
    ask = await kit.generate()
    assert ask.buttons and ask.buttons[0].action is ButtonAction.CONFIRM
