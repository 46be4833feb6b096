"""The status message, its thread, throttled edits and the video posted back, on a fake Discord."""

from __future__ import annotations

from pathlib import Path

from discordkit import CHANNEL, Kit, finished

from bot.events import Held, Queued, Running, Succeeded
from bot.money import Money
from tests.fakes.discord_api import objects as o

MiB = 1024 * 1024


def video_file(tmp_path: Path, size: int = 4096) -> Path:
    path = tmp_path / "video.mp4"
    with path.open("wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypmp42")
        handle.truncate(size)  # sparse: a big file costs nothing to make
    return path


def done(job, video: Path) -> Succeeded:
    return Succeeded(video, Money(job.quoted_nanos), remaining=Money.usd("0.5"))


async def test_status_message_on_the_bot_token_with_a_thread_and_cancel(kit: Kit) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    post = kit.fake.messages_to(CHANNEL)[-1]
    assert post.authorization == f"Bot {kit.fake.token}"
    assert job.id in post.body["content"] and "the chef tosses pasta" in post.body["content"]
    button = post.body["components"][0]["components"][0]
    assert button["custom_id"] == f"ltx:cancel:{job.id}"
    thread = kit.fake.calls_to("POST", f"/messages/{status_id}/threads")
    assert len(thread) == 1 and "the chef tosses pasta" in thread[0].body["name"]
    assert status_id in kit.fake.channels  # the thread shares the status message's id


async def test_edits_are_throttled_and_the_newest_state_is_shown(kit: Kit) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    for second in (1, 2, 3):
        await kit.show(job, Running(float(second)))
    edits = lambda: kit.fake.calls_to("PATCH", f"/messages/{status_id}")  # noqa: E731
    assert edits() == []  # too soon after the message was created
    kit.time.advance(1.5)
    await kit.fake.wait_for(edits)
    await kit.adapter.poster.throttle.drain()
    assert len(edits()) == 1 and "rendering · 3 s" in edits()[0].body["content"]
    kit.time.advance(10)
    await kit.show(job, Running(20.0))  # the slot is free: edited at once
    assert len(edits()) == 2 and "20 s" in edits()[1].body["content"]


async def test_the_video_is_uploaded_into_the_thread(kit: Kit, tmp_path: Path) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    video = video_file(tmp_path)
    job = finished(job, kit.services.clock)
    result_id = await kit.adapter.poster.deliver(job, video, done(job, video))
    upload = kit.fake.messages_to(status_id)[-1]
    assert upload.files and upload.files[0].data == video.read_bytes()
    assert upload.files[0].filename.endswith(".mp4")
    assert "your video is ready" in upload.body["content"]
    fields = {f["name"]: f["value"] for f in upload.body["embeds"][0]["fields"]}
    assert fields["Seed"] == "42" and fields["Budget left"] == "$0.50"
    ids = [b["custom_id"] for b in upload.body["components"][0]["components"]]
    assert ids == [f"ltx:reroll:{job.id}", f"ltx:details:{job.id}"]
    assert result_id.message_id in kit.fake.messages and result_id.route == "thread"
    kit.time.advance(1.5)  # the status message then shows the end, its Cancel button gone
    edit = await kit.fake.wait_for(lambda: kit.fake.calls_to("PATCH", f"/messages/{status_id}"))
    assert "done" in edit[-1].body["content"] and edit[-1].body["components"] == []
    # The money line says what the ledger did at the end: charged, no longer held.
    price = Money(job.quoted_nanos)
    assert f"{price} charged · job" in edit[-1].body["content"]
    assert "held" not in edit[-1].body["content"]


async def test_above_the_upload_limit_a_link_is_posted(kit: Kit, tmp_path: Path) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    video = video_file(tmp_path, 10 * MiB + 1)  # an unboosted server takes 10 MiB
    job = finished(job, kit.services.clock)
    await kit.adapter.poster.deliver(job, video, done(job, video))
    post = kit.fake.messages_to(status_id)[-1]
    assert post.files == []
    assert "10 MiB upload limit" in post.body["content"]
    assert "https://v3.fal.media/files/x/video.mp4" in post.body["content"]


async def test_a_40005_falls_back_to_the_link(kit: Kit, tmp_path: Path) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    kit.fake.fail_next("POST", f"/channels/{status_id}/messages", 413, 40005,
                       "Request entity too large")  # fmt: skip
    video = video_file(tmp_path)
    job = finished(job, kit.services.clock)
    await kit.adapter.poster.deliver(job, video, done(job, video))
    first, second = kit.fake.messages_to(status_id)
    assert first.status == 413 and first.files
    assert second.files == [] and "refused the" in second.body["content"]
    assert "video.mp4" in second.body["content"]


async def test_without_thread_permission_it_stays_in_the_channel_and_says_why(
    kit: Kit, tmp_path: Path
) -> None:
    kit.fake.deny(CHANNEL, o.CREATE_PUBLIC_THREADS)  # seen in the interaction's app_permissions
    job = await kit.held_job()
    job, _ = await kit.show(job, Held(Money(job.quoted_nanos)))
    post = kit.fake.messages_to(CHANNEL)[-1]
    assert "Create Public Threads" in post.body["content"]
    assert kit.fake.calls_to("POST", "/threads") == []
    video = video_file(tmp_path)
    job = finished(job, kit.services.clock)
    await kit.adapter.poster.deliver(job, video, done(job, video))
    assert kit.fake.messages_to(CHANNEL)[-1].files


async def test_after_a_restart_a_refused_thread_is_explained(kit: Kit, tmp_path: Path) -> None:
    job = await kit.held_job()
    kit.fake.deny(CHANNEL, o.CREATE_PUBLIC_THREADS)
    async with kit.restarted() as fresh:  # knows nothing of the channel's permissions
        job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)), fresh)
        thread = kit.fake.calls_to("POST", f"/messages/{status_id}/threads")[0]
        assert thread.status == 403
        kit.time.advance(1.5)
        edit = await kit.fake.wait_for(lambda: kit.fake.calls_to("PATCH", status_id))
        assert "Create Public Threads" in edit[0].body["content"]
    async with kit.restarted() as again:  # guesses the thread, finds none, uses the channel
        video = video_file(tmp_path)
        job = finished(job, kit.services.clock)
        await again.poster.deliver(job, video, done(job, video))
    guess = kit.fake.messages_to(status_id)
    assert guess[0].status == 404
    assert kit.fake.messages_to(CHANNEL)[-1].files


async def test_after_a_restart_the_video_goes_to_the_thread(kit: Kit, tmp_path: Path) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    kit.fake.guilds[job.origin.scope]["premium_tier"] = 2  # boosted since: 50 MiB
    video = video_file(tmp_path, 12 * MiB)
    job = finished(job, kit.services.clock)
    async with kit.restarted() as fresh:
        await fresh.poster.deliver(job, video, done(job, video))
    upload = kit.fake.messages_to(status_id)[-1]
    assert len(upload.files[0].data) == 12 * MiB  # the limit came from GET /guilds/{id}
    assert kit.fake.calls_to("GET", f"/guilds/{job.origin.scope}")


async def test_a_queued_job_shows_fal_position_as_a_person_reads_it(kit: Kit) -> None:
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    kit.time.advance(1.5)
    await kit.show(job, Queued(1, 3))  # fal's queue_position 1: one request ahead
    edits = await kit.fake.wait_for(lambda: kit.fake.calls_to("PATCH", f"/messages/{status_id}"))
    assert "2nd in fal's queue, waiting 3 min" in edits[-1].body["content"]
