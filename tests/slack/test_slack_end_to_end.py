"""The whole way: the form in Slack -> the real core and runner on the simulated fal -> the
status message edited in place -> the MP4 uploaded into its thread."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from slackkit import BOT_TOKEN, TEAM, on_simulated_fal, png_bytes, view_submission
from test_slack_submit import form, values

from bot.jobs.record import JobState
from bot.model import Platform
from tests.fakes.slack_api import FakeSlackAPI


async def test_form_to_video_in_the_thread(tmp_path: Path) -> None:
    async with (
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        on_simulated_fal(tmp_path, slack) as (core, driver),
    ):
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
