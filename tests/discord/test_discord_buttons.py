"""Buttons (persistent DynamicItems) and the "Animate with LTX" menu with its modal, whose
submit is understood by custom_id, also after a restart."""

from __future__ import annotations

from pathlib import Path

from discordkit import ADMIN, ALICE, BOB, CHANNEL, Kit, finished, png

from adapters.discord.animate import EXPIRED, MENU_NAME, NO_IMAGE
from bot.events import Held, Succeeded
from bot.money import Money
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.objects import EPHEMERAL


async def status_of(kit: Kit):
    job = await kit.held_job()
    job, status_id = await kit.show(job, Held(Money(job.quoted_nanos)))
    return job, kit.fake.messages[status_id]


def press(kit: Kit, message: dict, custom_id: str, member: dict) -> dict:
    return kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, member, ix.button_data(custom_id),
                                message=message)  # fmt: skip


async def test_another_member_cannot_cancel(kit: Kit) -> None:
    job, message = await status_of(kit)
    payload = press(kit, message, f"ltx:cancel:{job.id}", BOB)
    kit.deliver(payload)
    text = await kit.answer(payload)
    defer = kit.fake.callbacks(payload)[0].body
    assert defer["type"] == 5 and defer["data"]["flags"] & EPHEMERAL
    assert "Only the person who started this job" in text
    assert kit.runner.cancelled == []


async def test_the_requester_and_an_admin_can_cancel(kit: Kit) -> None:
    job, message = await status_of(kit)
    for member in (ALICE, ADMIN):
        payload = press(kit, message, f"ltx:cancel:{job.id}", member)
        kit.deliver(payload)
        assert "Cancelled" in await kit.answer(payload)
    assert kit.runner.cancelled == [job.id, job.id]


async def test_a_button_still_works_after_a_restart(kit: Kit) -> None:
    job, message = await status_of(kit)
    async with kit.restarted() as fresh:
        payload = press(kit, message, f"ltx:cancel:{job.id}", ALICE)
        kit.deliver(payload, fresh)
        assert "Cancelled" in await kit.answer(payload)
    assert kit.runner.cancelled == [job.id]


async def test_reroll_and_details_on_the_result(kit: Kit, tmp_path: Path) -> None:
    job, _ = await status_of(kit)
    job = finished(job, kit.services.clock)
    await kit.services.jobs.replace(job)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    event = Succeeded(video, Money(job.quoted_nanos), None)
    result = kit.fake.messages[(await kit.adapter.poster.deliver(job, video, event)).message_id]
    details = press(kit, result, f"ltx:details:{job.id}", BOB)  # anyone here may look
    kit.deliver(details)
    assert job.id in await kit.answer(details)
    refused = press(kit, result, f"ltx:reroll:{job.id}", BOB)
    kit.deliver(refused)
    assert "Only the person" in await kit.answer(refused)
    reroll = press(kit, result, f"ltx:reroll:{job.id}", ALICE)
    kit.deliver(reroll)
    assert "Held" in await kit.answer(reroll)
    assert kit.runner.started[-1].rerolled_from == job.id


def image_message(kit: Kit, with_image: bool = True) -> dict:
    attachments = []
    if with_image:
        url = kit.fake.host("chef.png", png(), "image/png")
        attachments = [o.attachment(o.snowflake(), "chef.png", len(png()), url, "image/png")]
    return o.message(o.snowflake(), CHANNEL, ALICE["user"], content="look at this",
                     guild_id=kit.fake.channels[CHANNEL]["guild_id"],
                     attachments=attachments)  # fmt: skip


async def test_animate_opens_a_modal_and_generates_from_the_image(kit: Kit) -> None:
    target = image_message(kit)
    menu = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                ix.message_command_data(MENU_NAME, target))  # fmt: skip
    kit.deliver(menu)
    opened = await kit.fake.wait_for(lambda: kit.fake.callbacks(menu))
    assert opened[0].body["type"] == 9  # MODAL
    modal_id = opened[0].body["data"]["custom_id"]
    values = {"prompt": "the chef flips the pan", "resolution": "256x160", "duration": "",
              "seed": "7", "negative_prompt": ""}  # fmt: skip
    submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE, ix.modal_data(modal_id, values))
    kit.deliver(submit)
    assert "Held" in await kit.answer(submit)
    assert kit.fake.callbacks(submit)[0].body["data"]["flags"] & EPHEMERAL
    job = kit.runner.started[-1]
    assert job.request.prompt == "the chef flips the pan" and job.request.seed == 7
    assert job.origin.origin_message_id == target["id"]


def open_modal(kit: Kit, target: dict) -> dict:
    menu = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                ix.message_command_data(MENU_NAME, target))  # fmt: skip
    kit.deliver(menu)
    return menu


FORM = {"prompt": "the chef flips the pan", "resolution": "256x160", "duration": "",
        "seed": "7", "negative_prompt": ""}  # fmt: skip


async def test_a_modal_opened_before_a_restart_still_generates_after_it(kit: Kit) -> None:
    target = image_message(kit)
    menu = open_modal(kit, target)
    opened = await kit.fake.wait_for(lambda: kit.fake.callbacks(menu))
    modal_id = opened[0].body["data"]["custom_id"]
    assert modal_id == f"ltx:animate:{target['id']}"
    await kit.adapter.close()  # the first process is gone, with everything in its memory
    async with kit.restarted() as adapter:
        submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE,
                                      ix.modal_data(modal_id, FORM))  # fmt: skip
        kit.deliver(submit, adapter)
        assert "Held" in await kit.answer(submit)
    job = kit.runner.started[-1]
    assert job.request.prompt == "the chef flips the pan" and job.request.seed == 7
    assert job.origin.origin_message_id == target["id"]


async def test_a_modal_is_handled_once_in_the_process_that_opened_it(kit: Kit) -> None:
    menu = open_modal(kit, image_message(kit))
    opened = await kit.fake.wait_for(lambda: kit.fake.callbacks(menu))
    modal = ix.modal_data(opened[0].body["data"]["custom_id"], FORM)
    submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE, modal)
    kit.deliver(submit)
    assert "Held" in await kit.answer(submit)
    assert len(kit.fake.callbacks(submit)) == 1 and len(kit.runner.started) == 1


async def test_a_modal_whose_message_is_not_known_says_so(kit: Kit) -> None:
    submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE,
                                  ix.modal_data(f"ltx:animate:{o.snowflake()}", FORM))  # fmt: skip
    kit.deliver(submit)
    assert await kit.answer(submit) == EXPIRED
    assert kit.runner.started == []


async def test_animate_on_a_message_without_an_image_explains(kit: Kit) -> None:
    data = ix.message_command_data(MENU_NAME, image_message(kit, False))
    menu = kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
    kit.deliver(menu)
    answer = (await kit.fake.wait_for(lambda: kit.fake.callbacks(menu)))[0].body
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    assert answer["data"]["content"] == NO_IMAGE
    assert kit.runner.started == []
