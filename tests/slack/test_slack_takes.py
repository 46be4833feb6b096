"""Takes on Slack, the whole way (the form -> the real core on the simulated fal -> the fake
Slack): the Takes field makes three seeds, one status message, and every finished take in ONE
files.completeUploadExternal call into its thread, each numbered with its seed; take 1's status
message then carries a Reroll per take. Five takes are refused under the field."""

from __future__ import annotations

import asyncio
from pathlib import Path

from slackkit import BOT_TOKEN, TEAM, SlackKit, on_simulated_fal, png_bytes, view_submission
from test_slack_submit import form, values

from bot.fal.simulated.faults import Faults
from bot.jobs.record import Job, JobState
from bot.model import Platform
from tests.fakes.slack_api import FakeSlackAPI

NINE = {"type": "number_input", "value": "9"}
SIZE = {"type": "static_select", "selected_option": {"value": "768x448"}}


async def three_takes(
    tmp_path: Path, faults: Faults | None = None
) -> tuple[FakeSlackAPI, list[Job]]:
    """Three takes (seeds 7, 8, 9) asked in the form, the whole way; the fake and the takes."""
    async with (
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        on_simulated_fal(tmp_path, slack, faults=faults) as (core, driver),
    ):
        file = slack.add_file("chef.png", png_bytes(384, 224))
        state = values(file, "the chef tosses the pasta", num_frames=NINE, resolution=SIZE,
                       takes={"type": "number_input", "value": "3"},
                       seed={"type": "number_input", "value": "7"})  # fmt: skip
        status, _ = await driver.interactive(view_submission(form(), state))
        assert status == 200
        await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 20)
        takes = await core.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                 user_id="U1")  # fmt: skip
        for job in takes:
            await asyncio.wait_for(core.supervisor.wait(job.id), 10)
        takes = sorted([await core.storage.jobs.get(job.id) for job in takes],
                       key=lambda job: job.take)  # fmt: skip
    return slack, takes


async def test_three_takes_in_one_upload_call_each_numbered_with_its_seed(tmp_path: Path) -> None:
    slack, takes = await three_takes(tmp_path)
    assert [job.request.seed for job in takes] == [7, 8, 9]
    assert all(job.state is JobState.DELIVERED for job in takes)
    assert len(slack.calls_to("chat.postMessage")) == 1  # one status message for the three
    leader = takes[0]
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.params["thread_ts"] == leader.origin.status_message_id
    assert len(complete.params["files"]) == 3
    comment = complete.params["initial_comment"]
    assert "your 3 takes are ready" in comment
    for k, seed in enumerate((7, 8, 9), 1):
        assert f"Take {k}/3 · seed {seed}" in comment
    assert all(slack.files[f["id"]].data[4:8] == b"ftyp" for f in complete.params["files"])
    buttons = slack.messages[("C1", leader.origin.status_message_id)]["blocks"][-1]["elements"]
    assert [b["text"]["text"].split(" (")[0] for b in buttons] == [
        "Reroll 1", "Reroll 2", "Reroll 3"
    ]  # fmt: skip
    assert [b["value"] for b in buttons] == [f"reroll:{job.id}" for job in takes]


async def test_five_takes_are_refused_under_the_field(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(file, takes={"type": "number_input", "value": "5"}))
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and '"response_action":"errors"' in body.replace(" ", "")
    assert "opt_takes" in body and "1 to 4" in body
    assert kit.runner.started == []


async def test_a_failed_take_is_told_in_take_1s_thread_not_in_a_message_of_its_own(
    tmp_path: Path,
) -> None:
    slack, takes = await three_takes(tmp_path, Faults(run_error_seeds=frozenset({8})))
    assert [job.state for job in takes] == [JobState.DELIVERED, JobState.FAILED, JobState.DELIVERED]
    leader, failed = takes[0], takes[1]
    posts = slack.calls_to("chat.postMessage")
    told = [c for c in posts if "could not be made" in c.params.get("text", "")]
    assert len(told) == 1
    assert told[0].params["thread_ts"] == leader.origin.status_message_id  # take 1's thread
    assert told[0].params["text"].startswith("❌ <@U1> *Take 2/3 · seed 8* could not be made")
    # No message of its own in the channel: take 1's status message is the only top-level one.
    assert [c for c in posts if not c.params.get("thread_ts")] == [posts[0]]
    assert failed.origin.status_message_id is None
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert len(complete.params["files"]) == 2
