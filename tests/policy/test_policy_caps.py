"""Caps stored per scope: default, per-user overrides, roles, the team pool, timezones."""

from __future__ import annotations

from datetime import UTC, datetime

from policykit import ADMIN, ALICE, BOB, CAROL, VIDEO

from bot.model import Actor, Platform
from bot.money import Money


async def started(kit) -> int:
    return len(kit.runner.started)


async def test_until_an_admin_sets_caps_the_settings_default_applies(kit):
    assert (await kit.generate()).job_id and (await kit.generate()).job_id
    third = await kit.generate()
    assert third.job_id is None
    assert (
        "your daily cap has $0.19 left" in third.text and "resets tomorrow 00:00 UTC" in third.text
    )
    budget = await kit.invoke("budget")
    assert budget.fields[0][0] == "Your daily cap"
    assert "$0.19 left of $1.00" in budget.fields[0][1]


async def test_a_stored_default_replaces_the_settings_default(kit):
    await kit.admin("caps", action="set", target="default", amount="0.50", period="week")
    assert (await kit.generate()).job_id
    second = await kit.generate()
    assert "your weekly cap has $0.0979475 left" in second.text
    # 2026-11-25 is a Wednesday: the week resets on Monday 30th at local midnight.
    assert "resets Mon 30 Nov 00:00 UTC" in second.text


async def test_a_refusal_is_exact_when_cents_would_show_the_room_equal_to_the_price(kit):
    await kit.admin("caps", action="set", target="default", amount="0.8030525", period="day")
    assert (await kit.generate()).job_id
    refused = await kit.generate()  # $0.401 left: "$0.40" rounded down, as the $0.4020525 price
    assert refused.job_id is None
    assert refused.text.startswith(
        "This video costs $0.4020525, but your daily cap has $0.401 left ($0.80 cap,"
    )


async def test_an_override_replaces_the_default_for_that_user_only(kit):
    await kit.admin("caps", action="set", target="user", who="<@alice>", amount="3")
    for _ in range(7):
        assert (await kit.generate(ALICE)).job_id
    refused = await kit.generate(ALICE)
    assert "your personal daily cap has $0.18 left" in refused.text
    assert (await kit.generate(CAROL)).job_id and (await kit.generate(CAROL)).job_id
    assert (await kit.generate(CAROL)).job_id is None  # Carol still has the $1 default


async def test_role_caps_replace_the_default_and_each_must_fit(kit):
    await kit.admin("caps", action="set", target="role", who="<@&111>", amount="2")
    await kit.admin("caps", action="set", target="role", who="222", amount="0.5", period="month")
    for _ in range(4):
        assert (await kit.generate(ALICE)).job_id  # role 111: $2, above the $1 default
    assert "the daily cap for role 111 has" in (await kit.generate(ALICE)).text
    assert (await kit.generate(BOB)).job_id  # Bob has both roles: the $0.50 one binds
    refused = await kit.generate(BOB)
    assert "the monthly cap for role 222 has $0.0979475 left" in refused.text
    assert "resets Tue 1 Dec 00:00 UTC" in refused.text
    budget = await kit.invoke("budget", BOB)
    assert [name for name, _ in budget.fields] == [
        "The daily cap for role 111", "The monthly cap for role 222",
    ]  # fmt: skip
    assert "tightest is the monthly cap for role 222" in budget.text


async def test_the_team_pool_binds_everyone_together_and_says_so(kit):
    await kit.admin("caps", action="set", target="pool", amount="1", period="month")
    assert (await kit.generate(ALICE)).job_id
    assert (await kit.generate(BOB)).job_id
    refused = await kit.generate(CAROL)  # Carol's own $1 has room; the pool has $0.20
    assert refused.job_id is None
    assert "the server's monthly pool has $0.19 left" in refused.text
    assert "$0.81 in flight" in refused.text and "resets Tue 1 Dec" in refused.text
    budget = await kit.invoke("budget", CAROL)
    assert [name for name, _ in budget.fields] == ["Your daily cap", "The server's monthly pool"]
    assert budget.text.startswith("You have $0.19 left")


