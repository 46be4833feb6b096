"""Amounts below ten cents are shown exactly on Discord: the price, the hold, `budget`, the
refund line. The tiny request (256x160, 9 frames) is 1 MP: $0.0024075, never "$0.00"."""

from __future__ import annotations

from typing import Any

from discordkit import CHANNEL, Kit, png

from bot.events import Failed, Held
from bot.money import Money

TINY = "$0.0024075"


async def answered(kit: Kit, payload: dict[str, Any]) -> dict[str, Any]:
    """The final body of the deferred answer (content and embeds)."""
    await kit.answer(payload)
    return [c for c in kit.fake.webhook_calls(payload) if c.method == "PATCH"][-1].body


async def test_a_tiny_price_is_shown_exactly_in_the_quote(kit: Kit) -> None:
    payload = kit.slash("estimate", resolution="256x160", num_frames=9)
    kit.deliver(payload)
    body = await answered(kit, payload)
    assert body["content"] == f"This video would cost {TINY}."
    fields = {f["name"]: f["value"] for f in body["embeds"][0]["fields"]}
    # Already exact: no "(exactly ...)" repeating it.
    assert fields["Price"] == f"256x160, 9 frames = 1 MP x $0.0024075/MP = {TINY}"


async def test_hold_budget_and_refund_of_a_tiny_job_are_exact(kit: Kit) -> None:
    job = await kit.held_job()
    assert job.quoted_nanos == Money.usd("0.0024075").nanos
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    assert f"{TINY} held" in kit.fake.messages_to(CHANNEL)[-1].body["content"]

    payload = kit.slash("budget")
    kit.deliver(payload)
    body = await answered(kit, payload)
    [field] = body["embeds"][0]["fields"]
    assert f"$0.00 spent · {TINY} in flight" in field["value"]

    kit.time.advance(1.5)  # past the edit throttle: the end is shown at once
    await kit.show(job, Failed("fal failed", refunded=Money(job.quoted_nanos)))
    await kit.adapter.poster.throttle.drain()
    edit = await kit.fake.wait_for(lambda: kit.fake.calls_to("PATCH", f"/messages/{status_id}"))
    assert f"{TINY} released back to your budget." in edit[-1].body["content"]
    assert f"{TINY} released · job" in edit[-1].body["content"]  # no longer "held"
    assert "$0.00 released" not in edit[-1].body["content"]


async def test_the_generate_answer_says_the_exact_hold(kit: Kit) -> None:
    options = {"prompt": "a fox", "resolution": "256x160", "num_frames": 9}
    payload = kit.slash("generate", sheet=kit.sheet(png()), **options)
    kit.deliver(payload)
    assert (await kit.answer(payload)).startswith(f"Held {TINY} for job")


async def test_a_failed_job_mentions_the_requester_in_its_thread(kit: Kit) -> None:
    """Editing the status message notifies nobody: the failure is a new message in the thread
    that mentions the requester, with the reason and the exact refund."""
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    kit.time.advance(1.5)
    await kit.show(job, Failed("fal refused the prompt", refunded=Money(job.quoted_nanos)))
    await kit.adapter.poster.throttle.drain()
    thread = status_id  # a thread started from a message shares its id
    [notice] = await kit.fake.wait_for(lambda: kit.fake.messages_to(thread))
    content = notice.body["content"]
    assert content.startswith("❌ <@800000000000000001> your video could not be made")
    assert "fal refused the prompt" in content
    assert f"{TINY} released back to your budget." in content
