"""Approvals on Slack: the request lands in the admin channel with Approve / Deny buttons,
and Approve pressed there by a workspace admin starts the job (refused for anyone else)."""

from __future__ import annotations

from typing import Any

from slackkit import (
    TEAM,
    SlackKit,
    block_actions,
    png_bytes,
    view_submission,
)
from test_slack_submit import form, values

from bot.model import Actor, Invocation, Place, Platform
from commands import Commands

ADMIN_CHANNEL = "CADMIN"
ROOT = Actor(Platform.SLACK, TEAM, "UADMIN", "Root", is_admin=True)


async def admin(kit: SlackKit, command: str, **options: object) -> str:
    commands = Commands(kit.services)
    place = Place(Platform.SLACK, TEAM, "C1")
    return (await commands.dispatch(Invocation(command, ROOT, place, options))).text


async def press(kit: SlackKit, element: dict[str, Any], user: str, channel: str) -> str:
    """Press a button of ours as `user`; the answer that came back through the response_url."""
    before = len(kit.slack.responses)
    url = kit.response_url(f"press-{before}")
    action = {"type": "button", "block_id": "ltx_job_buttons", "action_id": element["action_id"],
              "value": element["value"]}  # fmt: skip
    payload = block_actions(action, user=user, channel=channel, response_url=url,
                            trigger=f"t-{before}")  # fmt: skip
    await kit.driver.interactive(payload)
    await kit.until(lambda: len(kit.slack.responses) > before)
    return str(kit.slack.responses[before]["text"])


async def test_a_request_lands_in_the_admin_channel_and_an_admins_approve_starts_it(
    policy_kit: SlackKit,
) -> None:
    kit = policy_kit
    assert "now go to <#CADMIN>" in await admin(kit, "admin channel", action="admin",
                                                 channel="<#CADMIN|approvals>")  # fmt: skip
    await admin(kit, "admin caps", action="set", target="default", amount="0")

    file = kit.slack.add_file("sheet.png", png_bytes())
    await kit.driver.interactive(view_submission(form(), values(file)))
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said = kit.slack.calls_to("chat.postEphemeral")[0].params
    assert said["user"] == "U1" and "your daily cap has $0.00 left" in said["text"]
    offer = {b["action_id"]: b for b in said["blocks"][-1]["elements"]}
    assert set(offer) == {"ltx_job_ask_approval", "ltx_job_abort"}
    job_id = offer["ltx_job_ask_approval"]["value"].removeprefix("ask_approval:")
    assert kit.runner.started == [] and await kit.open_holds() == []

    asked = await press(kit, offer["ltx_job_ask_approval"], "U1", "C1")
    assert asked.startswith("Asked the admins in")
    [post] = [c for c in kit.slack.calls_to("chat.postMessage")
              if c.params["channel"] == ADMIN_CHANNEL]  # fmt: skip
    assert f"<@U1> asks for approval of a $0.40 video (job `{job_id}`)" in post.params["text"]
    assert "their daily cap: $0.00 left of $0.00" in post.params["text"]
    buttons = {b["action_id"]: b for b in post.params["blocks"][-1]["elements"]}
    assert set(buttons) == {"ltx_job_approve", "ltx_job_deny"}
    assert buttons["ltx_job_approve"]["value"] == f"approve:{job_id}"
    assert buttons["ltx_job_deny"]["style"] == "danger"

    refused = await press(kit, buttons["ltx_job_approve"], "U2", ADMIN_CHANNEL)
    assert "Only an admin" in refused and kit.runner.started == []
    approved = await press(kit, buttons["ltx_job_approve"], "UADMIN", ADMIN_CHANNEL)
    assert approved.startswith(f"Approved: job `{job_id}` started")
    assert [job.id for job in await kit.runner.wait_started()] == [job_id]
    assert await kit.open_holds() == [job_id]
    told = [c for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert f"<@UADMIN> approved your $0.40 video (job `{job_id}`)" in told[-1].params["text"]
    late = await press(kit, buttons["ltx_job_deny"], "UADMIN", ADMIN_CHANNEL)
    assert late == "Already approved by <@UADMIN>." and len(kit.runner.started) == 1


async def takes_asked(kit: SlackKit) -> tuple[str, dict[str, Any]]:
    """Two takes from the form above a $0.50 threshold, asked for: take 1's id and the admin
    channel's buttons."""
    await admin(kit, "admin channel", action="admin", channel="<#CADMIN|approvals>")
    await admin(kit, "admin limits", approval_above="0.5")
    file = kit.slack.add_file("sheet.png", png_bytes())
    state = values(file, takes={"type": "number_input", "value": "2"})
    await kit.driver.interactive(view_submission(form(), state))
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said = kit.slack.calls_to("chat.postEphemeral")[0].params
    assert said["text"].startswith(
        "These 2 takes cost $0.80 (exactly $0.804105), above the $0.50 that needs an admin's "
        "approval here."
    ), said["text"]
    offer = {b["action_id"]: b for b in said["blocks"][-1]["elements"]}
    job_id = offer["ltx_job_ask_approval"]["value"].removeprefix("ask_approval:")
    assert kit.runner.started == [] and await kit.open_holds() == []
    asked = await press(kit, offer["ltx_job_ask_approval"], "U1", "C1")
    assert "to approve $0.80 for 2 takes (jobs" in asked, asked
    [post] = [c for c in kit.slack.calls_to("chat.postMessage")
              if c.params["channel"] == ADMIN_CHANNEL]  # fmt: skip
    assert "<@U1> asks for approval of 2 takes, $0.80 in all (jobs" in post.params["text"]
    assert "2 takes x $0.4020525 = $0.804105" in post.params["text"]
    return job_id, {b["action_id"]: b for b in post.params["blocks"][-1]["elements"]}


async def test_takes_above_the_threshold_are_approved_as_one_group(policy_kit: SlackKit) -> None:
    kit = policy_kit
    job_id, buttons = await takes_asked(kit)
    approved = await press(kit, buttons["ltx_job_approve"], "UADMIN", ADMIN_CHANNEL)
    assert approved.startswith("Approved: 2 takes (jobs"), approved
    await kit.until(lambda: len(kit.runner.started) == 2)
    started = kit.runner.started
    assert started[0].id == job_id and [job.take for job in started] == [1, 2]
    assert sorted(await kit.open_holds()) == sorted(job.id for job in started)
    told = [c for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert "<@UADMIN> approved your 2 takes, $0.80 in all" in told[-1].params["text"]


async def test_a_denied_group_rejects_every_take(policy_kit: SlackKit) -> None:
    kit = policy_kit
    job_id, buttons = await takes_asked(kit)
    denied = await press(kit, buttons["ltx_job_deny"], "UADMIN", ADMIN_CHANNEL)
    assert denied.startswith(f"Denied job `{job_id}`")
    first = await kit.services.jobs.get(job_id)
    assert first is not None
    takes = [await kit.services.jobs.get(take) for take in first.take_ids]
    assert [job.state.value for job in takes if job] == ["rejected", "rejected"]
    assert kit.runner.started == [] and await kit.open_holds() == []
    told = [c for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert "did not approve your 2 takes, $0.80 in all" in told[-1].params["text"]
