"""The whole way: the form in Slack -> the real core and runner on the simulated fal -> the
status message edited in place -> the MP4 uploaded into its thread."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes, view_submission
from test_slack_submit import form, values

from adapters.app.core import build_core
from adapters.slack import SlackAdapter
from bot.jobs.record import JobState
from bot.model import Platform
from bot.settings import Settings
from tests.fakes.slack_api import FakeSlackAPI


async def test_form_to_video_in_the_thread(tmp_path: Path) -> None:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated", slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
        )  # fmt: skip
        fast = {"generation_seconds": 0.2, "queue_seconds": 0.05}
        async with (
            build_core(settings, poll_interval=0.05, simulated_fal_options=fast) as core,
            aiohttp.ClientSession() as session,
        ):
            adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
            core.posters[Platform.SLACK] = adapter.poster
            await adapter.start()
            try:
                driver = Driver(f"http://127.0.0.1:{adapter.port}/slack/events", session)
                file = slack.add_file("chef.png", png_bytes(384, 224))
                state = values(
                    file, "the chef tosses the pasta",
                    num_frames={"type": "number_input", "value": "9"},
                    resolution={"type": "static_select", "selected_option": {"value": "768x448"}},
                )  # fmt: skip
                status, _ = await driver.interactive(view_submission(form(), state))
                assert status == 200
                await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 20)
                [job] = await core.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                         user_id="U1")  # fmt: skip
                await asyncio.wait_for(core.supervisor.wait(job.id), 10)
                job = await core.storage.jobs.get(job.id)
            finally:
                await adapter.close()
    assert job is not None and job.state is JobState.DELIVERED
    status_ts = job.origin.status_message_id
    [post] = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1" and status_ts == slack.messages[("C1", status_ts)]["ts"]
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.params["thread_ts"] == status_ts
    assert "your video is ready" in complete.params["initial_comment"]
    uploaded = slack.files[complete.params["files"][0]["id"]]
    assert uploaded.data[4:8] == b"ftyp"  # an MP4 made by the simulated fal
    assert job.origin.result_message_id == uploaded.shares["C1"][0]["ts"]
    final = slack.messages[("C1", status_ts)]
    assert "done" in final["text"]
    actions = [b["action_id"] for b in final["blocks"][-1]["elements"]]
    assert actions == ["ltx_job_reroll", "ltx_job_details"]
    assert json.dumps(final["blocks"]).count("ltx_job_cancel") == 0
