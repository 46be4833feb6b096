"""Saved sheets on Discord, through discord.py against a fake Discord: `/ltx sheets` saves an
attached sheet for the server and lists it, `/ltx generate sheet_name:` makes a video from it,
the name is suggested as it is typed, and another member cannot replace it."""

from __future__ import annotations

import os

from discordkit import ADMIN, ALICE, BOB, CHANNEL, SMALL, Kit, png

from tests.fakes.discord_api import interactions as ix

TINY = {key: value for key, value in SMALL.items() if key != "resolution"}  # `auto`: its shape


def linked_to_the_saved_picture(sheet_path: str | None, kit: Kit) -> bool:
    (picture,) = (kit.settings.data_dir / "saved-sheets").iterdir()
    return sheet_path is not None and os.path.samefile(sheet_path, picture)


async def test_save_list_and_generate_from_a_saved_sheet(kit: Kit) -> None:
    save = kit.slash("sheets", sheet=kit.sheet(png(640, 480)), action="save", name="kitchen")
    kit.deliver(save)
    assert (await kit.answer(save)).startswith("Saved sheet `kitchen` (640x480)")
    listed = kit.slash("sheets", BOB)
    kit.deliver(listed)
    assert "`kitchen` 640x480 · saved by alice" in await kit.answer(listed)
    generate = kit.slash("generate", BOB, sheet_name="kitchen", **TINY)
    kit.deliver(generate)
    assert "Held" in await kit.answer(generate)
    (job,) = kit.runner.started
    assert job.origin.user_id == BOB["user"]["id"]
    assert linked_to_the_saved_picture(job.sheet_path, kit)


async def test_only_the_saver_or_an_admin_replaces_a_name(kit: Kit) -> None:
    first = kit.slash("sheets", sheet=kit.sheet(png()), action="save", name="hero")
    kit.deliver(first)
    await kit.answer(first)
    other = kit.slash("sheets", BOB, sheet=kit.sheet(png(320, 320)), action="save", name="hero")
    kit.deliver(other)
    assert "already saved here by alice" in await kit.answer(other)
    admin = kit.slash("sheets", ADMIN, sheet=kit.sheet(png(320, 320)), action="save", name="hero")
    kit.deliver(admin)
    assert (await kit.answer(admin)).startswith("Replaced sheet `hero` (320x320)")


async def test_the_sheet_name_is_suggested_from_the_servers_saved_sheets(kit: Kit) -> None:
    for name in ("kitchen", "chef", "kitchen-night"):
        save = kit.slash("sheets", ALICE, sheet=kit.sheet(png()), action="save", name=name)
        kit.deliver(save)
        await kit.answer(save)
    data = ix.slash_data("ltx", "generate", {"sheet_name": "kit", "prompt": "x"},
                         focused="sheet_name")  # fmt: skip
    typing = kit.fake.interaction(ix.AUTOCOMPLETE, CHANNEL, BOB, data)
    kit.deliver(typing)
    (answer,) = await kit.fake.wait_for(lambda: kit.fake.callbacks(typing))
    assert answer.body["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    assert [c["value"] for c in answer.body["data"]["choices"]] == ["kitchen", "kitchen-night"]
