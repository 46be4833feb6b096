"""The chat's `sheet` command: its size (the user's resolution or aspect ratio, else the
channel's preset, else 1536x896) reaches the composer and then the video; a readable name from
its labels where people see it; and a prompt the sheet's sentence takes past 4000 characters
refused with by how much, before anything is held."""

from __future__ import annotations

from typing import Any

from corekit import ADMIN, ALICE, CoreKit, png_attachment

from bot.media.composed_sheets import readable_stem, sheet_file_name, suggested_name
from bot.model import Invocation, Place, Reply
from bot.request import MAX_PROMPT_CHARS
from commands.sheet import size_options

LABELS = "a chef in a white jacket\na copper pan\na bright studio kitchen"


async def composed(kit: CoreKit, channel: str = "C1", **options: Any) -> Reply:
    pictures = tuple(png_attachment(400, 300, name=f"p{n}.png") for n in range(1, 4))
    place = Place(ALICE.platform, ALICE.scope, channel)
    invocation = Invocation("sheet", ALICE, place, dict(options), attachments=pictures)
    return await kit.commands.dispatch(invocation)


async def test_the_users_resolution_or_aspect_sizes_the_sheet_and_then_the_video(
    kit: CoreKit,
) -> None:
    sized = await composed(kit, labels=LABELS, resolution="1280x720")
    assert sized.data is not None and (sized.data["width"], sized.data["height"]) == (1280, 720)
    assert "($0.27 at 1280x720, 121 frames)" in sized.text, sized.text  # the video there
    tall = await composed(kit, aspect="9:16")
    assert tall.data is not None and (tall.data["width"], tall.data["height"]) == (864, 1568)
    held = await kit.invoke("generate", composed_sheet=tall.buttons[0].job_id, prompt="x")
    assert "Held" in held.text, held.text
    size = kit.runner.started[-1].request.size()
    assert (size.width, size.height) == (864, 1568)  # the video keeps the sheet's shape
    draft = await kit.invoke("generate", composed_sheet=tall.buttons[0].job_id, prompt="x",
                             draft=True)  # fmt: skip
    assert "Held" in draft.text, draft.text
    drafted = kit.runner.started[-1].request.size()
    assert (drafted.width, drafted.height) == (768, 448)  # a draft: the LoRA's bucket
    own = await kit.invoke("generate", composed_sheet=tall.buttons[0].job_id, prompt="x",
                           resolution="768x448")  # fmt: skip
    assert "Held" in own.text and kit.runner.started[-1].request.size().width == 768


async def test_a_bad_size_is_refused_as_the_terminal_refuses_it(kit: CoreKit) -> None:
    both = await composed(kit, resolution="1280x720", aspect="16:9")
    assert both.refused and "not both" in both.text
    flat = await composed(kit, aspect="9:1")
    assert flat.refused and "not an aspect ratio from 1:4 to 4:1" in flat.text
    odd = await composed(kit, resolution="huge")
    assert odd.refused and "resolution" in odd.text
    assert not (kit.services.settings.data_dir / "composed-sheets").exists()
    assert size_options(" 16:9 ") == {"aspect": "16:9"}
    assert size_options("1280x720") == {"resolution": "1280x720"}
    assert (
        size_options("portrait_16_9") == {"resolution": "portrait_16_9"} and size_options("") == {}
    )


async def test_the_channels_preset_size_is_the_sheets_when_the_user_gives_none(
    kit: CoreKit,
) -> None:
    place = Place(ADMIN.platform, ADMIN.scope, "C7")
    preset = Invocation("admin defaults", ADMIN, place, {"resolution": "1280x720"})
    assert "Updated" in (await kit.commands.dispatch(preset)).text
    there = await composed(kit, "C7")
    assert there.data is not None and (there.data["width"], there.data["height"]) == (1280, 720)
    mine = await composed(kit, "C7", aspect="1:1")
    assert mine.data is not None and mine.data["width"] == mine.data["height"]
    elsewhere = await composed(kit, "C1")
    assert elsewhere.data is not None and elsewhere.data["width"] == 1536


async def test_the_sheet_is_named_by_its_labels_where_people_see_it(kit: CoreKit) -> None:
    reply = await composed(kit, labels=LABELS)
    name = "sheet-chef-white-jacket-copper-pan-bright.png"
    assert reply.file_name == name and reply.data is not None and reply.data["file_name"] == name
    assert reply.file is not None and reply.file.name != name  # on disk: by its hash
    sha = reply.buttons[0].job_id
    assert await suggested_name(kit.services.settings.data_dir, sha) == name[6:-4]
    assert await suggested_name(kit.services.settings.data_dir, "0" * 64) is None
    plain = await composed(kit)
    assert plain.file_name == "sheet-prop-prop-prop.png"  # no labels: the kinds' words
    saved = await kit.invoke("sheets", action="save", name=name[6:-4], composed_sheet=sha)
    assert not saved.refused, saved.text  # the suggestion is a name `sheets save` takes


def test_a_readable_name_is_safe_and_bounded() -> None:
    assert readable_stem("Reference sheet: a chef, a knife, and a kitchen.") == "chef-knife-kitchen"
    assert readable_stem("Reference sheet: Crème brûlée / ../../etc & <b>.") == "creme-brulee-etc-b"
    long = readable_stem("Reference sheet: " + " ".join(["supercalifragilistic"] * 9) + ".")
    assert long == "supercalifragilistic"  # a second would pass 40: cut between words
    assert readable_stem("Reference sheet: " + "x" * 90) == "x" * 40
    assert readable_stem(None) == readable_stem("Reference sheet: !!!") == "composed"
    assert sheet_file_name("Reference sheet: 日本.") == "sheet-composed.png"


async def test_a_prompt_the_sheets_description_takes_past_4000_is_refused_by_how_much(
    kit: CoreKit,
) -> None:
    reply = await composed(kit, labels=LABELS)
    prefix = str((reply.data or {})["prompt_prefix"])
    prompt = "a" * (MAX_PROMPT_CHARS - 20)  # fits alone
    over = len(prefix) + len(" Generated video: ") + len(prompt) - MAX_PROMPT_CHARS
    refused = await kit.invoke("generate", composed_sheet=reply.buttons[0].job_id, prompt=prompt)
    assert refused.refused
    assert f"The sheet's description ({len(prefix)} characters) plus the prompt is {over} " \
        "characters over the 4,000 the model takes" in refused.text  # fmt: skip
    assert "Shorten the prompt" in refused.text and "raw_prompt:True" in refused.text
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
