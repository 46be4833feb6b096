"""The other ways in: the message shortcut, an @mention with an image, the workflow step."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from slackkit import TEAM, SlackKit, png_bytes, user_of, view_submission

from adapters.slack.entries import FUNCTION_ID, SHORTCUT_ID
from bot.events import Succeeded
from bot.jobs.record import JobState, Result
from bot.money import Money

JIT_TOKEN = "xwfp-just-in-time"


def shortcut(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message_action", "token": "legacy", "action_ts": "1700000300.1",
            "team": {"id": TEAM, "domain": "fake"}, "user": user_of("U1"),
            "channel": {"id": "C1", "name": "general"}, "callback_id": SHORTCUT_ID,
            "trigger_id": "trig-short", "response_url": "", "message_ts": message["ts"],
            "message": message, "is_enterprise_install": False, "enterprise": None}  # fmt: skip


async def test_shortcut_opens_the_form_with_that_image_and_submits_it(kit: SlackKit) -> None:
    file = kit.slack.add_file("chef.png", png_bytes())
    message = {"type": "message", "user": "U2", "ts": "1700000200.000100",
               "text": "our sheet", "files": [file]}  # fmt: skip
    status, _ = await kit.driver.interactive(shortcut(message))
    assert status == 200 and kit.driver.elapsed[-1] < 3
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    view = kit.slack.calls_to("views.open")[0].params["view"]
    meta = json.loads(view["private_metadata"])
    assert meta["f"]["id"] == file["id"] and meta["t"] == "1700000200.000100"
    sheet_block = next(b for b in view["blocks"] if b.get("block_id") == "sheet")
    assert sheet_block["optional"] is True and "chef.png" in json.dumps(view["blocks"][0])
    # Submitting without attaching another file uses the message's image, in its thread.
    state = {"prompt": {"prompt": {"type": "plain_text_input", "value": "the chef tosses"}},
             "channel": {"channel": {"type": "conversations_select",
                                     "selected_conversation": "C1"}}}  # fmt: skip
    await kit.driver.interactive(view_submission({**view, "id": "V0009"}, state))
    await kit.runner.wait_started()
    job = kit.runner.started[0]
    assert job.origin.thread_id == "1700000200.000100" and job.origin.user_id == "U1"


async def test_shortcut_on_a_message_without_an_image_says_so(kit: SlackKit) -> None:
    message = {"type": "message", "user": "U2", "ts": "1700000200.000100", "text": "hi"}
    await kit.driver.interactive(shortcut(message))
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    assert "no PNG, JPEG or WebP image" in kit.slack.calls_to("chat.postEphemeral")[0].params[
        "text"]  # fmt: skip
    assert kit.slack.calls_to("views.open") == []


def mention(files: list[dict[str, Any]], text: str = "<@U0BOT> the chef tosses the pasta"):
    return {"type": "app_mention", "user": "U1", "text": text, "ts": "1700000400.000100",
            "thread_ts": "1700000350.000100", "channel": "C1", "event_ts": "1700000400.000100",
            "files": files}  # fmt: skip


async def test_mention_with_an_image_starts_a_job_in_that_thread_once(kit: SlackKit) -> None:
    file = kit.slack.add_file("chef.png", png_bytes())
    status, _ = await kit.driver.event(mention([file]), event_id="Ev100")
    assert status == 200 and kit.driver.elapsed[-1] < 3
    # Slack's retry of the same event, after a slow ack, is dropped.
    status, _ = await kit.driver.event(
        mention([file]),
        event_id="Ev100",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert status == 200
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    await kit.settle()
    [job] = kit.runner.started
    assert job.request.prompt == "the chef tosses the pasta"
    assert job.origin.thread_id == "1700000350.000100"
    assert job.origin.origin_message_id == "1700000400.000100"
    said = kit.slack.calls_to("chat.postEphemeral")[0].params
    assert said["thread_ts"] == "1700000350.000100" and "Held $" in said["text"]


async def test_mention_without_an_image_explains(kit: SlackKit) -> None:
    await kit.driver.event(mention([]), event_id="Ev101")
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    assert "Attach a reference sheet" in kit.slack.calls_to("chat.postEphemeral")[0].params["text"]
    assert kit.runner.started == []


def step(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function_executed", "function": {
                "id": "Fn0", "callback_id": FUNCTION_ID, "title": "Generate LTX video",
                "description": "", "type": "app", "input_parameters": [],
                "output_parameters": [], "app_id": "A0APP", "date_created": 1,
                "date_updated": 1, "date_deleted": 0},
            "inputs": inputs, "function_execution_id": "Fx0001", "workflow_execution_id": "Wx1",
            "event_ts": str(time.time()), "bot_access_token": JIT_TOKEN}  # fmt: skip


async def test_workflow_step_completes_with_the_video_outputs(
    kit: SlackKit, tmp_path: Path
) -> None:
    kit.sleep.release()
    kit.slack.tokens[JIT_TOKEN] = TEAM
    file = kit.slack.add_file("chef.png", png_bytes())
    inputs = {"requester": "U2", "channel": "C1", "sheet": file["id"],
              "prompt": "the chef tosses the pasta", "num_frames": 241}  # fmt: skip
    status, _ = await kit.driver.event(step(inputs), event_id="Ev200")
    assert status == 200
    await kit.runner.wait_started()
    job = kit.runner.started[0]
    assert job.origin.user_id == "U2" and job.request.num_frames == 241  # U2's budget
    assert kit.slack.calls_to("files.info")[0].token == JIT_TOKEN
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    done = job.model_copy(update={"state": JobState.SUCCEEDED, "result": Result(
        video_url="https://v3.fal.media/v.mp4", seed=7)})  # fmt: skip
    await kit.adapter.poster.deliver(done, video, Succeeded(video, Money.usd("0.80"), None))
    await kit.until(lambda: kit.slack.calls_to("functions.completeSuccess"))
    call = kit.slack.calls_to("functions.completeSuccess")[0]
    assert call.token == JIT_TOKEN and call.params["function_execution_id"] == "Fx0001"
    outputs = call.params["outputs"]
    assert outputs["job_id"] == job.id and outputs["cost"] == "$0.80" and outputs["seed"] == 7
    assert outputs["video_link"].startswith("https://fake.slack.com/files/")


async def test_workflow_step_fails_clearly(kit: SlackKit) -> None:
    kit.slack.tokens[JIT_TOKEN] = TEAM
    await kit.driver.event(step({"requester": "U2", "channel": "C1"}), event_id="Ev201")
    await kit.until(lambda: kit.slack.calls_to("functions.completeError"))
    error = kit.slack.calls_to("functions.completeError")[0].params["error"]
    assert "needs a requester, a channel and a reference sheet" in error

    kit.slack.file_readers = set()
    file = kit.slack.add_file("chef.png", png_bytes())
    inputs = {"requester": "U2", "channel": "C1", "sheet": file["id"], "prompt": "go"}
    await kit.driver.event(step(inputs), event_id="Ev202")
    await kit.until(lambda: len(kit.slack.calls_to("functions.completeError")) == 2)
    error = kit.slack.calls_to("functions.completeError")[1].params["error"]
    assert "sign-in page" in error and kit.runner.started == []


async def test_a_job_outliving_the_step_completes_it_with_the_job_id(kit: SlackKit) -> None:
    kit.adapter.runtime.step_wait = 0.05  # stands in for the 13 minutes of a real step
    kit.slack.tokens[JIT_TOKEN] = TEAM
    file = kit.slack.add_file("chef.png", png_bytes())
    inputs = {"requester": "U2", "channel": "C1", "sheet": file["id"], "prompt": "slow one"}
    await kit.driver.event(step(inputs), event_id="Ev300")
    await kit.until(lambda: kit.slack.calls_to("functions.completeSuccess"))
    [job] = kit.runner.started
    outputs = kit.slack.calls_to("functions.completeSuccess")[0].params["outputs"]
    assert outputs == {"job_id": job.id, "video_link": "", "cost": str(Money(job.quoted_nanos))}
    assert kit.slack.calls_to("functions.completeError") == []
