"""`/ltx sheet` on Discord with a size, through discord.py against a fake Discord: `aspect:9:16`
composes a tall sheet, attached under a name from its labels, and the video from it keeps that
shape; the Save form suggests that name; a prompt the sheet's description takes past 4000
characters is refused with by how much, and nothing is held."""

from __future__ import annotations

import io
from typing import Any

from discordkit import ALICE, CHANNEL, Kit
from PIL import Image
from test_discord_sheet_compose import PICTURES, buttons, submitted

from bot.request import ImageSize
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o

EPHEMERAL = 1 << 6
NAME = "sheet-chef-copper-pan-bright-kitchen.png"


async def composed(kit: Kit, **sizes: str) -> dict[str, Any]:
    """`/ltx sheet` with the three pictures and `sizes`; checks the attached PNG's name and
    size against the answer, and returns the answer."""
    options: dict[str, object] = dict(sizes)
    files = {}
    for n, (name, data, label, kind) in enumerate(PICTURES, 1):
        files[f"image{n}"] = kit.sheet(data, name)
        options |= {f"label{n}": label, f"kind{n}": kind}
    data = ix.slash_data("ltx", "sheet", options, attachments=files)
    payload = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
    kit.deliver(payload)
    text = await kit.answer(payload)
    (answer,) = [c for c in kit.fake.webhook_calls(payload) if c.method == "PATCH"]
    (upload,) = answer.files
    assert upload.filename == NAME, text
    with Image.open(io.BytesIO(upload.data)) as image:
        assert f"({image.width}x{image.height})" in text
    return answer.body


async def test_an_aspect_ratio_sizes_the_sheet_and_the_video_keeps_it(kit: Kit) -> None:
    message = await composed(kit, aspect="9:16")
    assert "(864x1568)" in message["content"]
    assert "Held" in await submitted(kit, buttons(message)["Generate..."])
    assert kit.runner.started[-1].request.size() == ImageSize(width=864, height=1568)


async def test_a_bad_size_is_refused_before_anything_is_composed(kit: Kit) -> None:
    options: dict[str, object] = {"label1": "a chef", "aspect": "12:1"}
    data = ix.slash_data("ltx", "sheet", options, attachments={"image1": kit.sheet(PICTURES[0][1])})
    payload = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
    kit.deliver(payload)
    assert "not an aspect ratio from 1:4 to 4:1" in await kit.answer(payload)
    assert not (kit.settings.data_dir / "composed-sheets").exists()


async def test_the_save_form_suggests_the_sheets_name(kit: Kit) -> None:
    custom_id = buttons(await composed(kit, resolution="1280x720"))["Save..."]
    shown = o.message(o.snowflake(), CHANNEL, kit.fake.bot, components=[
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": custom_id}]}
    ], flags=EPHEMERAL)  # fmt: skip
    press = kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, ALICE, ix.button_data(custom_id),
                                 message=shown)  # fmt: skip
    kit.deliver(press)
    (opened,) = await kit.fake.wait_for(lambda: kit.fake.callbacks(press))
    assert opened.body["type"] == 9
    assert NAME[6:-4] in str(opened.body["data"]["components"])
    said = await submitted(kit, custom_id, name=NAME[6:-4])
    assert said.startswith(f"Saved sheet `{NAME[6:-4]}` (1280x720)"), said


async def test_a_prompt_the_description_takes_past_4000_is_refused(kit: Kit) -> None:
    generate = buttons(await composed(kit))["Generate..."]
    said = await submitted(kit, generate, prompt="p" * 3990)
    assert "plus the prompt is" in said and "characters over the 4,000" in said, said
    assert "raw_prompt:True" in said
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
