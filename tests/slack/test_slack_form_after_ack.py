"""SIGKILL `ltxbot run` right after it acked a form (Slack closed it; the bot is fetching the
sheet, nothing is held yet), start it again: the stored form is taken in, its job is held once,
delivered once and charged once. SQLite, and PostgreSQL where it runs."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes, view_submission
from test_slack_killed_mid_post import free_port, stopped
from test_slack_submit import form, values

from adapters.slack.inbox import PREFIX
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.ports import EntryKind
from commands.context import job_id_for
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI
from tests.runner.clikit import bot_env, read_until, start


async def test_a_form_acked_by_a_killed_bot_is_held_delivered_and_charged_once(
    tmp_path: Path, storage_url: str
) -> None:
    async with (
        SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal,
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        aiohttp.ClientSession() as session,
    ):
        bundle = trust_bundle(fal.ca_file)
        port = free_port()
        env = {**bot_env(tmp_path, fal, bundle), "LTXBOT_REPLICA_ID": "replica-1",
               "LTXBOT_DATABASE_URL": storage_url,
               "LTXBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "LTXBOT_SLACK_SIGNING_SECRET": SECRET,
               "LTXBOT_SLACK_API_URL": slack.api_url, "LTXBOT_SLACK_PORT": str(port),
               "LTXBOT_WEBHOOK_PORT": str(free_port())}  # fmt: skip
        slack.downloads_before_stall = 1  # the check before the ack reads the file's head
        first = await start(env, "run")
        second = None
        try:
            assert first.stdout is not None
            await read_until(first.stdout, "slack adapter started", 30)
            driver = Driver(f"http://127.0.0.1:{port}/slack/events", session)
            file = slack.add_file("chef.png", png_bytes(384, 224))
            state = values(file, "the chef tosses the pasta",
                           num_frames={"type": "number_input", "value": "9"})  # fmt: skip
            status, body = await driver.interactive(view_submission(form(), state))
            assert status == 200 and "errors" not in body  # acked: Slack closed the form
            # After the ack the bot fetches the whole sheet; it dies before holding anything.
            await slack.wait_for(lambda: len(slack.calls_to("download")) >= 2, 30)
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
            slack.unstall()

            second = await start(env, "run")
            assert second.stdout is not None
            await read_until(second.stdout, "-> delivered", 60)
        finally:
            await stopped(first)
            if second is not None:
                assert await stopped(second) == 0
            bundle.unlink()
        assert len(slack.shares_in("C1")) == 1
        assert len(slack.calls_to("files.completeUploadExternal")) == 1

    storage = await open_storage(storage_url)
    try:
        [job] = await storage.jobs.in_states(list(JobState))
        assert job.state is JobState.DELIVERED
        assert job.id == job_id_for("slack-form:" + str(form().get("id", "V0001")))
        entries = await storage.ledger.entries(scope=f"slack:{TEAM}")
        assert [e.kind for e in entries] == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert await storage.keyvalue.items(prefix=PREFIX) == []  # taken in: discarded
    finally:
        await storage.close()
