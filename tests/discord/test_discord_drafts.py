"""Drafts and finals on Discord: `/ltx generate draft:true` is held at the draft's price and
renders at 768x448; its result carries "Final ($X)" beside Reroll; Final makes the draft's
request with its seed at 1536x896, for the requester or an admin, refused over budget with
nothing held."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discordkit import ADMIN, ALICE, BOB, CHANNEL, GUILD, Kit, finished, png, settings_for

from adapters.app.core import build_core
from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.events import Succeeded
from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.money import Money
from bot.ports.policy import Cap, CapKind
from bot.request import ImageSize
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord

DRAFT_121 = {"prompt": "the chef tosses pasta", "num_frames": 121, "draft": True}
DRAFT_PRICE = 101_115_000  # 121 x 768 x 448 = 42 MP x $0.0024075 = $0.101115
FINAL_PRICE = 402_052_500  # 121 x 1536 x 896 = 167 MP = $0.4020525


def press(kit: Kit, message: dict[str, Any], custom_id: str, member: dict[str, Any]) -> dict:
    return kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, member, ix.button_data(custom_id),
                                message=message)  # fmt: skip


def labels(message: dict[str, Any]) -> list[str]:
    return [item["label"] for row in message["components"] for item in row["components"]]


async def draft_result(kit: Kit, tmp_path: Path) -> tuple[Job, dict[str, Any]]:
    """A draft held through `/ltx generate draft:true`, rendered, and its result posted."""
    payload = kit.slash("generate", sheet=kit.sheet(png()), **DRAFT_121)
    kit.deliver(payload)
    assert "Held $0.10 " in await kit.answer(payload)
    held = kit.runner.started[-1]
    draft = finished(held, kit.services.clock)
    # Stored as the runner stores it (each step is a versioned swap).
    assert await kit.services.jobs.replace(draft.model_copy(update={"version": held.version + 1}))
    draft = draft.model_copy(update={"version": held.version + 1})
    video = tmp_path / "draft.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    event = Succeeded(video, Money(draft.quoted_nanos), None)
    delivery = await kit.adapter.poster.deliver(draft, video, event)
    return draft, kit.fake.messages[delivery.message_id]


async def test_a_draft_is_priced_small_and_its_final_is_the_same_seed_at_full_size(
    kit: Kit, tmp_path: Path
) -> None:
    draft, result = await draft_result(kit, tmp_path)
    assert draft.draft and draft.request.size() == ImageSize(width=768, height=448)
    assert draft.request.num_frames == 121 and draft.quoted_nanos == DRAFT_PRICE
    assert Money(DRAFT_PRICE).exact_str() == "0.101115"
    assert labels(result) == ["Final ($0.40)", "Reroll ($0.10)", "Details"]
    assert draft.final_nanos == FINAL_PRICE
    refused = press(kit, result, f"ltx:final:{draft.id}", BOB)
    kit.deliver(refused)
    assert "Only the person" in await kit.answer(refused)
    assert len(kit.runner.started) == 1
    for member in (ALICE, ADMIN):
        final = press(kit, result, f"ltx:final:{draft.id}", member)
        kit.deliver(final)
        assert "Held $0.40 " in await kit.answer(final)
        made = kit.runner.started[-1]
        assert made.final_of == draft.id and not made.draft
        assert made.request.seed == draft.result.seed == 42  # type: ignore[union-attr]
        assert made.request.size() == ImageSize(width=1536, height=896)
        assert made.quoted_nanos == FINAL_PRICE
        assert made.request.prompt == draft.request.prompt
        assert made.origin.user_id == member["user"]["id"]
    assert len(kit.runner.started) == 3


async def test_an_over_budget_final_is_refused_with_nothing_held(kit: Kit, tmp_path: Path) -> None:
    # A $0.30 daily cap: the draft ($0.10) fits, its final ($0.40) does not.
    cap = Cap(CapKind.DEFAULT, "", Money.usd("0.30"), "day")
    at = kit.services.clock()
    await kit.services.budgets.admin.set_cap(
        f"discord:{GUILD}", cap, actor="root", reason="", at=at
    )
    draft, result = await draft_result(kit, tmp_path)
    holds = await kit.services.ledger.open_holds()
    final = press(kit, result, f"ltx:final:{draft.id}", ALICE)
    kit.deliver(final)
    text = await kit.answer(final)
    assert "Held" not in text and "$0.40" in text
    assert await kit.services.ledger.open_holds() == holds == [draft.id]
    assert len(kit.runner.started) == 1
    (rejected,) = [
        job
        for job in await kit.services.jobs.in_states([JobState.REJECTED])
        if job.final_of == draft.id
    ]
    assert rejected.quoted_nanos == FINAL_PRICE


async def test_a_draft_and_its_final_on_the_simulated_fal(tmp_path: Path) -> None:
    """The sizes and the seed fal is sent, through the real runner and discord.py."""
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        fast = {"generation_seconds": 0.05, "queue_seconds": 0.01}
        async with build_core(settings, poll_interval=0.05, simulated_fal_options=fast) as core:
            assert core.simulated_fal is not None
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                     throttle=EditThrottle(0),
                                     gateway=False)  # fmt: skip
            core.posters[Platform.DISCORD] = adapter.poster
            await adapter.start()
            try:
                url = fake.host("sheet.png", png(), "image/png")
                sheet = o.attachment(o.snowflake(), "sheet.png", len(png()), url, "image/png")
                options = {"prompt": "the chef tosses pasta", "num_frames": 9, "draft": True}
                data = ix.slash_data("ltx", "generate", options, attachments={"sheet": sheet})
                command = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
                adapter.client._connection.parse_interaction_create(command)  # type: ignore[arg-type]
                (sent,) = await core.simulated_fal.submissions.wait_for(1, timeout=30)
                draft_id = (await core.storage.jobs.for_user(
                    platform=Platform.DISCORD, scope=GUILD, user_id=ALICE["user"]["id"], limit=1
                ))[0].id  # fmt: skip
                await core.supervisor.wait(draft_id)
                draft = await core.storage.jobs.get(draft_id)
                assert draft is not None and draft.origin.result_message_id is not None
                result = fake.messages[draft.origin.result_message_id]
                button = f"ltx:final:{draft_id}"
                thread = draft.origin.status_message_id  # the result is in the draft's thread
                assert thread is not None and thread in fake.channels
                final = fake.interaction(ix.MESSAGE_COMPONENT, thread, ALICE,
                                         ix.button_data(button), message=result)  # fmt: skip
                adapter.client._connection.parse_interaction_create(final)  # type: ignore[arg-type]
                submitted = await core.simulated_fal.submissions.wait_for(2, timeout=30)
                final_id = next(
                    job.id
                    for job in await core.storage.jobs.in_states(list(JobState))
                    if job.final_of == draft_id
                )
                await core.supervisor.wait(final_id)
                made = await core.storage.jobs.get(final_id)
                posted_in_thread = fake.messages_to(thread)
                fake_messages = dict(fake.messages)
            finally:
                await adapter.close()
    assert (sent.arguments["resolution"], sent.arguments["num_frames"]) == (
        {"width": 768, "height": 448},
        9,
    )
    assert draft.quoted_nanos == Money.usd("0.00963").nanos  # 9 x 768 x 448: 4 MP
    assert "Final ($0.0312975)" in labels(result)  # 9 x 1536 x 896 = 13 MP = $0.0312975
    again = submitted[1].arguments
    assert again["resolution"] == {"width": 1536, "height": 896}
    assert draft.result is not None and again["seed"] == draft.result.seed
    assert made is not None and made.state is JobState.DELIVERED
    assert made.result is not None and made.result.rendered is not None
    assert (made.result.rendered.width, made.result.rendered.height) == (1536, 896)
    assert made.origin.thread_id == thread  # the final's status and video: the draft's thread
    assert any(c.files for c in posted_in_thread)  # the final's MP4, uploaded there
    assert fake_messages[made.origin.result_message_id]["channel_id"] == thread
