"""Kill -9 the bot between submission and completion; `ltxbot resume` delivers exactly once."""

from __future__ import annotations

import asyncio
import signal

from clikit import LTXBOT, bot_env, read_until
from runnerkit import SHEET

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.ports import EntryKind
from storage import open_storage


async def test_a_killed_bot_resumes_and_delivers_the_video_exactly_once(tmp_path):
    async with SimulatedFal(generation_seconds=0.3, queue_seconds=0.05) as fal:
        bundle = trust_bundle(fal.ca_file)
        env = bot_env(tmp_path, fal, bundle)
        fal.pause()  # the job waits in fal's queue while the bot dies
        first = await asyncio.create_subprocess_exec(
            LTXBOT, "generate", "--sheet", str(SHEET), "--prompt", "the chef tosses pasta",
            "--resolution", "256x160", "--num-frames", "9", "--out", str(tmp_path / "a.mp4"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert first.stdout is not None
        # The queue position is shown only after fal's request id has been stored.
        await read_until(first.stdout, " in line")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        assert len(fal.submissions) == 1
        fal.resume()

        second = await asyncio.create_subprocess_exec(
            LTXBOT, "resume", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(second.communicate(), 60)
        text = output.decode()
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
