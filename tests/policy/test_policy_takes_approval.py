"""Takes above the approval threshold go to an admin as one group: one request showing the
exact total and the number of takes; Approve holds every take at once (inside the team pool,
all or nothing) and starts them; Deny or expiry rejects every take, nothing held."""

from __future__ import annotations

from policykit import ADMIN, ALICE, VIDEO, PolicyKit

from bot.jobs.record import JobState
from bot.model import ButtonAction
from bot.ports import EntryKind

ADMIN_CHANNEL = "CADMIN"


async def offered(kit: PolicyKit, takes: int = 2) -> list[str]:
    """Takes of the default video above a $0.50 approval threshold: the offer, then the ask.
    Returns the takes' ids (nothing held, nothing started)."""
    await kit.in_channel("admin channel", "C9", action="admin", channel=f"<#{ADMIN_CHANNEL}>")
    await kit.admin("limits", approval_above="0.5")
    offer = await kit.generate(takes=takes)
    total = (VIDEO * takes).with_exact()
    assert offer.text.startswith(
        f"These {takes} takes cost {total}, above the $0.50 that needs an "
        "admin's approval here.\nAn admin can let them through: press “Ask for approval”"
    ), offer.text
    assert [b.action for b in offer.buttons] == [ButtonAction.REQUEST_APPROVAL,
                                                 ButtonAction.ABORT]  # fmt: skip
    first = await kit.services.jobs.get(offer.buttons[0].job_id)
    assert first is not None and len(first.take_ids) == takes
    assert kit.runner.started == [] and sorted(await kit.services.ledger.open_holds()) == []
    ids = list(first.take_ids)
    asked = await kit.press(ButtonAction.REQUEST_APPROVAL, ids[0])
    named = ", ".join(f"`{job_id}`" for job_id in ids)
    assert asked.text.startswith(
        f"Asked the admins in <#{ADMIN_CHANNEL}> to approve {VIDEO * takes} for {takes} takes "
        f"(jobs {named})."
    ), asked.text
    return ids


async def states(kit: PolicyKit, ids: list[str]) -> list[JobState]:
    return [job.state for job_id in ids if (job := await kit.services.jobs.get(job_id))]


async def test_one_request_for_the_group_and_approve_holds_and_starts_every_take(kit):
    ids = await offered(kit, takes=3)
    [request] = kit.poster.to(ADMIN_CHANNEL)
    named = ", ".join(f"`{job_id}`" for job_id in ids)
    assert request.text == (
        f"🙋 <@alice> asks for approval of 3 takes, $1.21 in all (jobs {named})."
    )
    fields = dict(request.fields)
    assert fields["Price"] == "3 takes x $0.4020525 = $1.2061575"
    assert fields["Why it needs approval"].startswith("it costs more than the $0.50")
    assert [(b.action, b.job_id) for b in request.buttons] == [
        (ButtonAction.APPROVE, ids[0]), (ButtonAction.DENY, ids[0]),
    ]  # fmt: skip
    approved = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert approved.text.startswith(f"Approved: 3 takes (jobs {named}) started; $1.21 held"), (
        approved.text
    )
    assert [job.id for job in kit.runner.started] == ids
    assert [job.take for job in kit.runner.started] == [1, 2, 3]
    assert await states(kit, ids) == [JobState.HELD] * 3
    assert sorted(await kit.services.ledger.open_holds()) == sorted(ids)
    holds = [e for e in await kit.services.ledger.entries(scope=ALICE.scope_key)
             if e.kind is EntryKind.HOLD]  # fmt: skip
    assert sorted(h.ref for h in holds) == sorted(ids) and all(h.amount == VIDEO for h in holds)
    [told] = kit.poster.to("C1")
    assert told.text == (
        f"<@root> approved your 3 takes, $1.21 in all (jobs {named}); they are starting."
    )
    again = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert again.text == "Already approved by <@root>." and len(kit.runner.started) == 3


async def test_deny_rejects_every_take_and_nothing_is_held(kit):
    ids = await offered(kit)
    denied = await kit.press(ButtonAction.DENY, ids[0], ADMIN)
    assert denied.text == f"Denied job `{ids[0]}`; <@alice> was told."
    [told] = kit.poster.to("C1")
    assert told.text.startswith("<@alice>, an admin did not approve your 2 takes, $0.80 in all")
    assert told.text.endswith("nothing was held or charged.")
    assert await states(kit, ids) == [JobState.REJECTED] * 2
    assert kit.runner.started == [] and sorted(await kit.services.ledger.open_holds()) == []


async def test_an_expired_request_rejects_every_take(kit):
    ids = await offered(kit)
    kit.clock.advance(hours=24)
    expired = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert expired.text.startswith("This approval request expired")
    assert await states(kit, ids) == [JobState.REJECTED] * 2
    assert kit.runner.started == [] and sorted(await kit.services.ledger.open_holds()) == []


async def test_the_pool_must_have_room_for_every_take_or_none_is_held(kit):
    await kit.admin("caps", action="set", target="pool", amount="0.6")  # room for one take
    ids = await offered(kit)
    refused = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert refused.text.startswith("Not started:") and "press Approve again" in refused.text
    assert await states(kit, ids) == [JobState.RECEIVED] * 2
    assert sorted(await kit.services.ledger.open_holds()) == []
    await kit.admin("grant", who="pool", amount="0.5", reason="launch")
    approved = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert approved.text.startswith("Approved: 2 takes") and len(kit.runner.started) == 2
    assert sorted(await kit.services.ledger.open_holds()) == sorted(ids)


async def test_abort_withdraws_the_groups_request(kit):
    ids = await offered(kit)
    await kit.press(ButtonAction.ABORT, ids[0])
    assert await states(kit, ids) == [JobState.REJECTED] * 2
    late = await kit.press(ButtonAction.APPROVE, ids[0], ADMIN)
    assert "no longer waits" in late.text and kit.runner.started == []
