"""The Poster: status message, throttled chat.update, files_upload_v2 into the thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from slackkit import SlackKit, png_bytes, view_submission
from test_slack_submit import form, values

from bot.events import Failed, Held, Queued, Running, Succeeded
from bot.jobs.record import Job, JobState, Result
from bot.money import Money


async def started_job(kit: SlackKit) -> Job:
    file = kit.slack.add_file("sheet.png", png_bytes())
    await kit.driver.interactive(view_submission(form(), values(file)))
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    return kit.runner.started[0]


def with_status(job: Job, ts: str) -> Job:
    """What the runner stores after progress() returns the status message ts."""
    return job.model_copy(update={"origin": job.origin.model_copy(
        update={"status_message_id": ts})})  # fmt: skip


async def test_status_message_then_throttled_updates(kit: SlackKit) -> None:
    job = await started_job(kit)
    poster = kit.adapter.poster
    ts = await poster.progress(job, Held(Money(job.quoted_nanos)))
    [post] = kit.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1" and ts == kit.slack.messages[("C1", ts)]["ts"]
    buttons = post.params["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["ltx_job_cancel"]
    assert buttons[0]["value"] == f"cancel:{job.id}"
    job = with_status(job, ts)

    kit.ticks.now += 0.3  # too soon after the post: kept, shown when the second is up
    assert await poster.progress(job, Queued(3)) == ts
    assert await poster.progress(job, Running(4.0, "step 3/30", 0.1)) == ts
    assert kit.slack.calls_to("chat.update") == []
    assert await kit.sleep.first_call() == pytest.approx(0.7)
    assert kit.slack.calls_to("chat.update") == []
    kit.sleep.release()
    await kit.until(lambda: kit.slack.calls_to("chat.update"))
    await kit.settle()
    [update] = kit.slack.calls_to("chat.update")
    assert update.params["ts"] == ts and "rendering" in update.params["text"]  # the newest

    kit.ticks.now += 1.5
    await poster.progress(job, Running(6.0, None, 0.5))
    assert len(kit.slack.calls_to("chat.update")) == 2
    failed = job.model_copy(update={"state": JobState.FAILED})
    await poster.progress(failed, Failed("fal refused it", Money(job.quoted_nanos)))  # at once
    updates = kit.slack.calls_to("chat.update")
    assert len(updates) == 3 and "fal refused it" in updates[-1].params["text"]
    assert f"{Money(job.quoted_nanos)} released · job" in updates[-1].params["text"]
    assert [b["action_id"] for b in updates[-1].params["blocks"][-1]["elements"]] == [
        "ltx_job_reroll", "ltx_job_details"]  # fmt: skip
    # The edit notifies nobody: a new message in the thread mentions the requester.
    notice = kit.slack.calls_to("chat.postMessage")[-1].params
    assert notice["thread_ts"] == ts and notice["channel"] == "C1"
    assert notice["text"].startswith(f"❌ <@{job.origin.user_id}> your video could not be made")
    assert "fal refused it" in notice["text"]
    assert f"{Money(job.quoted_nanos)} released back to your budget." in notice["text"]


async def test_delivery_uploads_into_the_thread_and_waits_until_shared(
    kit: SlackKit, tmp_path: Path
) -> None:
    kit.sleep.release()
    kit.slack.share_delay = 2  # Slack shows the file in the thread only on the 3rd look
    job = await started_job(kit)
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert ts is not None
    video = tmp_path / "out.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000)
    done = with_status(job, ts).model_copy(update={
        "state": JobState.SUCCEEDED, "captured_nanos": job.quoted_nanos,
        "result": Result(video_url="https://v3.fal.media/x.mp4", seed=424242,
                         expanded_prompt="A chef in a copper kitchen tosses pasta high"),
    })  # fmt: skip
    event = Succeeded(video, Money(job.quoted_nanos), Money.usd("0.60"))
    watcher = kit.adapter.poster.watch(job.id)
    message = await kit.adapter.poster.deliver(done, video, event)

    [complete] = kit.slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C1" and complete.params["thread_ts"] == ts
    comment = complete.params["initial_comment"]
    assert "<@U1> your video is ready" in comment and "424242" in comment
    assert "$0.60" in comment and "copper kitchen" in comment
    [upload] = kit.slack.calls_to("upload")
    assert upload.params["size"] == video.stat().st_size
    assert len(kit.slack.calls_to("files.info")) == 3
    file_id = complete.params["files"][0]["id"]
    assert message.message_id == kit.slack.files[file_id].shares["C1"][0]["ts"]
    update = kit.slack.calls_to("chat.update")[-1].params
    assert update["ts"] == ts and "done" in update["text"]
    assert f"{Money(job.quoted_nanos)} charged · job" in update["text"]  # no longer held
    assert "held" not in update["text"]
    ending = await asyncio.wait_for(watcher, 1)
    assert ending.link and file_id in ending.link


async def test_not_in_channel_joins_and_posts(kit: SlackKit) -> None:
    job = await started_job(kit)
    kit.slack.member_of = set()  # the bot was never added to C1
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert [c.params["channel"] for c in kit.slack.calls_to("conversations.join")] == ["C1"]
    assert ts is not None and ("C1", ts) in kit.slack.messages


async def test_a_rate_limited_update_is_retried_after_retry_after(kit: SlackKit) -> None:
    job = await started_job(kit)
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert ts is not None
    kit.slack.fail_next("chat.update", "ratelimited", status=429, retry_after=0)
    kit.ticks.now += 2
    await kit.adapter.poster.progress(with_status(job, ts), Running(3.0, None, 0.2))
    updates = kit.slack.calls_to("chat.update")
    assert len(updates) == 2 and "rendering" in kit.slack.messages[("C1", ts)]["text"]


async def test_a_queued_job_shows_fal_position_as_a_person_reads_it(kit: SlackKit) -> None:
    job = await started_job(kit)
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert ts is not None
    kit.ticks.now += 2
    await kit.adapter.poster.progress(with_status(job, ts), Queued(0, 12))  # next to start
    assert "1st in fal's queue, waiting 12 min" in kit.slack.messages[("C1", ts)]["text"]
