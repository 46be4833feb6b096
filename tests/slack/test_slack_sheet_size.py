"""`/ltx sheet` on Slack with a size, over signed HTTP against the fake Web API: the form's
Size field takes an aspect ratio or a resolution as `ltxbot sheet` does (a bad one refused under
the field before the ack), the PNG goes up named and titled by its labels, the video keeps the
sheet's shape, the Save form suggests that name, and a prompt the sheet's description takes
past 4000 characters is refused with by how much, nothing held."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from slackkit import SlackKit, png_bytes, view_submission
from test_slack_sheet_compose import (
    buttons,
    compose_values,
    opened_save_form,
    pictures,
    press_and_submit,
)

from adapters.slack.sheet_compose import COMPOSE_ID, compose_sheet_modal
from bot.request import ImageSize

NAME = "sheet-chef-copper-pan-bright-kitchen.png"


def sized(values: dict[str, Any], size: str) -> dict[str, Any]:
    return {**values, "size": {"size": {"type": "plain_text_input", "value": size}}}


async def compose(kit: SlackKit, values: dict[str, Any]) -> dict[str, Any]:
    """`/ltx sheet`, its form submitted with `values`; the ephemeral answer's params."""
    await kit.driver.command("sheet", trigger="trig-sheet")
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    view = kit.slack.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == COMPOSE_ID
    assert "size" in [block["block_id"] for block in view["blocks"]]
    status, body = await kit.driver.interactive(
        view_submission({**view, "id": "VSIZE"}, values, trigger="trig-c")
    )
    assert status == 200 and body == "", body
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    return kit.slack.calls_to("chat.postEphemeral")[-1].params


async def test_the_size_field_sizes_the_sheet_its_name_and_the_video(kit: SlackKit) -> None:
    said = await compose(kit, sized(compose_values(pictures(kit)), "9:16"))
    assert "(864x1568)" in said["text"] and NAME in said["text"]
    (asked,) = kit.slack.calls_to("files.getUploadURLExternal")
    assert asked.params["filename"] == NAME
    (upload,) = kit.slack.calls_to("files.completeUploadExternal")
    assert str(upload.params["files"]).count(NAME) == 1  # its title
    (stored,) = [file for file in kit.slack.files.values() if file.name == NAME]
    with Image.open(io.BytesIO(stored.data)) as image:
        assert image.size == (864, 1568)
    await press_and_submit(kit, buttons(said)["Generate..."], 1)
    (job,) = await kit.runner.wait_started()
    assert job.request.size() == ImageSize(width=864, height=1568)


async def test_a_bad_size_is_refused_under_its_field_before_the_ack(kit: SlackKit) -> None:
    view = {**compose_sheet_modal(channel_id="C1"), "id": "VBAD"}
    values = sized(compose_values(pictures(kit)), "12:1")
    status, body = await kit.driver.interactive(view_submission(view, values))
    assert status == 200 and '"response_action":"errors"' in body.replace(" ", "")
    assert '"size"' in body and "not an aspect ratio from 1:4 to 4:1" in body
    both = sized(compose_values(pictures(kit)), "huge")
    status, body = await kit.driver.interactive(view_submission(view, both))
    assert "resolution" in body and '"size"' in body
    assert not (kit.adapter.settings.data_dir / "composed-sheets").exists()


async def test_the_save_form_suggests_the_sheets_name(kit: SlackKit) -> None:
    found = buttons(await compose(kit, sized(compose_values(pictures(kit)), "1280x720")))
    view = await opened_save_form(kit, found)
    (field,) = [block["element"] for block in view["blocks"] if block["block_id"] == "name"]
    assert field["initial_value"] == NAME[6:-4]


async def test_a_prompt_the_description_takes_past_4000_is_refused(kit: SlackKit) -> None:
    files = [kit.slack.add_file(f"p{n}.png", png_bytes(300, 300)) for n in range(1, 7)]
    labels = "\n".join(f"{n} " + "l" * 197 for n in range(1, 7))  # 6 long labels
    values = {**compose_values(files, labels), "kinds": {"kinds": {"type": "plain_text_input"}}}
    found = buttons(await compose(kit, values))
    said = len(kit.slack.calls_to("chat.postEphemeral"))
    await press_and_submit(kit, found["Generate..."], 2, prompt="p" * 3000)
    await kit.until(lambda: len(kit.slack.calls_to("chat.postEphemeral")) > said)
    text = kit.slack.calls_to("chat.postEphemeral")[-1].params["text"]
    assert "plus the prompt is" in text and "characters over the 4,000" in text, text
    assert "Raw prompt box" in text
    assert await kit.open_holds() == [] and kit.runner.started == []
