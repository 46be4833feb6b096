"""The conversation refuses the bot when the video is ready: the video goes to the app's DM
with the requester; when that is refused too, nothing is delivered and the requester is told
privately (the response_url while it lives, else a DM)."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond
from slackkit import SlackKit
from test_slack_poster import started_job, with_status

from bot.errors import Undeliverable
from bot.events import Failed, Held, Succeeded
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job, JobState, Result
from bot.money import Money
from bot.ports import DeliveryRoute


def finished(job: Job, url: str = "https://v3.fal.media/x.mp4") -> Job:
    return job.model_copy(update={"state": JobState.SUCCEEDED, "charge_nanos": job.quoted_nanos,
                                  "result": Result(video_url=url, seed=7)})  # fmt: skip


def video(tmp_path: Path) -> tuple[Path, Succeeded]:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    return path, Succeeded(path, Money.usd("0.01"), None)


async def shown(kit: SlackKit) -> Job:
    kit.sleep.release()
    job = await started_job(kit)
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert ts is not None
    return finished(with_status(job, ts))


async def test_removed_from_the_private_channel_the_video_goes_to_the_dm(
    kit: SlackKit, tmp_path: Path
) -> None:
    job = await shown(kit)
    kit.slack.private.add("C1")
    kit.slack.member_of = set()  # removed from the private channel mid-job
    path, event = video(tmp_path)
    delivery = await kit.adapter.poster.deliver(job, path, event)
    assert delivery.route is DeliveryRoute.DIRECT
    [complete] = [c for c in kit.slack.calls_to("files.completeUploadExternal")
                  if c.params.get("channel_id") == "D1"]  # fmt: skip
    assert complete.params["initial_comment"].startswith(
        "I can no longer post in <#C1> (channel_not_found), so here is your video."
    )
    file_id = complete.params["files"][0]["id"]
    assert delivery.message_id == kit.slack.files[file_id].shares["D1"][0]["ts"]


async def test_uploads_refused_post_the_link_in_the_thread(kit: SlackKit, tmp_path: Path) -> None:
    job = await shown(kit)
    kit.slack.fail_next("files.getUploadURLExternal", "missing_scope")
    path, event = video(tmp_path)
    delivery = await kit.adapter.poster.deliver(job, path, event)
    assert delivery.route is DeliveryRoute.LINK
    posted = kit.slack.messages[("C1", delivery.message_id)]
    assert "https://v3.fal.media/x.mp4" in posted["text"]
    assert posted["thread_ts"] == job.origin.status_message_id


async def test_no_dm_either_is_undeliverable_and_told_on_the_response_url(
    kit: SlackKit, tmp_path: Path
) -> None:
    job = await shown(kit)
    kit.slack.private.add("C1")
    kit.slack.member_of = set()
    kit.slack.disabled_users.add("U1")
    path, event = video(tmp_path)
    with pytest.raises(Undeliverable) as refused:
        await kit.adapter.poster.deliver(job, path, event)
    assert refused.value.reason == (
        "I can no longer post in <#C1> (channel_not_found), and Slack refused a direct "
        "message to you (user_disabled)."
    )
    poster = kit.adapter.poster
    poster.requesters.remember(job.id, "U1", AsyncRespond(response_url=kit.response_url()))
    await poster.progress(job, Failed(f"{refused.value.reason} Nothing was charged.",
                                      Money(job.quoted_nanos)))  # fmt: skip
    [told] = kit.slack.responses
    assert told["response_type"] == "ephemeral" and "Nothing was charged" in told["text"]


async def test_after_the_response_url_expired_the_ending_goes_to_the_dm(
    kit: SlackKit, tmp_path: Path
) -> None:
    job = await shown(kit)
    kit.slack.private.add("C1")
    kit.slack.member_of = set()
    poster = kit.adapter.poster
    poster.requesters.remember(job.id, "U1", AsyncRespond(response_url=kit.response_url()))
    poster.requesters.clock = lambda: 10**9  # Slack's 30 minutes are over
    await poster.progress(job, Failed("fal failed.", Money(job.quoted_nanos)))
    assert kit.slack.responses == []
    [dm] = [c for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "U1"]
    assert "fal failed." in dm.params["text"]


async def test_a_resumed_delivery_finds_the_dm_share_and_posts_nothing_more(
    kit: SlackKit, tmp_path: Path
) -> None:
    """The bot died after the DM share: the resumed try reads files.info for the noted file
    before trying the channel again, and takes that share as the delivery."""
    job = await shown(kit)
    kit.slack.private.add("C1")
    kit.slack.member_of = set()
    path, event = video(tmp_path)
    attempt = MemoryAttempt(job)
    first = await kit.adapter.poster.deliver(job, path, event, attempt)
    assert attempt.marks["channel"] == "D1" and attempt.resumed
    calls = len(kit.slack.calls)
    again = await kit.adapter.poster.deliver(job, path, event, attempt)
    assert again == first and again.route is DeliveryRoute.DIRECT
    assert [c.method for c in kit.slack.calls[calls:]] == ["files.info", "chat.update"]
    assert len(kit.slack.shares_in("D1")) == 1


async def test_a_resumed_delivery_finds_its_link_in_the_thread_and_posts_nothing_more(
    kit: SlackKit, tmp_path: Path
) -> None:
    """Uploads refused (no files:write): the link message has no idempotency key, so the
    attempt notes the thread first and a resumed try reads it back with conversations.replies."""
    job = await shown(kit)
    kit.slack.fail_next("files.getUploadURLExternal", "missing_scope")
    path, event = video(tmp_path)
    attempt = MemoryAttempt(job)
    first = await kit.adapter.poster.deliver(job, path, event, attempt)
    assert first.route is DeliveryRoute.LINK and attempt.marks["link"] == "C1"
    calls = len(kit.slack.calls)
    again = await kit.adapter.poster.deliver(job, path, event, attempt)
    assert again == first
    assert [c.method for c in kit.slack.calls[calls:]] == ["conversations.replies", "chat.update"]
    links = [m for m in kit.slack.messages.values() if "v3.fal.media/x.mp4" in (m["text"] or "")]
    assert len(links) == 1
    # The delivery's key rides in the message's metadata, read back with include_all_metadata.
    assert links[0]["metadata"] == {"event_type": "ltxbot_video_link",
                                    "event_payload": {"delivery": attempt.key}}  # fmt: skip
    [read] = kit.slack.calls_to("conversations.replies")
    assert read.params["include_all_metadata"] in ("1", "true", True)


async def test_a_link_the_bot_may_not_read_back_may_go_twice_and_says_so(
    kit: SlackKit, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the *:history scopes the resumed try cannot look: at least once, with a warning."""
    job = await shown(kit)
    kit.slack.scopes = ["chat:write", "files:read", "channels:read"]
    kit.slack.fail_next("files.getUploadURLExternal", "missing_scope")
    path, event = video(tmp_path)
    attempt = MemoryAttempt(job)
    await kit.adapter.poster.deliver(job, path, event, attempt)
    kit.slack.fail_next("files.getUploadURLExternal", "missing_scope")
    await kit.adapter.poster.deliver(job, path, event, attempt)
    links = [m for m in kit.slack.messages.values() if "v3.fal.media/x.mp4" in (m["text"] or "")]
    assert len(links) == 2
    assert "may be posted twice" in caplog.text and "missing_scope" in caplog.text
