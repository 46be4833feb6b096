"""The channel refuses the bot when the video is ready: the video goes to the requester by DM;
when DMs are closed too, nothing is delivered and the requester is told privately."""

from __future__ import annotations

from pathlib import Path

import pytest
from discordkit import ALICE, SMALL, Kit, finished, png
from test_discord_poster import done, video_file

from bot.errors import Undeliverable
from bot.events import Failed, Held
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job
from bot.money import Money
from bot.ports import DeliveryRoute
from tests.fakes.discord_api import objects as o

ALICE_ID = ALICE["user"]["id"]


async def started(kit: Kit) -> tuple[Job, dict]:
    payload = kit.slash("generate", sheet=kit.sheet(png()), **SMALL)
    kit.deliver(payload)
    assert "Held" in await kit.answer(payload)
    job, _ = await kit.show(
        kit.runner.started[-1], Held(Money(kit.runner.started[-1].quoted_nanos))
    )
    return finished(job, kit.services.clock), payload


async def test_a_channel_that_refuses_the_bot_at_the_end_gets_the_video_by_dm(
    kit: Kit, tmp_path: Path
) -> None:
    job, _ = await started(kit)
    kit.fake.deny(job.origin.channel_id, o.VIEW_CHANNEL)  # the bot was shut out mid-job
    video = video_file(tmp_path)
    delivery = await kit.adapter.poster.deliver(job, video, done(job, video))
    assert delivery.route is DeliveryRoute.DIRECT
    [dm] = kit.fake.dms_to(ALICE_ID)
    assert dm.files and dm.files[0].data == video.read_bytes()
    assert dm.body["content"].startswith(
        f"I can no longer post in <#{job.origin.status_message_id}> (Missing Access), so here "
        "is your video."
    )
    assert delivery.message_id in kit.fake.messages


async def test_a_refused_upload_with_no_link_goes_to_the_dm(kit: Kit, tmp_path: Path) -> None:
    job, _ = await started(kit)
    result = job.result.model_copy(update={"video_url": "data:video/mp4;base64,AAAA"})
    job = job.model_copy(update={"result": result})  # sync_mode: no link to post instead
    kit.fake.deny(job.origin.channel_id, o.ATTACH_FILES)
    video = video_file(tmp_path)
    delivery = await kit.adapter.poster.deliver(job, video, done(job, video))
    assert delivery.route is DeliveryRoute.DIRECT
    assert kit.fake.dms_to(ALICE_ID)[0].files


async def test_closed_dms_too_is_undeliverable_and_the_ending_is_told_ephemerally(
    kit: Kit, tmp_path: Path
) -> None:
    job, payload = await started(kit)
    kit.fake.deny(job.origin.channel_id, o.VIEW_CHANNEL)
    kit.fake.closed_dms.add(ALICE_ID)
    video = video_file(tmp_path)
    with pytest.raises(Undeliverable) as refused:
        await kit.adapter.poster.deliver(job, video, done(job, video))
    assert refused.value.reason == (
        f"I can no longer post in <#{job.origin.status_message_id}> (Missing Access), and "
        "Discord refused a direct message to you (Cannot send messages to this user)."
    )
    before = len(kit.fake.webhook_calls(payload))
    ending = Failed(f"{refused.value.reason} Nothing was charged.", Money(job.quoted_nanos))
    await kit.adapter.poster.progress(job, ending)
    kit.time.advance(1.5)  # the edit waits its turn after the status message was made
    posts = lambda: [c for c in kit.fake.webhook_calls(payload)[before:] if c.method == "POST"]  # noqa: E731
    told = await kit.fake.wait_for(posts)
    assert len(told) == 1 and told[0].body["flags"] & o.EPHEMERAL
    assert "Nothing was charged" in told[0].body["content"]
    assert f"{Money(job.quoted_nanos)} released" in told[0].body["content"]


async def test_once_the_interaction_expired_the_ending_is_told_by_dm(
    kit: Kit, tmp_path: Path
) -> None:
    job, payload = await started(kit)
    kit.fake.deny(job.origin.channel_id, o.VIEW_CHANNEL)
    poster = kit.adapter.poster
    poster.requesters.clock = lambda: 10**9  # long after Discord's 15 minutes
    await poster.progress(job, Failed("fal failed.", Money(job.quoted_nanos)))
    kit.time.advance(1.5)
    [dm] = await kit.fake.wait_for(lambda: kit.fake.dms_to(ALICE_ID))
    assert "fal failed." in dm.body["content"]
    assert not [c for c in kit.fake.webhook_calls(payload) if c.method == "POST"]


async def test_a_resumed_delivery_past_the_nonce_window_finds_the_dm_and_posts_nothing_more(
    kit: Kit, tmp_path: Path
) -> None:
    """The bot died after the DM took the video, and came back after Discord forgot the
    nonce: the resumed try reads the DM the attempt noted and takes that message."""
    job, _ = await started(kit)
    kit.fake.deny(job.origin.channel_id, o.VIEW_CHANNEL)
    kit.fake.nonce_window = 0
    video = video_file(tmp_path)
    attempt = MemoryAttempt(job)
    first = await kit.adapter.poster.deliver(job, video, done(job, video), attempt)
    assert attempt.marks["channel"] == kit.fake.dms[ALICE_ID]
    again = await kit.adapter.poster.deliver(job, video, done(job, video), attempt)
    assert again == first and again.route is DeliveryRoute.DIRECT
    assert len(kit.fake.stored_in(kit.fake.dms[ALICE_ID])) == 1
