"""Retention: sheets and videos leave the disk LTXBOT_RETENTION_DAYS after their job ended, the
records and the ledger stay, and `admin purge` does it at once (a fake clock moves the days)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from corekit import ADMIN, ALICE, CoreKit, png_attachment

from bot.jobs.record import Job, JobState, Result
from bot.media.sheet_files import original_of
from bot.model import Actor, ButtonAction, Invocation, Place, Platform

ROOT = Actor(Platform.CONSOLE, "local", "root", "root", is_admin=True)
TERMINAL = Place(Platform.CONSOLE, "local", "terminal")
OTHER_TEAM = Actor(Platform.DISCORD, "G2", "olga", "Olga")
PLACE = Place(ALICE.platform, ALICE.scope, "C1")


async def started(kit: CoreKit, actor: Actor = ALICE) -> str:
    sheet, tiny = png_attachment(), {"resolution": "256x160", "num_frames": 9}  # 1 MP each
    reply = await kit.invoke("generate", actor, attachment=sheet, prompt="a fox", **tiny)
    assert reply.job_id, reply.text
    return reply.job_id


async def move(kit: CoreKit, job_id: str, *states: JobState, video: bool = False) -> Job:
    """Step the stored job through `states` (as the runner would), writing its MP4 if asked."""
    job = await kit.services.jobs.get(job_id)
    assert job is not None
    for state in states:
        changes: dict[str, object] = {}
        if state is JobState.SUCCEEDED and video:
            path = kit.services.settings.data_dir / "videos" / f"{job_id}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0" * 2000)
            changes["result"] = Result(video_url="https://fal.media/v.mp4", video_path=str(path))
        job = job.advance(state, kit.clock(), **changes)
        assert await kit.services.jobs.replace(job)
    return job


async def delivered(kit: CoreKit, actor: Actor = ALICE) -> Job:
    job_id = await started(kit, actor)
    steps = (JobState.SUBMITTED, JobState.RUNNING, JobState.SUCCEEDED, JobState.DELIVERED)
    return await move(kit, job_id, *steps, video=True)


def files_of(job: Job) -> list[Path]:
    sheet = Path(job.sheet_path or "")
    found = [p for p in (sheet, original_of(sheet)) if p.exists()]
    video = job.result.video_path if job.result else None
    return found + ([Path(video)] if video and Path(video).exists() else [])


async def purge(kit: CoreKit, actor: Actor = ROOT, place: Place = TERMINAL, **options: object):
    return await kit.commands.dispatch(Invocation("admin purge", actor, place, options))


async def test_ended_jobs_lose_their_files_after_the_days_and_active_ones_never(kit: CoreKit):
    done = await delivered(kit)
    held = await kit.services.jobs.get(await started(kit))
    undelivered = await move(
        kit, await started(kit), JobState.SUBMITTED, JobState.SUCCEEDED, video=True
    )
    assert held is not None and len(files_of(done)) == 2 and len(files_of(undelivered)) == 2
    entries = await kit.services.ledger.entries(scope=ALICE.scope_key)
    kit.clock.advance(days=29)
    assert (await kit.services.retention.sweep()).files == 0  # not yet 30 days
    kit.clock.advance(days=2)
    swept = await kit.services.retention.sweep()
    assert files_of(done) == [] and (swept.jobs, swept.files) == (1, 2)
    assert swept.bytes >= 2000  # the MP4 and the sheet no other job links
    assert len(files_of(held)) == 1 and len(files_of(undelivered)) == 2  # never theirs
    after = await kit.services.jobs.get(done.id)
    assert after is not None and after.purged_at == kit.clock() and after.state is done.state
    assert await kit.services.ledger.entries(scope=ALICE.scope_key) == entries
    assert (await kit.services.retention.sweep()).jobs == 0  # marked: not looked at again
    shown = await kit.invoke("show", job=done.id)
    assert ("Files", f"sheet and video removed {kit.clock():%Y-%m-%d} (retention)") in shown.fields


async def test_reroll_of_a_purged_job_says_so_and_holds_nothing(kit: CoreKit):
    done = await delivered(kit)
    kit.clock.advance(days=31)
    await kit.services.retention.sweep()
    holds = await kit.services.ledger.open_holds()
    reply = await kit.commands.press(ButtonAction.REROLL, done.id, ALICE, PLACE)
    assert "removed from the bot's disk 31 days after the job" in reply.text
    assert "run generate again with the sheet" in reply.text and reply.job_id is None
    assert await kit.services.ledger.open_holds() == holds


async def test_a_recent_reroll_keeps_the_sheet_its_old_parent_loses(kit: CoreKit):
    parent = await delivered(kit)
    kit.clock.advance(days=20)
    again = await kit.commands.press(ButtonAction.REROLL, parent.id, ALICE, PLACE)
    assert again.job_id, again.text
    kit.clock.advance(days=11)
    await kit.services.retention.sweep()
    child = await kit.services.jobs.get(again.job_id)
    assert files_of(parent) == [] and child is not None and len(files_of(child)) == 1
    once_more = await kit.commands.press(ButtonAction.REROLL, child.id, ALICE, PLACE)
    assert once_more.job_id and "Held" in once_more.text


async def test_a_chat_admin_purges_only_their_team_and_the_terminal_everyone(kit: CoreKit):
    ours, theirs = await delivered(kit), await delivered(kit, OTHER_TEAM)
    kit.clock.advance(days=1)
    reply = await purge(kit, ADMIN, PLACE, older_than=0)
    assert files_of(ours) == [] and len(files_of(theirs)) == 2
    assert reply.text.startswith("Removed 2 files (") and "of 1 jobs of this team" in reply.text
    body = (await purge(kit, older_than=0)).data
    assert files_of(theirs) == []
    assert (body["scope"], body["jobs"], body["files"], body["older_than_days"]) == ("all", 1, 2, 0)
    assert (await purge(kit)).text.startswith("Nothing to remove")
    assert "whole number of days" in (await purge(kit, older_than="soon")).text
    assert "Only an admin" in (await purge(kit, ALICE, PLACE)).text


async def test_files_of_no_job_and_clean_copies_no_job_links_go_too(kit: CoreKit):
    kit.clock.now = datetime.now(UTC)  # file times are the real clock's
    old = await delivered(kit)
    sheets = kit.services.settings.data_dir / "sheets"
    stray = sheets / "nosuchjob.png"
    stray.write_bytes(b"x" * 10)
    cache = sheets / "by-content"
    cache.mkdir(exist_ok=True)
    unused, used = cache / "a.png", cache / "b.png"
    unused.write_bytes(b"y" * 10)
    used.write_bytes(b"z" * 10)
    kit.clock.advance(days=31)
    recent = await kit.services.jobs.get(await started(kit))
    assert recent is not None and recent.sheet_path
    os.link(used, recent.sheet_path)  # as a sanitised sheet links its clean copy
    swept = await kit.services.retention.sweep()
    assert not stray.exists() and not unused.exists() and files_of(old) == []
    assert used.exists() and len(files_of(recent)) == 2  # its sheet as sent, and the link
    assert swept.files == 4  # the old job's sheet and video, the stray, the unused copy
