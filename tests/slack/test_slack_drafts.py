"""Drafts and finals on Slack: the form's Draft box holds the draft's price (121 x 768x448 =
$0.101115) and its live price says so; the draft's status message ends with "Final ($X)"
beside Reroll; Final makes the draft's request with its seed at 1536x896 in the draft's
thread, refused over budget with nothing held; Raw prompt is a box of the form too."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from slackkit import (
    BOT_TOKEN,
    TEAM,
    SlackKit,
    block_actions,
    on_simulated_fal,
    png_bytes,
    view_submission,
)
from test_slack_submit import form, values

from adapters.slack.modal import generate_modal
from bot.jobs.record import JobState, Result
from bot.model import Platform
from bot.money import Money
from bot.ports.policy import Cap, CapKind
from bot.request import ImageSize
from tests.fakes.slack_api import FakeSlackAPI

TICKED = {"type": "checkboxes", "selected_options": [{"text": {"type": "plain_text",
          "text": "on"}, "value": "on"}]}  # fmt: skip
FRAMES_121 = {"type": "number_input", "value": "121"}


def final_button(job_id: str) -> dict[str, str]:
    return {"type": "button", "block_id": "ltx_job_buttons", "action_id": "ltx_job_final",
            "value": f"final:{job_id}"}  # fmt: skip


def test_the_form_has_a_draft_box_and_a_raw_prompt_box() -> None:
    blocks = {b.get("block_id"): b for b in generate_modal(channel_id="C1")["blocks"]}
    for name, label in (("draft", "Draft"), ("raw_prompt", "Raw prompt")):
        block = blocks[f"opt_{name}"]
        assert block["label"]["text"] == label and block["optional"]
        assert block["element"]["type"] == "checkboxes"
        assert "initial_options" not in block["element"]  # off unless ticked
    assert blocks["opt_draft"]["dispatch_action"]  # ticking it asks for a fresh price


async def test_a_draft_from_the_form_is_held_at_the_draft_price(kit: SlackKit) -> None:
    assert kit.adapter.runtime.price({"num_frames": 121, "draft": True}) == "$0.10"
    assert kit.adapter.runtime.price({"num_frames": 121}) == "$0.40"
    file = kit.slack.add_file("sheet.png", png_bytes())
    state = values(file, num_frames=FRAMES_121, draft=TICKED)
    status, body = await kit.driver.interactive(view_submission(form(), state))
    assert status == 200 and body == "", body
    (draft,) = await kit.runner.wait_started()
    assert draft.draft and draft.request.size() == ImageSize(width=768, height=448)
    assert draft.quoted_nanos == 101_115_000 and Money(draft.quoted_nanos).exact_str() == "0.101115"
    assert draft.final_nanos == 402_052_500
    assert await kit.open_holds() == [draft.id]


async def test_a_draft_with_a_size_is_refused_under_the_size(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    size = {"type": "static_select", "selected_option": {"value": "1280x720"}}
    state = values(file, resolution=size, draft=TICKED)
    status, body = await kit.driver.interactive(view_submission(form(), state))
    assert status == 200 and "opt_resolution" in body and "does not go with a draft" in body
    assert kit.runner.started == [] and await kit.open_holds() == []


async def test_an_over_budget_final_is_refused_with_nothing_held(kit: SlackKit) -> None:
    cap = Cap(CapKind.DEFAULT, "", Money.usd("0.30"), "day")
    at = kit.services.clock()
    await kit.services.budgets.admin.set_cap(f"slack:{TEAM}", cap, actor="root", reason="", at=at)
    file = kit.slack.add_file("sheet.png", png_bytes())
    state = values(file, num_frames=FRAMES_121, draft=TICKED)
    await kit.driver.interactive(view_submission(form(), state))
    (draft,) = await kit.runner.wait_started()
    stored = await kit.services.jobs.get(draft.id)
    assert stored is not None
    seeded = stored.advance(JobState.SUBMITTED, kit.services.clock())
    assert await kit.services.jobs.replace(seeded)
    done = seeded.advance(JobState.RUNNING, kit.services.clock())
    assert await kit.services.jobs.replace(done)
    done = done.advance(JobState.SUCCEEDED, kit.services.clock(),
                        result=Result(video_url="https://v3.fal.media/x.mp4", seed=7))  # fmt: skip
    assert await kit.services.jobs.replace(done)
    url = kit.response_url("final")
    await kit.driver.interactive(block_actions(final_button(draft.id), response_url=url))
    await kit.until(lambda: kit.slack.responses)
    said = kit.slack.responses[0]["text"]
    assert "Held" not in said and "$0.40" in said
    assert await kit.open_holds() == [draft.id] and len(kit.runner.started) == 1


async def test_a_draft_and_its_final_in_its_thread_on_the_simulated_fal(tmp_path: Path) -> None:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        slack.add_user("U1", name="Alice")
        async with on_simulated_fal(tmp_path, slack, generation_seconds=0.05) as (core, driver):
            assert core.simulated_fal is not None
            file = slack.add_file("chef.png", png_bytes(384, 224))
            frames = {"type": "number_input", "value": "9"}
            state = values(file, "the chef tosses the pasta", num_frames=frames, draft=TICKED)
            status, _ = await driver.interactive(view_submission(form(), state))
            assert status == 200
            (sent,) = await core.simulated_fal.submissions.wait_for(1, timeout=30)
            [draft] = await core.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                       user_id="U1")  # fmt: skip
            await asyncio.wait_for(core.supervisor.wait(draft.id), 20)
            await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 20)
            draft = await core.storage.jobs.get(draft.id)
            assert draft is not None and draft.origin.status_message_id is not None
            status_ts = draft.origin.status_message_id
            buttons: list[dict[str, Any]] = slack.messages[("C1", status_ts)]["blocks"][-1][
                "elements"
            ]
            press = block_actions(final_button(draft.id), message_ts=status_ts,
                                  response_url=f"{slack.base_url}/response/f")  # fmt: skip
            await driver.interactive(press)
            submitted = await core.simulated_fal.submissions.wait_for(2, timeout=30)
            (final,) = [
                job
                for job in await core.storage.jobs.in_states(list(JobState))
                if job.final_of == draft.id
            ]
            await asyncio.wait_for(core.supervisor.wait(final.id), 30)
            await slack.wait_for(
                lambda: len(slack.calls_to("files.completeUploadExternal")) == 2, 20
            )
            final = await core.storage.jobs.get(final.id)
    assert sent.arguments["resolution"] == {"width": 768, "height": 448}
    assert [b["action_id"] for b in buttons] == [
        "ltx_job_final",
        "ltx_job_reroll",
        "ltx_job_details",
    ]
    assert buttons[0]["text"]["text"] == "Final ($0.0312975)"  # 9 x 1536x896 = 13 MP
    again = submitted[1].arguments
    assert again["resolution"] == {"width": 1536, "height": 896}
    assert draft.result is not None and again["seed"] == draft.result.seed
    assert final is not None and final.state is JobState.DELIVERED
    assert final.origin.thread_id == status_ts  # in the draft's thread
    uploads = slack.calls_to("files.completeUploadExternal")
    assert uploads[1].params["thread_ts"] == status_ts
