"""Slash commands through discord.py against a fake Discord: defer, translate, answer."""

from __future__ import annotations

import os

import pytest
from discordkit import ADMIN, ALICE, CHANNEL, GUILD, SMALL, Kit, kit_for, png

from adapters.discord import translate
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.objects import EPHEMERAL


async def test_commands_are_synced_to_the_configured_guild(kit: Kit) -> None:
    synced = kit.fake.commands[GUILD]
    names = {command["name"] for command in synced}
    assert names == {"ltx", "ltx-admin", "Animate with LTX"}
    assert None not in kit.fake.commands  # nothing global when guilds are configured


async def test_generate_defers_ephemerally_and_holds(kit: Kit) -> None:
    payload = kit.slash("generate", sheet=kit.sheet(png()), **SMALL)
    kit.deliver(payload)
    text = await kit.answer(payload)
    first = kit.fake.callbacks(payload)[0]
    assert first.body["type"] == 5 and first.body["data"]["flags"] & EPHEMERAL
    assert "Held" in text
    assert len(kit.runner.started) == 1
    job = kit.runner.started[0]
    assert job.origin.channel_id == CHANNEL and job.origin.scope == GUILD


async def test_commands_sync_globally_without_guild_ids(tmp_path) -> None:
    async with kit_for(tmp_path, discord_guild_ids="") as kit:
        synced = {c["name"] for c in kit.fake.commands[None]}
        assert synced == {"ltx", "ltx-admin", "Animate with LTX"}
        assert GUILD not in kit.fake.commands


async def test_slash_options_are_typed_from_the_spec(kit: Kit) -> None:
    ltx = next(c for c in kit.fake.commands[GUILD] if c["name"] == "ltx")
    generate = next(o for o in ltx["options"] if o["name"] == "generate")
    options = {o["name"]: o for o in generate["options"]}
    assert options["sheet"]["type"] == ix.ATTACHMENT and not options["sheet"].get("required")
    assert options["sheet_name"]["autocomplete"] is True  # the server's saved sheets
    assert (options["num_frames"]["min_value"], options["num_frames"]["max_value"]) == (9, 481)
    assert options["generate_audio"]["type"] == ix.BOOLEAN
    assert [c["value"] for c in options["video_quality"]["choices"]] == [
        "low",
        "medium",
        "high",
        "maximum",
    ]
    assert options["resolution"]["autocomplete"] is True  # a named size or WIDTHxHEIGHT
    names = {o["name"] for o in ltx["options"]}
    assert {"generate", "estimate", "budget", "history", "show", "cancel", "sheets"} <= names
    assert "admin" not in names  # its own command, /ltx-admin
    for name in ("prompt", "negative_prompt"):  # Discord stops longer text before sending
        assert options[name]["type"] == ix.STRING and options[name]["max_length"] == 4000
    numbers = [o for o in options.values() if o["type"] in (ix.INTEGER, ix.NUMBER)]
    assert numbers and all("min_value" in o and "max_value" in o for o in numbers)


async def test_admin_commands_are_their_own_command_for_manage_server(kit: Kit) -> None:
    admin = next(c for c in kit.fake.commands[GUILD] if c["name"] == "ltx-admin")
    assert int(admin["default_member_permissions"]) == o.MANAGE_GUILD  # hidden from members
    subs = {sub["name"] for sub in admin["options"]}
    assert {"caps", "limits", "grant", "usage", "export", "audit", "channel"} <= subs


async def test_a_member_given_ltx_admin_by_the_server_is_still_refused(kit: Kit) -> None:
    # Server admins may let anyone use /ltx-admin; the command itself checks Actor.is_admin.
    payload = kit.admin("caps", ALICE, action="show")
    kit.deliver(payload)
    text = await kit.answer(payload)
    assert "admin" in text.lower() and "Default per-user cap" not in text
    mine = kit.admin("caps", ADMIN, action="show")
    kit.deliver(mine)
    assert "cap" in (await kit.answer(mine)).lower()


BAD_SHEETS = {
    "not an image": (b"just some notes\n", "notes.txt", "text/plain", "PNG, JPEG or WebP"),
    "corrupt": (png()[:200], "sheet.png", "image/png", "damaged"),
}


@pytest.mark.parametrize("case", BAD_SHEETS, ids=list(BAD_SHEETS))
async def test_a_bad_sheet_is_refused_ephemerally_with_nothing_held(kit: Kit, case: str) -> None:
    data, name, content_type, expected = BAD_SHEETS[case]
    payload = kit.slash("generate", sheet=kit.sheet(data, name, content_type), **SMALL)
    kit.deliver(payload)
    text = await kit.answer(payload)
    assert kit.fake.callbacks(payload)[0].body["data"]["flags"] & EPHEMERAL
    assert expected in text
    assert kit.runner.started == []
    assert await kit.services.ledger.open_holds() == []


async def test_an_oversized_sheet_is_refused_before_it_is_downloaded(kit: Kit) -> None:
    limit = kit.settings.max_sheet_bytes
    sheet = kit.sheet(png(), size=limit + 1)
    payload = kit.slash("generate", sheet=sheet, **SMALL)
    kit.deliver(payload)
    text = await kit.answer(payload)
    assert "at most" in text
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []


async def test_the_sheet_download_is_bounded(kit: Kit) -> None:
    # Discord's declared size lies (or is missing): the reader stops past the limit.
    sheet = kit.sheet(os.urandom(300_000), size=10)
    read = translate.url_reader(sheet["url"], kit.adapter._http_session)
    assert len(await read(1000)) == 1001


async def test_estimate_is_ephemeral_and_holds_nothing(kit: Kit) -> None:
    payload = kit.slash("estimate", num_frames=121)
    kit.deliver(payload)
    text = await kit.answer(payload)
    assert kit.fake.callbacks(payload)[0].body["data"]["flags"] & EPHEMERAL
    assert "would cost" in text
    assert await kit.services.ledger.open_holds() == []


async def test_a_command_in_a_thread_keeps_the_thread(kit: Kit) -> None:
    thread = o.thread(o.snowflake(), GUILD, CHANNEL, ALICE["user"]["id"], "ideas")
    kit.fake.channels[thread["id"]] = thread
    payload = kit.slash("generate", channel=thread["id"], sheet=kit.sheet(png()), **SMALL)
    kit.deliver(payload)
    assert "Held" in await kit.answer(payload)
    origin = kit.runner.started[0].origin
    assert (origin.channel_id, origin.thread_id) == (CHANNEL, thread["id"])


async def test_budget_and_history_answer_ephemerally(kit: Kit) -> None:
    for sub, expected in (("budget", "$"), ("history", "no jobs")):
        payload = kit.slash(sub)
        kit.deliver(payload)
        assert expected in await kit.answer(payload)
        assert kit.fake.callbacks(payload)[0].body["data"]["flags"] & EPHEMERAL
