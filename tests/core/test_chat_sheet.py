"""The chat's `sheet` command (Discord's and Slack's `/ltx sheet`) with no platform: the
composed PNG kept by its hash with its sentence inside, labels by number or one per line, each
mismatch refused naming the picture, the day a composed sheet lasts (refused after it, with
nothing held, and removed by the retention sweep)."""

from __future__ import annotations

from typing import Any

from corekit import ALICE, CoreKit, png_attachment

from bot.media.png_text import prompt_prefix_of
from bot.model import ButtonAction, Invocation, Place, Reply

PREFIX = "Reference sheet: a chef, a copper pan, and a bright kitchen."


async def composed(kit: CoreKit, count: int = 3, **options: Any) -> Reply:
    pictures = tuple(
        png_attachment(300 + 100 * n, 400, name=f"p{n}.png") for n in range(1, count + 1)
    )
    place = Place(ALICE.platform, ALICE.scope, "C1")
    invocation = Invocation("sheet", ALICE, place, dict(options), attachments=pictures)
    return await kit.commands.dispatch(invocation)


async def test_the_sheet_is_kept_by_its_hash_with_its_sentence(kit: CoreKit) -> None:
    reply = await composed(kit, labels="a chef\na copper pan\na bright kitchen",
                           kinds="character, prop, location")  # fmt: skip
    assert not reply.refused and reply.file is not None and PREFIX in reply.text
    sha = reply.buttons[0].job_id
    assert reply.file.name == f"{sha}.png" and reply.file.parent.name == "composed-sheets"
    assert prompt_prefix_of(reply.file.read_bytes()) == PREFIX
    assert [b.action for b in reply.buttons] == [
        ButtonAction.SHEET_GENERATE,
        ButtonAction.SHEET_DRAFT,
        ButtonAction.SHEET_SAVE,
    ]
    assert reply.buttons[1].label == "Draft ($0.10)"
    again = await composed(kit, label1="a chef", label2="a copper pan", label3="a bright kitchen",
                           kind1="character", kind2="prop", kind3="location")  # fmt: skip
    assert again.buttons[0].job_id == sha  # the same pictures and words: the same sheet


async def test_labels_that_do_not_match_the_pictures_are_refused_by_name(kit: CoreKit) -> None:
    beyond = await composed(kit, 2, label1="a chef", label2="a pan", label3="a kitchen")
    assert beyond.refused and "label3 ('a kitchen') has no picture" in beyond.text
    gap = await composed(kit, 3, label1="a chef", label3="a kitchen")
    assert gap.refused and "Picture 2 (p2.png) has no label" in gap.text
    lines = await composed(kit, 3, labels="a chef\na pan")
    assert lines.refused and "picture 3 (p3.png) has none" in lines.text
    kind = await composed(kit, 2, kinds="character\nhat")
    assert kind.refused and "Picture 2 (p2.png): kind 'hat'" in kind.text
    many = await composed(kit, 7)
    assert many.refused and "at most 6 pictures" in many.text
    assert not (kit.services.settings.data_dir / "composed-sheets").exists()


async def test_a_composed_sheet_lasts_a_day(kit: CoreKit) -> None:
    reply = await composed(kit, labels="a chef\na copper pan\na bright kitchen")
    sha = reply.buttons[0].job_id
    held = await kit.invoke("generate", composed_sheet=sha, prompt="the chef tosses pasta",
                            num_frames=9)  # fmt: skip
    assert "Held" in held.text, held.text
    assert kit.runner.started[-1].request.prompt.startswith(PREFIX + " Generated video: ")
    kit.clock.advance(hours=25)
    late = await kit.invoke("generate", composed_sheet=sha, prompt="again", num_frames=9)
    assert late.refused and "no longer kept" in late.text and "/ltx sheet" in late.text
    assert len(kit.runner.started) == 1
    await kit.services.retention.sweep()
    assert reply.file is not None and not reply.file.exists()
    forged = await kit.invoke("generate", composed_sheet="../db.sqlite3", prompt="x")
    assert forged.refused and "no longer kept" in forged.text


async def test_a_composed_sheet_and_an_attached_one_are_refused_together(kit: CoreKit) -> None:
    reply = await composed(kit, 1)
    both = await kit.invoke("generate", attachment=png_attachment(),
                            composed_sheet=reply.buttons[0].job_id, prompt="x")  # fmt: skip
    assert both.refused and "give one sheet" in both.text
    assert kit.runner.started == []
