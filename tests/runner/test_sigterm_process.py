"""SIGTERM to `ltxbot run` (Slack HTTP mode, on a fake Slack and a simulated fal in this
process) with a job in fal's queue: the process exits 0 within 10 s, having stopped taking
commands and handed the job's lease back, and the job is left at fal for another replica."""

from __future__ import annotations

import re
import signal
import time

import aiohttp
from clikit import bot_env, finished, read_until, start

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.model import Platform
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes

EXIT_WITHIN = 10.0


def mention(file: dict[str, object]) -> dict[str, object]:
    return {"type": "app_mention", "user": "U1", "text": "<@U0BOT> the chef tosses pasta",
            "ts": "1700000400.000100", "channel": "C1", "event_ts": "1700000400.000100",
            "files": [file]}  # fmt: skip


async def test_sigterm_hands_the_job_over_and_exits_0_within_10_s(tmp_path):
    async with (
        SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal,
        FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack,
    ):
        bundle = trust_bundle(fal.ca_file)
        slack.add_user("U1", name="Alice")
        env = {
            **bot_env(tmp_path, fal, bundle),
            "LTXBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
            "LTXBOT_SLACK_SIGNING_SECRET": SECRET,
            "LTXBOT_SLACK_API_URL": slack.api_url,
            "LTXBOT_SLACK_PORT": "0",
            "LTXBOT_WEBHOOK_PORT": "0",
            "LTXBOT_JOB_LEASE_SECONDS": "30",  # a lease that would outlast the test
        }
        fal.pause()  # the job waits in fal's queue while the bot stops
        bot = await start(env, "run")
        assert bot.stdout is not None
        try:
            seen = await read_until(bot.stdout, "Slack: HTTP mode on port")
            port = re.findall(r"HTTP mode on port (\d+)", seen)[-1]
            async with aiohttp.ClientSession() as session:
                driver = Driver(f"http://127.0.0.1:{port}/slack/events", session)
                file = slack.add_file("chef.png", png_bytes())
                status, _ = await driver.event(mention(file), event_id="Ev1")
                assert status == 200
            await fal.wait_for_submissions(1, timeout=30)
            asked = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            text = await finished(bot, timeout=EXIT_WITHIN + 5)
            took = time.monotonic() - asked
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
            bundle.unlink()
        assert bot.returncode == 0, text
        assert took < EXIT_WITHIN, (took, text)
        assert "stopping: taking no new commands" in text
        assert "handed back 1 job leases" in text, text

    storage = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        (job,) = await storage.jobs.in_states(list(JobState))
        assert job.state is JobState.SUBMITTED  # left at fal, not failed
        assert await storage.leases.lapsed(platforms=[Platform.SLACK], limit=10) == [job.id]
        assert (
            await storage.leases.driven_elsewhere(
                owner="another-replica", platforms=[Platform.SLACK]
            )
            == {}
        )
    finally:
        await storage.close()
