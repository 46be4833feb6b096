"""Kill -9 the bot between submission and completion; `ltxbot resume` delivers exactly once."""

from __future__ import annotations

import signal

from clikit import bot_env, finished, read_until, start
from runnerkit import SHEET

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.ports import EntryKind
from storage import open_storage

GENERATE = ("generate", "--sheet", str(SHEET), "--prompt", "the chef tosses pasta",
            "--resolution", "256x160", "--num-frames", "9")  # fmt: skip


async def test_a_killed_bot_resumes_and_delivers_the_video_exactly_once(tmp_path):
    async with SimulatedFal(generation_seconds=0.3, queue_seconds=0.05) as fal:
        bundle = trust_bundle(fal.ca_file)
        env = bot_env(tmp_path, fal, bundle)
        fal.pause()  # the job waits in fal's queue while the bot dies
        first = await start(env, *GENERATE, "--out", str(tmp_path / "a.mp4"))
        assert first.stdout is not None
        # The queue position is shown only after fal's request id has been stored.
        await read_until(first.stdout, " in line")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        assert len(fal.submissions) == 1
        fal.resume()

        second = await start(env, "resume")
        text = await finished(second)
        assert second.returncode == 0, text
        assert text.count("your video is ready") == 1, text
        assert len(fal.submissions) == 1  # resumed by request id, never submitted again

    storage = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        (job,) = await storage.jobs.in_states(list(JobState))
        assert job.state is JobState.DELIVERED
        assert job.result.rendered is not None and job.result.rendered.file_size > 0
        entries = await storage.ledger.entries(scope="console:local")
        assert [e.kind for e in entries] == [EntryKind.HOLD, EntryKind.CAPTURE]
    finally:
        await storage.close()
        bundle.unlink()


async def test_resume_leaves_a_job_that_a_live_generate_is_driving(tmp_path):
    async with SimulatedFal(generation_seconds=0.3, queue_seconds=0.05) as fal:
        bundle = trust_bundle(fal.ca_file)
        env = bot_env(tmp_path, fal, bundle)  # 2-s leases: resume waits at most 3 s
        fal.pause()
        first = await start(env, *GENERATE, "--out", str(tmp_path / "a.mp4"))
        assert first.stdout is not None
        try:
            await read_until(first.stdout, " in line")
            second = await start(env, "resume")
            text = await finished(second)
            assert second.returncode == 0, text
            assert "1 job(s) are driven by another process" in text, text
            assert "nothing resumed here" in text and "video is ready" not in text, text
            fal.resume()
            rest = await finished(first)
            assert first.returncode == 0, rest
            assert rest.count("your video is ready") == 1
            assert len(fal.submissions) == 1
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
            bundle.unlink()
