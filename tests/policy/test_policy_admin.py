"""Admin commands: refusals for non-admins, grants with who and why, the audit log, usage
with a PNG chart, and the CSV export."""

from __future__ import annotations

import csv

import pytest
from policykit import ADMIN, ALICE, BOB, VIDEO

from bot.money import Money
from bot.ports import EntryKind
from commands.admin_spec import ADMIN_COMMANDS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("command", sorted(ADMIN_COMMANDS))
async def test_non_admins_are_refused_every_admin_command(kit, command):
    reply = await kit.invoke(command, ALICE, action="set", target="pool", amount="0",
                             who="alice", reason="me", period="day")  # fmt: skip
    assert reply.text == "Only an admin of this server can use the admin commands."
    assert reply.file is None
    assert await kit.services.budgets.store.caps(scope=ALICE.scope_key) == []
    assert await kit.services.ledger.entries(scope=ALICE.scope_key) == []


async def test_a_grant_adds_room_now_and_is_kept_with_who_and_why(kit):
    await kit.generate()
    await kit.generate()
    assert (await kit.generate()).job_id is None
    reply = await kit.admin("grant", who="<@alice>", amount="0.50", reason="demo day")
    assert reply.text.startswith("Granted $0.50 to <@alice>")
    assert (await kit.generate()).job_id
    grant = next(e for e in await kit.services.ledger.entries(scope=ALICE.scope_key)
                 if e.kind is EntryKind.GRANT)  # fmt: skip
    assert (grant.user_id, grant.amount, grant.actor, grant.note) == (
        "alice", Money.usd("0.5"), "root", "demo day",
    )  # fmt: skip
    budget = await kit.invoke("budget")
    assert "$0.50 granted" in budget.fields[0][1]
    kit.clock.advance(days=1)  # a grant counts in the period it was made
    assert "$1.00 left of $1.00" in (await kit.invoke("budget")).fields[0][1]


async def test_a_negative_grant_takes_room_and_a_grant_needs_a_reason(kit):
    no_reason = await kit.invoke("admin grant", ADMIN, who="alice", amount="1")
    assert "Say why" in no_reason.text
    taken = await kit.admin("grant", who="alice", amount="-0.70", reason="overspent yesterday")
    assert taken.text.startswith("Took back $0.70 from <@alice>")
    refused = await kit.generate()
    assert "your daily cap has $0.30 left" in refused.text and "-$0.70 granted" in refused.text


async def test_pool_grants_raise_the_pool_only(kit):
    await kit.admin("caps", action="set", target="pool", amount="0.5")
    assert (await kit.generate(ALICE)).job_id
    assert (await kit.generate(BOB)).job_id is None
    await kit.admin("grant", who="pool", amount="1", reason="launch week")
    assert (await kit.generate(BOB)).job_id
    statuses = await kit.services.budgets.status(BOB.scope_key, BOB.user_id, BOB.roles)
    assert [s.usage.granted for s in statuses] == [Money.zero(), Money.usd("1")]


async def test_the_audit_log_lists_every_admin_change_newest_first(kit):
    await kit.admin("caps", action="set", target="pool", amount="20", period="month",
                    reason="Q4 budget")  # fmt: skip
    await kit.admin("limits", jobs=2, reason="fal queue is long")
    await kit.admin("grant", who="bob", amount="3", reason="client demo")
    await kit.admin("caps", action="clear", target="pool")
    lines = (await kit.admin("audit")).text.splitlines()[1:]
    assert len(lines) == 4
    assert "<@root> · caps clear: pool" in lines[0]
    assert "grant: 3 USD to <@bob>" in lines[1] and "“client demo”" in lines[1]
    assert "limits set: jobs = 2 — “fal queue is long”" in lines[2]
    assert "caps set: pool = $20.00 per month — “Q4 budget”" in lines[3]


async def test_usage_is_a_table_per_user_and_a_png_chart(kit):
    first = await kit.generate(ALICE)
    await kit.generate(ALICE)
    await kit.finish(first.job_id, VIDEO)
    kit.clock.advance(hours=2)
    bob = await kit.generate(BOB)
    await kit.finish(bob.job_id, Money.usd("0.3"))
    reply = await kit.admin("usage", period="day")
    lines = reply.text.splitlines()
    assert lines[0] == "Spend today (UTC): $0.70 spent in total."
    assert lines[1] == "<@alice>: $0.40 spent (1 video) · $0.40 in flight (1 video)"
    assert lines[2] == "<@bob>: $0.30 spent (1 video) · $0.00 in flight (0 videos)"
    assert lines[3] == "Team pool (everyone): $0.70 spent (2 videos) · $0.40 in flight (1 video)"
    assert reply.file is not None and reply.file.suffix == ".png"
    data = reply.file.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000


async def test_usage_of_an_empty_period_still_draws_a_chart(kit):
    reply = await kit.admin("usage")
    assert reply.text == "Spend this month (UTC): nothing yet."
    assert reply.file is not None and reply.file.read_bytes().startswith(PNG_SIGNATURE)


async def test_export_is_the_ledger_of_the_period_as_csv_with_exact_amounts(kit):
    kept = await kit.generate()
    await kit.finish(kept.job_id, VIDEO)
    await kit.admin("grant", who="alice", amount="2", reason='=HYPERLINK("http://x")')
    reply = await kit.admin("export", period="day")
    assert reply.text == "Ledger today: 3 entries."
    assert reply.file is not None and reply.file.suffix == ".csv"
    with reply.file.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["kind"] for r in rows] == ["hold", "capture", "grant"]
    assert rows[1]["amount_usd"] == "0.4020525" and rows[1]["ref"] == kept.job_id
    assert rows[2]["note"].startswith("'=")  # never a formula in a spreadsheet
    kit.clock.advance(days=1)
    assert (await kit.admin("export", period="day")).text == "Ledger today: 0 entries."
    assert (await kit.admin("export", period="none")).text == "Ledger all time: 3 entries."
