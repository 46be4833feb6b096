"""Where the bot cannot post, `/ltx generate`, Reroll and "Animate with LTX" refuse before
holding anything, naming the missing permissions in Discord's words (from the interaction's
`app_permissions`); what the poster works around (threads, attachments, embeds) is no reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discordkit import ALICE, CHANNEL, GUILD, SMALL, Kit, finished, png

from adapters.discord.animate import MENU_NAME
from bot.events import Held, Succeeded
from bot.model import Platform
from bot.money import Money
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o


def cannot(where: str, *names: str) -> str:
    plural = ("permissions", "them") if len(names) > 1 else ("permission", "it")
    return (
        f"I can't post in <#{where}>: I need the {' and '.join(names)} {plural[0]} there. "
        f"Ask an admin to grant {plural[1]}, then run the command again."
    )


ALICE_ID = ALICE["user"]["id"]


async def generate(kit: Kit, channel: str = CHANNEL, **options: object) -> str:
    payload = kit.slash("generate", channel=channel, sheet=kit.sheet(png()), **SMALL, **options)
    kit.deliver(payload)
    return await kit.answer(payload)


async def nothing_held_or_recorded(kit: Kit) -> None:
    assert kit.runner.started == []  # nothing handed to the runner, so nothing to fal
    assert await kit.services.ledger.open_holds() == []
    jobs = kit.services.jobs
    assert await jobs.for_user(platform=Platform.DISCORD, scope=GUILD, user_id=ALICE_ID) == []


async def test_a_channel_without_send_messages_is_refused_before_any_hold(kit: Kit) -> None:
    kit.fake.deny(CHANNEL, o.SEND_MESSAGES)
    assert await generate(kit) == cannot(CHANNEL, "Send Messages")
    await nothing_held_or_recorded(kit)
    assert kit.writes() == []  # no status message tried either
    assert await kit.services.ledger.entries(scope=f"discord:{GUILD}") == []


async def test_every_missing_permission_is_named(kit: Kit) -> None:
    kit.fake.deny(CHANNEL, o.VIEW_CHANNEL, o.SEND_MESSAGES)
    assert await generate(kit) == cannot(CHANNEL, "View Channel", "Send Messages")
    await nothing_held_or_recorded(kit)


async def test_what_the_poster_works_around_does_not_refuse(kit: Kit) -> None:
    # No thread: it stays in the channel; no upload: fal's link; no embed: the text remains.
    kit.fake.deny(CHANNEL, o.CREATE_PUBLIC_THREADS, o.ATTACH_FILES, o.EMBED_LINKS)
    assert (await generate(kit)).startswith("Held")
    assert len(kit.runner.started) == 1
    assert not kit.runner.started[0].request.sync_mode  # fal's link stands in for the upload


async def test_a_sync_mode_video_has_no_link_so_it_needs_attach_files(kit: Kit) -> None:
    kit.fake.deny(CHANNEL, o.ATTACH_FILES)
    why = " (a sync_mode video has no link to post instead)"
    expected = cannot(CHANNEL, "Attach Files").replace(" there.", f" there{why}.")
    assert await generate(kit, sync_mode=True) == expected
    await nothing_held_or_recorded(kit)
    kit.fake.deny(CHANNEL, o.SEND_MESSAGES)
    both = cannot(CHANNEL, "Send Messages", "Attach Files").replace(" there.", f" there{why}.")
    assert await generate(kit, sync_mode=True) == both
    assert await generate(kit) == cannot(CHANNEL, "Send Messages")
    await nothing_held_or_recorded(kit)


async def test_in_a_thread_send_messages_in_threads_is_what_counts(kit: Kit) -> None:
    job = await kit.held_job()
    _, thread = await kit.show(job, Held(Money(job.quoted_nanos)))  # the thread has its id
    kit.fake.deny(CHANNEL, o.SEND_MESSAGES_IN_THREADS)
    assert await generate(kit, channel=thread) == cannot(thread, "Send Messages in Threads")
    assert len(kit.runner.started) == 1
    assert (await generate(kit)).startswith("Held")  # the channel itself still works


async def test_reroll_where_the_bot_lost_send_messages_is_refused(kit: Kit, tmp_path: Path) -> None:
    kit.fake.deny(CHANNEL, o.CREATE_PUBLIC_THREADS)  # the result lands in the channel
    job = finished(await kit.held_job(), kit.services.clock)
    await kit.services.jobs.replace(job)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    event = Succeeded(video, Money(job.quoted_nanos), None)
    result = kit.fake.messages[(await kit.adapter.poster.deliver(job, video, event)).message_id]
    holds = await kit.services.ledger.open_holds()
    kit.fake.deny(CHANNEL, o.SEND_MESSAGES)
    reroll = kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, ALICE,
                                  ix.button_data(f"ltx:reroll:{job.id}"),
                                  message=result)  # fmt: skip
    kit.deliver(reroll)
    assert await kit.answer(reroll) == cannot(CHANNEL, "Send Messages")
    assert len(kit.runner.started) == 1 and await kit.services.ledger.open_holds() == holds


async def test_animate_where_the_bot_cannot_post_is_refused(kit: Kit) -> None:
    kit.fake.deny(CHANNEL, o.SEND_MESSAGES)
    url = kit.fake.host("chef.png", png(), "image/png")
    target: dict[str, Any] = o.message(
        o.snowflake(), CHANNEL, ALICE["user"], content="look",
        guild_id=GUILD, attachments=[o.attachment(o.snowflake(), "chef.png", 9, url,
                                                     "image/png")],
    )  # fmt: skip
    menu = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                ix.message_command_data(MENU_NAME, target))  # fmt: skip
    kit.deliver(menu)
    opened = await kit.fake.wait_for(lambda: kit.fake.callbacks(menu))
    values = {"prompt": "the chef flips the pan", "resolution": "256x160", "duration": "",
              "seed": "", "negative_prompt": ""}  # fmt: skip
    modal = ix.modal_data(opened[0].body["data"]["custom_id"], values)
    submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE, modal)
    kit.deliver(submit)
    assert await kit.answer(submit) == cannot(CHANNEL, "Send Messages")
    await nothing_held_or_recorded(kit)
