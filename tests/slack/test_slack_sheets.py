"""Saved sheets on Slack over signed HTTP against the fake Web API: `/ltx sheets save NAME`
opens a form for the file, its submission saves the sheet for the workspace, `/ltx sheets`
lists it, and the generate form's Saved sheet field makes a video from it."""

from __future__ import annotations

import json
from typing import Any

from slackkit import SlackKit, png_bytes, view_submission

from adapters.slack.modal import generate_modal
from adapters.slack.sheet_save import CALLBACK_ID


def save_values(file: dict[str, Any] | None, name: str) -> dict[str, Any]:
    return {
        "sheet": {"sheet": {"type": "file_input", "files": [file] if file else []}},
        "name": {"name": {"type": "plain_text_input", "value": name}},
    }


def generate_values(saved: str, file: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "sheet": {"sheet": {"type": "file_input", "files": [file] if file else []}},
        "saved_sheet": {"sheet_name": {"type": "plain_text_input", "value": saved}},
        "prompt": {"prompt": {"type": "plain_text_input", "value": "the chef tosses pasta"}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
        "opt_resolution_custom": {"resolution_custom": {"type": "plain_text_input",
                                                        "value": "256x160"}},
        "opt_num_frames": {"num_frames": {"type": "number_input", "value": "9"}},
    }  # fmt: skip


async def saved_kitchen(kit: SlackKit) -> None:
    """`/ltx sheets save kitchen`, then the form submitted with a PNG."""
    status, _ = await kit.driver.command("sheets save kitchen", trigger="trig-save")
    assert status == 200
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    view = kit.slack.calls_to("views.open")[0].params["view"]
    assert view["callback_id"] == CALLBACK_ID
    name = next(b for b in view["blocks"] if b["block_id"] == "name")
    assert name["element"]["initial_value"] == "kitchen"
    file = kit.slack.add_file("kitchen.png", png_bytes(640, 480))
    status, body = await kit.driver.interactive(
        view_submission({**view, "id": "VSAVE"}, save_values(file, "kitchen"))
    )
    assert status == 200 and body == ""
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said = kit.slack.calls_to("chat.postEphemeral")[-1].params
    assert said["user"] == "U1" and said["channel"] == "C1"
    assert said["text"].startswith("Saved sheet `kitchen` (640x480)")


async def test_save_in_a_form_then_list_with_the_text_command(kit: SlackKit) -> None:
    await saved_kitchen(kit)
    await kit.driver.command("sheets", user="U2", response_url=kit.response_url("list"))
    await kit.until(lambda: kit.slack.responses)
    assert "`kitchen` 640x480 · saved by u1" in kit.slack.responses[0]["text"]


async def test_the_save_form_refuses_a_missing_file_or_a_bad_name(kit: SlackKit) -> None:
    from adapters.slack.sheet_save import save_sheet_modal

    view = {**save_sheet_modal(channel_id="C1"), "id": "VSAVE"}
    status, body = await kit.driver.interactive(view_submission(view, save_values(None, "a b")))
    assert status == 200 and '"response_action":"errors"' in body.replace(" ", "")
    assert "Attach the sheet to save" in body and "letters, digits, - or _" in body


async def test_the_generate_form_makes_a_video_from_a_saved_sheet(kit: SlackKit) -> None:
    await saved_kitchen(kit)
    form = {**generate_modal(channel_id="C1", price="$0.40"), "id": "VGEN"}
    status, body = await kit.driver.interactive(
        view_submission(form, generate_values("kitchen"), trigger="trig-gen")
    )
    assert status == 200 and body == "", body
    (job,) = await kit.runner.wait_started()
    assert job.origin.user_id == "U1" and job.sheet_path is not None
    assert len(kit.slack.calls_to("download")) == 1  # only the save fetched the file


async def test_a_file_and_a_saved_name_together_are_refused_in_the_form(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    form = {**generate_modal(channel_id="C1"), "id": "VGEN"}
    _, body = await kit.driver.interactive(view_submission(form, generate_values("x", file)))
    assert "saved_sheet" in body and "not both" in body
    assert kit.runner.started == []


async def test_an_unknown_saved_name_is_refused_under_its_field(kit: SlackKit) -> None:
    await saved_kitchen(kit)
    form = {**generate_modal(channel_id="C1"), "id": "VGEN"}
    _, body = await kit.driver.interactive(view_submission(form, generate_values("kitchn")))
    errors = json.loads(body)["errors"]
    assert errors == {"saved_sheet": "No sheet is saved here as `kitchn`. Close names: `kitchen`."}
    assert kit.runner.started == []


async def test_delete_as_text_only_for_the_saver(kit: SlackKit) -> None:
    await saved_kitchen(kit)
    await kit.driver.command("sheets delete kitchen", user="U2", trigger="t-del-1",
                             response_url=kit.response_url("d1"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == 1)
    assert "only they or an admin can delete it" in kit.slack.responses[0]["text"]
    await kit.driver.command("sheets delete kitchen", trigger="t-del-2",
                             response_url=kit.response_url("d2"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == 2)
    assert kit.slack.responses[1]["text"].startswith("Deleted sheet `kitchen`")
    await kit.driver.command("sheets rename x", trigger="t-del-3",
                             response_url=kit.response_url("d3"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == 3)
    assert "sheets takes list, save, delete" in kit.slack.responses[2]["text"]
