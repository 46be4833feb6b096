"""Takes through the commands (a real SQLite core, a runner that records): the confirmation
and approval thresholds go by the total (above the approval one the takes go to an admin as one
group); Confirm holds every take, Abort rejects them all, and the status message's Cancel stops
them all."""

from __future__ import annotations

from corekit import ADMIN, ALICE, CoreKit, png_attachment

from bot.jobs.record import JobState
from bot.model import ButtonAction, Place

SMALL = {"prompt": "the chef tosses pasta", "resolution": "768x448", "num_frames": 121}


async def open_holds(kit: CoreKit) -> list[str]:
    return sorted(await kit.services.ledger.open_holds())


async def test_the_confirmation_threshold_goes_by_the_total_and_confirm_holds_every_take(
    kit: CoreKit,
):
    # One draft-sized take is $0.101115, under $0.30; four are $0.40446, above it.
    assert not (await kit.invoke("admin limits", ADMIN, confirm_above="0.30")).refused
    reply = await kit.invoke("generate", attachment=png_attachment(), takes=4, **SMALL)
    assert "These 4 takes cost $0.40 (exactly $0.40446)" in reply.text, reply.text
    assert dict(reply.fields)["Price"].startswith("4 takes x $0.101115 = $0.40446")
    assert [b.action for b in reply.buttons] == [ButtonAction.CONFIRM, ButtonAction.ABORT]
    assert kit.runner.started == [] and await open_holds(kit) == []
    confirm = reply.buttons[0]
    confirmed = await kit.commands.press(ButtonAction.CONFIRM, confirm.job_id, ALICE, _place())
    assert "Held 4 takes x $0.101115 = $0.40446" in confirmed.text, confirmed.text
    ids = [job.id for job in kit.runner.started]
    assert len(ids) == 4 and await open_holds(kit) == sorted(ids)
    assert [job.take for job in kit.runner.started] == [1, 2, 3, 4]
    assert len({job.request.seed for job in kit.runner.started}) == 4


async def test_abort_rejects_every_take(kit: CoreKit):
    assert not (await kit.invoke("admin limits", ADMIN, confirm_above="0.30")).refused
    reply = await kit.invoke("generate", attachment=png_attachment(), takes=3, **SMALL)
    first = await kit.services.jobs.get(reply.buttons[0].job_id)
    assert first is not None and len(first.take_ids) == 3
    await kit.commands.press(ButtonAction.ABORT, first.id, ALICE, _place())
    takes = [await kit.services.jobs.get(job_id) for job_id in first.take_ids]
    assert [job.state for job in takes if job] == [JobState.REJECTED] * 3
    assert await open_holds(kit) == []


async def test_takes_above_the_approval_threshold_without_an_admin_channel_are_refused(
    kit: CoreKit,
):
    # With an admin channel they go to an admin as one group (tests/policy).
    assert not (await kit.invoke("admin limits", ADMIN, approval_above="0.25")).refused
    reply = await kit.invoke("generate", attachment=png_attachment(), takes=3, **SMALL)
    assert reply.refused and "These 3 takes cost $0.30 (exactly $0.303345)" in reply.text
    assert "needs an admin's approval here" in reply.text
    assert kit.runner.started == [] and await open_holds(kit) == []
    takes = await kit.services.jobs.in_states([JobState.REJECTED])
    assert len(takes) == 3 and {len(job.take_ids) for job in takes} == {3}


async def test_cancel_on_the_status_message_stops_every_take_and_cancel_job_one(kit: CoreKit):
    reply = await kit.invoke("generate", attachment=png_attachment(), takes=3, **SMALL)
    ids = [job.id for job in kit.runner.started]
    assert len(ids) == 3, reply.text
    # Only take 1 has a status message, so its Cancel speaks for the whole request.
    pressed = await kit.commands.press(ButtonAction.CANCEL, ids[0], ALICE, _place())
    assert not pressed.refused and kit.runner.cancelled == ids
    assert pressed.text.count("Cancelled job") == 3, pressed.text
    kit.runner.cancelled.clear()
    one = await kit.invoke("cancel", job=ids[1])
    assert not one.refused and kit.runner.cancelled == [ids[1]]


def _place() -> Place:
    return Place(ALICE.platform, ALICE.scope, "C1")
