"""`ltxbot generate` never waits forever and never loses a video: a cancel from another process
ends it at once, Ctrl-C says what became of the job, `ltxbot resume` saves to the `--out` path
the job was started with (beside a different file), and a public URL the terminal cannot serve
never makes it wait for a webhook."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from clikit import LTXBOT, bot_env, finished, read_until, start
from runnerkit import SHEET

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import Job, JobState
from bot.money import Money
from bot.ports import EntryKind
from storage import open_storage

TINY = ("--prompt", "the chef tosses pasta", "--resolution", "256x160", "--num-frames", "9")


@asynccontextmanager
async def terminal(
    tmp_path: Path, **fal_options: float
) -> AsyncIterator[tuple[SimulatedFal, dict[str, str]]]:
    async with SimulatedFal(**fal_options) as fal:
        bundle = trust_bundle(fal.ca_file)
        try:
            yield fal, bot_env(tmp_path / "data", fal, bundle)
        finally:
            bundle.unlink()


async def generate(env: dict[str, str], out: Path) -> asyncio.subprocess.Process:
    return await start(env, "generate", "--sheet", str(SHEET), *TINY, "--out", str(out))


async def stored(tmp_path: Path) -> tuple[Job, list[EntryKind]]:
    """The one job in the data dir and the kinds of its ledger entries."""
    storage = await open_storage(f"sqlite:///{tmp_path / 'data' / 'ltxbot.sqlite3'}")
    try:
        (job,) = await storage.jobs.in_states(list(JobState))
        entries = await storage.ledger.entries(scope="console:local")
        return job, [e.kind for e in entries]
    finally:
        await storage.close()


async def test_a_cancel_from_another_process_ends_the_waiting_generate_at_once(tmp_path):
    async with terminal(tmp_path, generation_seconds=0.3, queue_seconds=0.05) as (fal, env):
        fal.pause()  # the job waits in fal's queue
        waiting = await generate(env, tmp_path / "a.mp4")
        assert waiting.stdout is not None
        await read_until(waiting.stdout, " in line")
        job, _ = await stored(tmp_path)
        cancel = await start(env, "cancel", job.id)
        said = await finished(cancel)
        assert cancel.returncode == 0, said
        text = await finished(waiting, timeout=30)
    assert waiting.returncode == 1, text
    # Ended by this process's follower (fal said "cancelled" and the stored job had the cancel
    # asked) or seen in the store: either way cancelled, and the hold released.
    assert text.strip().splitlines()[-1] in (
        f"ltxbot: job {job.id} was cancelled (by `ltxbot cancel` or another process); "
        f"nothing was charged ({Money(job.quoted_nanos)} released)",
        f"job {job.id} was cancelled; {Money(job.quoted_nanos)} released",
    ), text
    job, kinds = await stored(tmp_path)
    assert job.state is JobState.CANCELLED and kinds == [EntryKind.HOLD, EntryKind.RELEASE]
    assert not (tmp_path / "a.mp4").exists()


async def test_ctrl_c_cancels_a_job_still_in_fals_queue_and_releases_its_hold(tmp_path):
    async with terminal(tmp_path, generation_seconds=0.3, queue_seconds=0.05) as (fal, env):
        fal.pause()
        waiting = await generate(env, tmp_path / "a.mp4")
        assert waiting.stdout is not None
        await read_until(waiting.stdout, " in line")
        waiting.send_signal(signal.SIGINT)
        text = await finished(waiting, timeout=30)
        job, kinds = await stored(tmp_path)
        assert fal.jobs[job.fal_request_id or ""].cancel_requested
    assert waiting.returncode == 130, text
    assert f"stopped; job {job.id} was still in fal's queue: cancelled, $" in text, text
    assert job.state is JobState.CANCELLED and kinds == [EntryKind.HOLD, EntryKind.RELEASE]


async def test_ctrl_c_before_fal_has_the_job_cancels_it_and_nothing_is_submitted(tmp_path):
    async with terminal(tmp_path, generation_seconds=0.3, queue_seconds=0.05) as (fal, env):
        fal.faults.latency_seconds = 2.0  # the sheet's upload is slow: the job stays HELD
        waiting = await generate(env, tmp_path / "a.mp4")
        assert waiting.stdout is not None
        await read_until(waiting.stdout, "Held $")
        waiting.send_signal(signal.SIGINT)
        text = await finished(waiting, timeout=30)
        assert not fal.submissions  # the submit that was under way stopped before the POST
    job, kinds = await stored(tmp_path)
    assert waiting.returncode == 130, text
    assert f"stopped; job {job.id} was not at fal yet: cancelled, $" in text, text
    assert job.state is JobState.CANCELLED and kinds == [EntryKind.HOLD, EntryKind.RELEASE]


async def test_ctrl_c_leaves_a_rendering_job_and_resume_saves_it_beside_a_different_file(
    tmp_path,
):
    out = tmp_path / "a.mp4"
    async with terminal(tmp_path, generation_seconds=5, queue_seconds=0.05) as (fal, env):
        waiting = await generate(env, out)
        assert waiting.stdout is not None
        await read_until(waiting.stdout, "rendering ·")  # not the --out path
        fal.pause()  # it stays rendering while the terminal stops
        waiting.send_signal(signal.SIGINT)
        text = await finished(waiting, timeout=30)
        job, kinds = await stored(tmp_path)
        assert waiting.returncode == 130, text
        assert f"job {job.id} is rendering at fal and was left running" in text, text
        assert f"`ltxbot resume` saves it to {out}" in text
        assert f"`ltxbot cancel {job.id}`" in text
        assert job.state is JobState.RUNNING and kinds == [EntryKind.HOLD]
        assert not fal.jobs[job.fal_request_id or ""].cancel_requested
        await asyncio.to_thread(out.write_bytes, b"another video")  # made meanwhile
        fal.resume()
        resume = await start(env, "resume")
        said = await finished(resume)
    assert resume.returncode == 0, said
    beside = tmp_path / f"a-{job.id}.mp4"
    assert f"{out} is a different file, kept; saved {beside} beside it" in said, said
    assert await asyncio.to_thread(out.read_bytes) == b"another video"
    job, kinds = await stored(tmp_path)
    assert job.state is JobState.DELIVERED and kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
    assert job.origin.out_path == str(out)
    video = await asyncio.to_thread(beside.read_bytes)
    assert video[4:8] == b"ftyp" and len(video) == job.result.rendered.file_size


async def test_a_public_url_without_a_webhook_endpoint_is_followed_not_waited_on(tmp_path):
    async with terminal(tmp_path, generation_seconds=0.3, queue_seconds=0.05) as (fal, env):
        env["LTXBOT_PUBLIC_BASE_URL"] = "https://bot.example.com"  # served by `ltxbot run` only
        making = await generate(env, tmp_path / "a.mp4")
        text = await finished(making, timeout=60)
        (submission,) = fal.submissions
    assert making.returncode == 0, text
    assert submission.webhook_url is None
    assert f"saved {tmp_path / 'a.mp4'}" in text
    job, _ = await stored(tmp_path)
    assert job.state is JobState.DELIVERED


async def test_ctrl_c_at_the_price_question_aborts_the_job_with_nothing_held(tmp_path):
    async with terminal(tmp_path, generation_seconds=0.3, queue_seconds=0.05) as (fal, env):
        limits = await start(env, "admin", "limits", "--confirm-above", "0.001")
        said = await finished(limits)
        assert limits.returncode == 0, said
        controller, tty = os.openpty()  # a terminal to be asked on, with nothing typed
        try:
            asking = await asyncio.create_subprocess_exec(
                LTXBOT, "generate", "--sheet", str(SHEET), *TINY, env=env, stdin=tty,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            assert asking.stdout is not None
            seen = b""
            async with asyncio.timeout(30):
                while b"[y/N] " not in seen:  # the question ends without a newline
                    chunk = await asking.stdout.read(1024)
                    assert chunk, seen.decode()
                    seen += chunk
            asking.send_signal(signal.SIGINT)
            text = seen.decode() + await finished(asking, timeout=30)
        finally:
            os.close(controller)
            os.close(tty)
        assert not fal.submissions
    assert asking.returncode == 130, text
    job, kinds = await stored(tmp_path)
    assert f"stopped; job {job.id} was not started and nothing was held" in text, text
    assert job.state is JobState.REJECTED and kinds == []
