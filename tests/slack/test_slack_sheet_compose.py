"""`/ltx sheet` on Slack over signed HTTP against the fake Web API: the form takes several
files with their labels and kinds; the composed PNG goes to the requester's DM with the app
(Slack has no ephemeral files) and the buttons come ephemerally in the channel; each button
opens a prompt form whose submission holds a job from that sheet with the structured prompt,
after a restart too; a bad picture is refused by name with nothing held."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slackkit import SlackKit, block_actions, png_bytes, view_submission

from adapters.slack.sheet_compose import COMPOSE_ID, PROMPT_ID, SAVE_ID
from bot.request import ImageSize
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.conftest import slack_kit

SENT = (
    "Reference sheet: a chef, a copper pan, and a bright kitchen. "
    "Generated video: the chef tosses pasta"
)
LABELS = "a chef\na copper pan\na bright kitchen"
KINDS = "character\nprop\nlocation"


def compose_values(files: list[dict[str, Any]], labels: str = LABELS) -> dict[str, Any]:
    return {
        "pictures": {"pictures": {"type": "file_input", "files": files}},
        "labels": {"labels": {"type": "plain_text_input", "value": labels}},
        "kinds": {"kinds": {"type": "plain_text_input", "value": KINDS}},
    }


def pictures(kit: SlackKit, second: bytes | None = None) -> list[dict[str, Any]]:
    return [
        kit.slack.add_file("chef.png", png_bytes(400, 600)),
        kit.slack.add_file("pan.png", second or png_bytes(300, 300)),
        kit.slack.add_file("kitchen.png", png_bytes(800, 450)),
    ]


async def submit_compose(kit: SlackKit, files: list[dict[str, Any]]) -> dict[str, Any]:
    """`/ltx sheet`, then its form submitted with `files`; the ephemeral answer's params."""
    status, _ = await kit.driver.command("sheet", trigger="trig-sheet")
    assert status == 200
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    view = kit.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == COMPOSE_ID
    status, body = await kit.driver.interactive(
        view_submission({**view, "id": "VCOMPOSE"}, compose_values(files), trigger="trig-c")
    )
    assert status == 200 and body == "", body
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said: dict[str, Any] = kit.slack.calls_to("chat.postEphemeral")[-1].params
    assert said["user"] == "U1" and said["channel"] == "C1"
    return said


def buttons(said: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["text"]["text"]: element
        for block in said["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def press_and_submit(kit: SlackKit, button: dict[str, Any], n: int, **form: str) -> None:
    """Press a sheet button, check its prompt form opens, submit it."""
    opened = len(kit.slack.calls_to("views.open"))
    action = {"type": "button", "action_id": button["action_id"], "value": button["value"],
              "block_id": "ltx_job_buttons"}  # fmt: skip
    status, _ = await kit.driver.interactive(block_actions(action, trigger=f"trig-press-{n}"))
    assert status == 200
    await kit.until(lambda: len(kit.slack.calls_to("views.open")) > opened)
    view = kit.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == PROMPT_ID
    prompt = {"type": "plain_text_input", "value": form.get("prompt", "the chef tosses pasta")}
    seed = {"type": "plain_text_input", "value": form.get("seed")}
    duration = {"type": "plain_text_input", "value": form.get("duration")}
    values = {"prompt": {"prompt": prompt}, "seed": {"seed": seed},
              "duration": {"duration": duration}}  # fmt: skip
    status, body = await kit.driver.interactive(
        view_submission({**view, "id": f"VPROMPT{n}"}, values, trigger=f"trig-prompt-{n}")
    )
    assert status == 200 and body == "", body


async def opened_save_form(kit: SlackKit, found: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Press a composed sheet's Save...; the name form it opens."""
    opened = len(kit.slack.calls_to("views.open"))
    action = {"type": "button", "action_id": found["Save..."]["action_id"],
              "value": found["Save..."]["value"], "block_id": "ltx_job_buttons"}  # fmt: skip
    await kit.driver.interactive(block_actions(action, trigger="trig-save"))
    await kit.until(lambda: len(kit.slack.calls_to("views.open")) > opened)
    view: dict[str, Any] = kit.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == SAVE_ID
    return view


async def test_compose_then_generate_and_draft_from_the_sheet(kit: SlackKit) -> None:
    said = await submit_compose(kit, pictures(kit))
    assert "Reference sheet: a chef, a copper pan, and a bright kitchen." in said["text"]
    assert "direct messages with the app" in said["text"]
    (upload,) = kit.slack.calls_to("files.completeUploadExternal")
    assert upload.params["channel_id"].startswith("D")  # the DM, never the channel
    found = buttons(said)
    assert list(found) == ["Generate...", "Draft ($0.10)", "Save..."]
    await press_and_submit(kit, found["Generate..."], 1, seed="7")
    (job,) = await kit.runner.wait_started()
    assert job.request.prompt == SENT and job.request.seed == 7 and not job.draft
    assert job.request.size() == ImageSize(width=1536, height=896)
    await press_and_submit(kit, found["Draft ($0.10)"], 2, duration="2")
    draft = (await kit.runner.wait_started(2))[-1]
    assert draft.draft and draft.request.size() == ImageSize(width=768, height=448)
    assert draft.request.num_frames == 49 and draft.request.prompt == SENT  # 2 s at 24 fps


async def test_save_keeps_the_composed_sheet_for_the_workspace(kit: SlackKit) -> None:
    view = await opened_save_form(kit, buttons(await submit_compose(kit, pictures(kit))))
    values = {"name": {"name": {"type": "plain_text_input", "value": "kitchen"}}}
    said = len(kit.slack.calls_to("chat.postEphemeral"))
    await kit.driver.interactive(view_submission({**view, "id": "VKEEP"}, values))
    await kit.until(lambda: len(kit.slack.calls_to("chat.postEphemeral")) > said)
    text = kit.slack.calls_to("chat.postEphemeral")[-1].params["text"]
    assert text.startswith("Saved sheet `kitchen` (1536x896)")
    assert "Prompts made with it start: Reference sheet: a chef, a copper pan" in text


async def test_a_bad_picture_is_refused_by_name_with_nothing_held(kit: SlackKit) -> None:
    said = await submit_compose(kit, pictures(kit, second=b"not a picture at all"))
    assert said["text"].startswith("Picture 2 (pan.png): ")
    assert not buttons(said) and not kit.slack.calls_to("files.completeUploadExternal")
    assert not (kit.adapter.settings.data_dir / "composed-sheets").exists()
    assert await kit.open_holds() == [] and kit.runner.started == []


async def test_the_form_refuses_more_than_six_pictures_before_its_ack(kit: SlackKit) -> None:
    from adapters.slack.sheet_compose import compose_sheet_modal

    files = [kit.slack.add_file(f"p{n}.png", png_bytes()) for n in range(7)]
    view = {**compose_sheet_modal(channel_id="C1"), "id": "VMANY"}
    status, body = await kit.driver.interactive(view_submission(view, compose_values(files, "")))
    assert status == 200 and '"response_action":"errors"' in body.replace(" ", "")
    assert "Choose 1 to 6 pictures" in body


async def test_the_buttons_work_after_a_restart(tmp_path: Path, slack: FakeSlackAPI) -> None:
    async with slack_kit(tmp_path, slack, wire_poster=False) as first:
        found = buttons(await submit_compose(first, pictures(first)))
    async with slack_kit(tmp_path, slack, wire_poster=False) as again:
        await press_and_submit(again, found["Generate..."], 3)
        (job,) = await again.runner.wait_started()
        assert job.request.prompt == SENT
