"""SIGKILL `ltxbot run` while Slack shares the video (Slack has shared it, the bot has not heard
back, DELIVERED is not stored), start it again: one copy in the thread, one capture."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes, view_submission
from test_slack_submit import form, values

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.ports import EntryKind
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI
from tests.runner.clikit import bot_env, read_until, start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def stopped(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 20)


async def test_a_bot_killed_while_slack_shares_the_video_posts_it_once(tmp_path: Path) -> None:
    async with (
        SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal,
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        aiohttp.ClientSession() as session,
    ):
        bundle = trust_bundle(fal.ca_file)
        port = free_port()
        env = {**bot_env(tmp_path, fal, bundle), "LTXBOT_REPLICA_ID": "replica-1",
               "LTXBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "LTXBOT_SLACK_SIGNING_SECRET": SECRET,
               "LTXBOT_SLACK_API_URL": slack.api_url, "LTXBOT_SLACK_PORT": str(port),
               "LTXBOT_WEBHOOK_PORT": str(free_port())}  # fmt: skip
        slack.stalled.add("files.completeUploadExternal")
        first = await start(env, "run")
        second = None
        try:
            assert first.stdout is not None
            await read_until(first.stdout, "slack adapter started", 30)
            driver = Driver(f"http://127.0.0.1:{port}/slack/events", session)
            file = slack.add_file("chef.png", png_bytes(384, 224))
            state = values(file, "the chef tosses the pasta",
                           num_frames={"type": "number_input", "value": "9"})  # fmt: skip
            status, _ = await driver.interactive(view_submission(form(), state))
            assert status == 200
            # Slack has shared the file in the thread; its answer never reaches the bot.
            await slack.wait_for(lambda: slack.shares_in("C1"), 30)
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
            slack.unstall()

            second = await start(env, "run")
            assert second.stdout is not None
            await read_until(second.stdout, "-> delivered", 30)
        finally:
            await stopped(first)
            if second is not None:
                assert await stopped(second) == 0
            bundle.unlink()
        [share] = slack.shares_in("C1")
        assert len(slack.calls_to("files.completeUploadExternal")) == 1

    storage = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        [job] = await storage.jobs.in_states(list(JobState))
        assert job.state is JobState.DELIVERED and job.origin.result_message_id == share["ts"]
        entries = await storage.ledger.entries(scope=f"slack:{TEAM}")
        assert [e.kind for e in entries] == [EntryKind.HOLD, EntryKind.CAPTURE]
    finally:
        await storage.close()
