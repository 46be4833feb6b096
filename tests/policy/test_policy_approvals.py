"""Approvals: asking past a cap or above the threshold, Approve / Deny in the admin channel,
the team pool still binding, expiry, and racing decisions starting at most one job."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from policykit import ADMIN, ALICE, BOB, VIDEO, PolicyKit

from bot.jobs.record import JobState
from bot.model import Actor, ButtonAction, Platform
from bot.ports import EntryKind

ADMIN_CHANNEL = "CADMIN"
OTHER_ADMIN = Actor(Platform.DISCORD, "G1", "root2", "Root Two", is_admin=True)


async def out_of_budget(kit: PolicyKit, actor: Actor = ALICE) -> str:
    """Spend the $1 default on two videos; the third is refused. Returns its (waiting) job id."""
    assert (await kit.generate(actor)).job_id and (await kit.generate(actor)).job_id
    refused = await kit.generate(actor)
    assert refused.job_id is not None, refused.text  # waiting, not started
    return refused.job_id


async def asked(kit: PolicyKit, actor: Actor = ALICE) -> str:
    await kit.in_channel("admin channel", "C9", action="admin", channel=f"<#{ADMIN_CHANNEL}>")
    job_id = await out_of_budget(kit, actor)
    reply = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id, actor)
    assert reply.text.startswith(f"Asked the admins in <#{ADMIN_CHANNEL}> to approve $0.40"), reply
    return job_id


async def state_of(kit: PolicyKit, job_id: str) -> JobState:
    job = await kit.services.jobs.get(job_id)
    assert job is not None
    return job.state


async def test_past_a_personal_cap_the_refusal_offers_to_ask_and_the_request_lands(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel=f"<#{ADMIN_CHANNEL}>")
    job_id = await out_of_budget(kit)
    offer_job = await kit.services.jobs.get(job_id)
    assert offer_job is not None and offer_job.state is JobState.RECEIVED
    assert job_id not in await kit.services.ledger.open_holds()  # nothing held by asking

    reply = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id)
    assert "expires Thu 26 Nov 12:00 UTC" in reply.text
    [request] = kit.poster.to(ADMIN_CHANNEL)
    assert request.ephemeral is False
    assert request.text == f"🙋 <@alice> asks for approval of a $0.40 video (job `{job_id}`)."
    fields = dict(request.fields)
    assert fields["Prompt"] == "a fox" and fields["Price"] == "$0.40 (exactly $0.4020525)"
    assert fields["Why it needs approval"].startswith("their daily cap: $0.19 left of $1.00")
    assert [(b.action, b.job_id) for b in request.buttons] == [
        (ButtonAction.APPROVE, job_id), (ButtonAction.DENY, job_id),
    ]  # fmt: skip
    again = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id)
    assert "already asked" in again.text and len(kit.poster.posts) == 1
    bob = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id, BOB)
    assert "Only the person who" in bob.text


async def test_the_refusal_itself_carries_the_ask_button(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel=ADMIN_CHANNEL)
    await kit.generate()
    await kit.generate()
    refused = await kit.generate()
    assert "your daily cap has $0.19 left" in refused.text
    assert "press “Ask for approval”" in refused.text
    assert [b.action for b in refused.buttons] == [ButtonAction.REQUEST_APPROVAL,
                                                   ButtonAction.ABORT]  # fmt: skip


async def test_without_an_admin_channel_the_refusal_is_as_before(kit):
    await kit.generate()
    await kit.generate()
    refused = await kit.generate()
    assert refused.job_id is None and refused.buttons == ()
    assert "your daily cap has $0.19 left" in refused.text


async def test_approve_by_an_admin_starts_the_job_once_and_tells_the_requester(kit):
    job_id = await asked(kit)
    not_admin = await kit.press(ButtonAction.APPROVE, job_id, BOB)
    assert "Only an admin" in not_admin.text and len(kit.runner.started) == 2
    approved = await kit.press(ButtonAction.APPROVE, job_id, ADMIN)
    assert approved.text.startswith(
        f"Approved: job `{job_id}` started; $0.40 held for <@alice> past"
    )
    assert [j.id for j in kit.runner.started][-1] == job_id
    assert await state_of(kit, job_id) is JobState.HELD
    hold = next(e for e in await kit.services.ledger.entries(scope=ALICE.scope_key)
                if e.ref == job_id)  # fmt: skip
    assert (hold.kind, hold.user_id, hold.amount) == (EntryKind.HOLD, "alice", VIDEO)
    [told] = kit.poster.to("C1")
    assert told.text == f"<@root> approved your $0.40 video (job `{job_id}`); it is starting."
    second = await kit.press(ButtonAction.APPROVE, job_id, OTHER_ADMIN)
    assert second.text == "Already approved by <@root>."
    assert (await kit.press(ButtonAction.DENY, job_id, OTHER_ADMIN)).text == second.text
    assert len(kit.runner.started) == 3
    # The approved video is Alice's spend: she is past her own cap now.
    assert "$0.00 left of $1.00" in (await kit.invoke("budget")).fields[0][1]


async def test_approval_skips_the_personal_cap_but_not_the_team_pool(kit):
    await kit.admin("caps", action="set", target="pool", amount="1")
    job_id = await asked(kit)
    refused = await kit.press(ButtonAction.APPROVE, job_id, ADMIN)
    assert refused.text.startswith("Not started: This video costs $0.40, but the server's daily "
                                   "pool has $0.19 left")  # fmt: skip
    assert "press Approve again" in refused.text
    assert await state_of(kit, job_id) is JobState.RECEIVED
    assert job_id not in await kit.services.ledger.open_holds()
    await kit.admin("grant", who="pool", amount="0.5", reason="launch")
    approved = await kit.press(ButtonAction.APPROVE, job_id, ADMIN)
    assert approved.text.startswith("Approved") and kit.runner.started[-1].id == job_id


async def test_deny_tells_the_requester_and_nothing_is_held(kit):
    job_id = await asked(kit)
    assert "Only an admin" in (await kit.press(ButtonAction.DENY, job_id, ALICE)).text
    denied = await kit.press(ButtonAction.DENY, job_id, ADMIN)
    assert denied.text == f"Denied job `{job_id}`; <@alice> was told."
    [told] = kit.poster.to("C1")
    assert told.text.startswith(f"<@alice>, an admin did not approve your $0.40 video (job "
                                f"`{job_id}`)")  # fmt: skip
    assert await state_of(kit, job_id) is JobState.REJECTED
    late = await kit.press(ButtonAction.APPROVE, job_id, OTHER_ADMIN)
    assert late.text == "Already denied by <@root>."
    assert len(kit.runner.started) == 2 and job_id not in await kit.services.ledger.open_holds()


async def test_requests_expire_after_24_hours_and_are_refused_cleanly(kit):
    job_id = await asked(kit)
    kit.clock.advance(hours=23, minutes=59)
    listed = await kit.admin("approvals")
    assert f"`{job_id}` · <@alice> · $0.40 · their daily cap" in listed.text
    kit.clock.advance(minutes=1)
    assert (await kit.admin("approvals")).text == "No approval requests are waiting."
    expired = await kit.press(ButtonAction.APPROVE, job_id, ADMIN)
    assert expired.text == "This approval request expired (Thu 26 Nov 12:00 UTC); nothing was held."
    assert (await kit.press(ButtonAction.DENY, job_id, ADMIN)).text == expired.text
    assert await state_of(kit, job_id) is JobState.REJECTED
    assert len(kit.runner.started) == 2


async def test_the_expiry_is_an_admin_setting(kit):
    await kit.admin("limits", approval_hours=2)
    job_id = await asked(kit)
    kit.clock.advance(hours=2)
    assert "expired" in (await kit.press(ButtonAction.APPROVE, job_id, ADMIN)).text


async def test_above_the_approval_threshold_every_video_needs_an_admin(kit):
    await kit.admin("limits", approval_above="0.30")
    refused = await kit.generate()
    assert refused.text.startswith("This video costs $0.40 (exactly $0.4020525), above the "
                                   "$0.30 that needs an admin's approval here.")  # fmt: skip
    assert refused.buttons == () and refused.job_id is None  # no admin channel yet
    await kit.in_channel("admin channel", "C9", action="admin", channel=ADMIN_CHANNEL)
    offer = await kit.generate()
    assert offer.buttons[0].action is ButtonAction.REQUEST_APPROVAL
    assert not kit.runner.started
    await kit.press(ButtonAction.REQUEST_APPROVAL, offer.job_id or "")
    [request] = kit.poster.to(ADMIN_CHANNEL)
    assert dict(request.fields)["Why it needs approval"] == (
        "it costs more than the $0.30 approval threshold"
    )
    assert (await kit.press(ButtonAction.APPROVE, offer.job_id or "", ADMIN)).text.startswith(
        "Approved")  # fmt: skip


async def test_a_grant_before_asking_starts_the_job_without_an_admin(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel=ADMIN_CHANNEL)
    job_id = await out_of_budget(kit)
    await kit.admin("grant", who="alice", amount="1", reason="demo")
    started = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id)
    assert started.text.startswith(f"Held $0.40 for job `{job_id}`")
    assert kit.poster.to(ADMIN_CHANNEL) == []


async def test_aborting_withdraws_the_request(kit):
    job_id = await asked(kit)
    assert "Aborted" in (await kit.press(ButtonAction.ABORT, job_id)).text
    answer = await kit.press(ButtonAction.APPROVE, job_id, ADMIN)
    assert answer.text == f"Job `{job_id}` no longer waits for approval; nothing was held."
    assert len(kit.runner.started) == 2


async def test_a_request_that_cannot_be_posted_is_withdrawn_with_a_sentence(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel=ADMIN_CHANNEL)
    job_id = await out_of_budget(kit)
    kit.poster.broken = True
    reply = await kit.press(ButtonAction.REQUEST_APPROVAL, job_id)
    assert reply.text.startswith(f"I could not post in the admin channel <#{ADMIN_CHANNEL}>")
    assert await state_of(kit, job_id) is JobState.REJECTED
    assert (await kit.admin("approvals")).text == "No approval requests are waiting."


async def test_the_pool_alert_also_goes_to_the_admin_channel_once(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel=ADMIN_CHANNEL)
    await kit.admin("caps", action="set", target="pool", amount="1")
    await kit.generate(ALICE)
    assert kit.poster.to(ADMIN_CHANNEL) == []
    crossed = await kit.generate(BOB)  # $0.80 of $1.00: past 80 %
    assert "Heads-up: the server's daily pool is 80% used" in crossed.text
    [alert] = kit.poster.to(ADMIN_CHANNEL)
    assert alert.text.startswith("⚠️ Heads-up: the server's daily pool is 80% used")
    await kit.admin("caps", action="set", target="pool", amount="2")
    await kit.generate(BOB)
    assert len(kit.poster.to(ADMIN_CHANNEL)) == 1


DECISIONS = [(ButtonAction.APPROVE, ADMIN), (ButtonAction.DENY, OTHER_ADMIN),
             (ButtonAction.APPROVE, OTHER_ADMIN)]  # fmt: skip


@pytest.mark.parametrize("order", list(itertools.permutations(range(3)))[:4])
async def test_racing_decisions_start_at_most_one_job_and_leave_no_stray_hold(any_kit, order):
    kit = any_kit
    job_id = await asked(kit)
    presses = [DECISIONS[i] for i in order]
    answers = await asyncio.gather(*(kit.press(action, job_id, admin) for action, admin in presses))
    started = [j.id for j in kit.runner.started].count(job_id)
    winners = [a for a in answers if a.text.startswith(("Approved", "Denied"))]
    assert len(winners) == 1, [a.text for a in answers]
    # The losers learn it from the one stored decision, not from the job having moved on.
    decided = "approved" if winners[0].text.startswith("Approved") else "denied"
    assert all(a.text.startswith(f"Already {decided} by <@") for a in answers if a not in winners)
    request = await kit.services.budgets.store.approvals.get(job_id=job_id)
    assert request is not None and request.state.value == decided
    holds = await kit.services.ledger.open_holds()
    if winners[0].text.startswith("Approved"):
        assert started == 1 and job_id in holds
        assert await state_of(kit, job_id) is JobState.HELD
    else:
        assert started == 0 and job_id not in holds
        assert await state_of(kit, job_id) is JobState.REJECTED
