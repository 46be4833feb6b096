"""Nobody pays for a video that cannot reach them: an adapter's `Place.delivery_problem` makes
every path that holds from the requester's place refuse first (generate, Confirm, Ask for
approval), with the adapter's sentence, holding and recording nothing."""

from __future__ import annotations

from policykit import ALICE, PolicyKit, png_attachment

from bot.model import ButtonAction, Invocation, Place, Reply

CANNOT = "I can't post in <#C1>: I need the Send Messages permission there. Ask an admin…"


def unpostable() -> Place:
    return Place(ALICE.platform, ALICE.scope, "C1", delivery_problem=CANNOT)


async def generate_in(kit: PolicyKit, place: Place) -> Reply:
    invocation = Invocation(
        "generate", ALICE, place, {"prompt": "a fox"}, attachment=png_attachment()
    )
    return await kit.commands.dispatch(invocation)


async def test_generate_where_nothing_can_be_posted_records_and_holds_nothing(kit):
    refused = await generate_in(kit, unpostable())
    assert refused.text == CANNOT and refused.job_id is None
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
    jobs = kit.services.jobs
    assert await jobs.for_user(platform=ALICE.platform, scope=ALICE.scope, user_id="alice") == []
    assert (await kit.generate()).text.startswith("Held")  # the same request where it can


async def test_confirm_from_an_unpostable_place_waits_until_it_is_granted(kit):
    await kit.admin("limits", confirm_above="0.25")
    ask = await kit.generate()
    assert ask.job_id is not None
    refused = await kit.commands.press(ButtonAction.CONFIRM, ask.job_id, ALICE, unpostable())
    assert refused.text == CANNOT
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
    held = await kit.press(ButtonAction.CONFIRM, ask.job_id)  # granted meanwhile
    assert held.text.startswith("Held") and [j.id for j in kit.runner.started] == [ask.job_id]


async def test_no_admin_is_asked_to_approve_a_video_that_could_not_be_posted(kit):
    await kit.in_channel("admin channel", "C9", action="admin", channel="<#CADMIN>")
    await kit.admin("limits", approval_above="0.30")
    offer = await kit.generate()
    assert offer.job_id is not None and offer.buttons[0].action is ButtonAction.REQUEST_APPROVAL
    press = kit.commands.press(ButtonAction.REQUEST_APPROVAL, offer.job_id, ALICE, unpostable())
    assert (await press).text == CANNOT
    assert kit.poster.to("CADMIN") == [] and await kit.services.ledger.open_holds() == []


async def test_a_video_without_a_link_is_refused_where_files_cannot_be_attached(kit):
    place = Place(ALICE.platform, ALICE.scope, "C1", attach_problem="No Attach Files here.")
    inline = Invocation(
        "generate",
        ALICE,
        place,
        {"prompt": "a fox", "sync_mode": True},
        attachment=png_attachment(),
    )
    assert (await kit.commands.dispatch(inline)).text == "No Attach Files here."
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
    assert (await generate_in(kit, place)).text.startswith("Held")  # fal's link will do