async def test_uncapped_takes_the_place_of_the_default_but_the_pool_still_holds(kit):
    await kit.admin("caps", action="set", target="default", amount="none")
    await kit.admin("caps", action="set", target="pool", amount="2")
    for _ in range(4):
        assert (await kit.generate(CAROL)).job_id
    assert "the server's daily pool has" in (await kit.generate(CAROL)).text


async def test_clearing_a_cap_brings_back_what_it_replaced(kit):
    await kit.admin("caps", action="set", target="user", who="alice", amount="0.1")
    assert "your personal daily cap" in (await kit.generate()).text
    cleared = await kit.admin("caps", action="clear", target="user", who="<@alice>")
    assert "Cleared" in cleared.text
    assert (await kit.generate()).job_id
    again = await kit.admin("caps", action="clear", target="user", who="alice")
    assert "had no cap set" in again.text


async def test_caps_reset_at_midnight_in_the_scopes_timezone(kit):
    await kit.admin("limits", timezone="America/New_York")
    kit.clock.now = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # 23:30 on the 24th in New York
    assert (await kit.generate()).job_id and (await kit.generate()).job_id
    refused = await kit.generate()
    assert "resets tomorrow 00:00 America/New_York (in 30 min)" in refused.text
    kit.clock.now = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # local midnight exactly
    assert (await kit.generate()).job_id


async def test_caps_show_lists_every_cap_and_the_limits(kit):
    shown = await kit.admin("caps")
    assert shown.fields[0] == ("Default per-user cap", "$1.00 per day (deployment default)")
    await kit.admin("caps", action="set", target="role", who="<@&111>", amount="4")
    await kit.admin("caps", action="set", target="pool", amount="50", period="month")
    await kit.admin("limits", jobs=2, per_minute=5, confirm_above="2", timezone="Europe/Paris")
    shown = await kit.admin("caps")
    fields = dict(shown.fields)
    assert fields["Role 111"] == "$4.00 per day · set by <@root>"
    assert fields["Server pool"] == "$50.00 per month · set by <@root>"
    assert "in flight per user: 2 · per minute: 5 · confirm: above $2.00" in fields["Limits"]
    assert "resets at midnight Europe/Paris" in fields["Limits"]


async def test_scopes_do_not_share_caps(kit):
    await kit.admin("caps", action="set", target="default", amount="0.1")
    elsewhere = Actor(Platform.SLACK, "T1", "alice", "Alice")
    assert (await kit.generate(elsewhere)).job_id  # the Slack workspace keeps the default


async def test_bad_admin_input_gets_a_sentence(kit):
    bad = await kit.invoke("admin caps", ADMIN, action="set", target="user", amount="5")
    assert "Say which user" in bad.text
    bad = await kit.invoke("admin caps", ADMIN, action="set", target="pool", amount="lots")
    assert "must be dollars" in bad.text
    bad = await kit.invoke("admin caps", ADMIN, action="set", target="pool", amount="-3")
    assert "cannot be negative" in bad.text
    bad = await kit.invoke("admin limits", ADMIN, timezone="Mars/Olympus")
    assert "not a timezone" in bad.text
    assert VIDEO  # the fixture's price is what the caps above are measured against


async def test_estimate_and_the_runners_budget_left_use_the_role_caps(kit):
    await kit.admin("caps", action="set", target="role", who="111", amount="3")
    estimate = await kit.invoke("estimate", ALICE)
    assert dict(estimate.fields)["Budget left"] == "$3.00"
    await kit.generate(ALICE)
    # The runner knows only the job's user: the roles they last asked with are used.
    assert await kit.services.budgets.remaining(ALICE.scope_key, "alice") == Money.usd("3") - VIDEO
