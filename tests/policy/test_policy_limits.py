"""Per-user limits apart from money (in flight, per minute), the once-a-period alert, and the
price confirmation above a threshold."""

from __future__ import annotations

from policykit import ALICE, BOB, VIDEO

from bot.jobs.record import JobState
from bot.model import ButtonAction


async def test_jobs_in_flight_are_limited_per_user_and_free_up_when_one_ends(kit):
    await kit.admin("caps", action="set", target="default", amount="100")
    await kit.admin("limits", jobs=2)
    first, second = await kit.generate(), await kit.generate()
    refused = await kit.generate()
    assert refused.job_id is None
    assert "You already have 2 videos in flight, the most allowed here at once" in refused.text
    assert (await kit.generate(BOB)).job_id  # per user
    await kit.finish(first.job_id, VIDEO)
    assert (await kit.generate()).job_id
    assert await kit.services.ledger.release(job_id=second.job_id, at=kit.clock())
    assert (await kit.generate()).job_id
    rejected = [j for j in await kit.services.jobs.in_states([JobState.REJECTED])]
    assert len(rejected) == 1 and "in flight" in (rejected[0].failure or "")


async def test_requests_per_minute_are_limited_with_the_wait_in_seconds(kit):
    await kit.admin("caps", action="set", target="default", amount="100")
    await kit.admin("limits", per_minute=2)
    assert (await kit.generate()).job_id
    kit.clock.advance(seconds=20)
    assert (await kit.generate()).job_id
    kit.clock.advance(seconds=10)
    refused = await kit.generate()
    assert "You have started 2 videos in the last minute" in refused.text
    assert "Try again in 30 s" in refused.text  # when the first one leaves the window
    kit.clock.advance(seconds=30)
    assert (await kit.generate()).job_id  # exactly a minute after the first
    assert "last minute" in (await kit.generate()).text
    await kit.admin("limits", per_minute=0)  # 0: no limit
    assert (await kit.generate()).job_id


async def test_the_alert_comes_once_per_period_when_a_cap_passes_80_percent(kit):
    first = await kit.generate()
    assert "Heads-up" not in first.text
    second = await kit.generate()  # $0.80 of $1
    assert "⚠️ Heads-up: your daily cap is 80% used ($0.81 of $1.00, $0.19 left)" in second.text
    await kit.admin("grant", who="alice", amount="1", reason="more")
    assert "Heads-up" not in (await kit.generate()).text  # once per period
    kit.clock.advance(days=1)
    await kit.generate()
    assert "Heads-up: your daily cap" in (await kit.generate()).text  # a new period


async def test_the_pool_alert_tells_the_user_who_crosses_it(kit):
    await kit.admin("caps", action="set", target="pool", amount="1", period="month")
    await kit.admin("limits", alert_percent=50)
    assert "Heads-up" not in (await kit.generate(ALICE)).text
    crossing = await kit.generate(BOB)
    assert "Heads-up: the server's monthly pool is 80% used" in crossing.text
    assert "your daily cap" not in crossing.text  # Bob's own cap is at 40%


async def test_above_the_threshold_the_price_is_confirmed_before_anything_is_held(kit):
    await kit.admin("limits", confirm_above="0.25")
    ask = await kit.generate()
    assert "This video costs $0.40 (exactly $0.4020525), above the $0.25" in ask.text
    assert [b.action for b in ask.buttons] == [ButtonAction.CONFIRM, ButtonAction.ABORT]
    assert ask.buttons[0].label == "Confirm $0.40" and ask.buttons[0].job_id == ask.job_id
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
    not_yours = await kit.press(ButtonAction.CONFIRM, ask.job_id, BOB)
    assert "Only the person" in not_yours.text
    held = await kit.press(ButtonAction.CONFIRM, ask.job_id)
    assert held.text.startswith("Held $0.40 for job")
    assert [j.id for j in kit.runner.started] == [ask.job_id]
    again = await kit.press(ButtonAction.CONFIRM, ask.job_id)
    assert "no longer waiting" in again.text and len(kit.runner.started) == 1


async def test_abort_and_expiry_reject_the_job_and_hold_nothing(kit):
    await kit.admin("limits", confirm_above="0.25")
    aborted = await kit.generate()
    assert "nothing was held" in (await kit.press(ButtonAction.ABORT, aborted.job_id)).text
    late = await kit.generate()
    kit.clock.advance(minutes=11)
    assert "expired" in (await kit.press(ButtonAction.CONFIRM, late.job_id)).text
    states = {(await kit.services.jobs.get(j)).state for j in (aborted.job_id, late.job_id)}
    assert states == {JobState.REJECTED}
    assert kit.runner.started == [] and await kit.services.ledger.entries(scope="discord:G1") == []


async def test_confirming_still_checks_the_caps_at_that_moment(kit):
    await kit.admin("limits", confirm_above="0.25")
    waiting = [await kit.generate() for _ in range(3)]
    assert (await kit.press(ButtonAction.CONFIRM, waiting[0].job_id)).job_id
    assert (await kit.press(ButtonAction.CONFIRM, waiting[1].job_id)).job_id
    refused = await kit.press(ButtonAction.CONFIRM, waiting[2].job_id)
    assert "your daily cap has $0.19 left" in refused.text
    assert (await kit.services.jobs.get(waiting[2].job_id)).state is JobState.REJECTED
