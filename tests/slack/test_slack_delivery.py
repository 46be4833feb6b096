"""Where the bot cannot post (a private channel or a conversation it is not in), the form,
an @mention and Reroll refuse before holding anything; a public channel it is not in is fine
(the poster joins). One conversations.info per channel, kept for a minute."""

from __future__ import annotations

import json

import pytest
from slackkit import TEAM, SlackKit, block_actions, png_bytes, view_submission
from test_slack_buttons import button
from test_slack_entries import JIT_TOKEN, mention, step
from test_slack_poster import started_job
from test_slack_submit import values

from adapters.slack import form_checks
from adapters.slack.modal import generate_modal
from adapters.slack.reach import CONVERSATION, PRIVATE, REACH_CACHE_SECONDS
from bot.events import Held
from bot.model import Platform
from bot.money import Money


def form_in(channel: str) -> dict[str, object]:
    return {**generate_modal(channel_id=channel, price="$0.40"), "id": "V0001"}


async def submit(kit: SlackKit, channel: str = "C1", view: str = "V0001") -> dict[str, str]:
    """The errors the form was answered with (empty: it closed, and the job went on)."""
    file = kit.slack.add_file("sheet.png", png_bytes())
    state = values(file)
    state["channel"]["channel"]["selected_conversation"] = channel
    payload = view_submission({**form_in(channel), "id": view}, state, trigger=f"t-{view}")
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and kit.driver.elapsed[-1] < 3
    if not body:
        return {}
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    return dict(answer["errors"])


def told(kit: SlackKit) -> list[str]:
    """What the user was told: ephemerally, or in a DM where that was refused."""
    said = [c.params for c in kit.slack.calls_to("chat.postEphemeral")]
    said += [
        c.params for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "U1"
    ]
    return [str(p.get("text")) for p in said]


async def nothing_held_or_recorded(kit: SlackKit) -> None:
    assert kit.runner.started == []
    assert await kit.open_holds() == []
    jobs = kit.services.jobs
    assert await jobs.for_user(platform=Platform.SLACK, scope=TEAM, user_id="U1") == []
    assert await kit.services.ledger.entries(scope=f"slack:{TEAM}") == []


async def test_a_private_channel_without_the_bot_is_refused_before_any_hold(
    kit: SlackKit,
) -> None:
    kit.slack.private, kit.slack.member_of = {"C1"}, set()
    assert await submit(kit) == {"channel": PRIVATE}  # shown under "Post in"; the form stays
    await kit.settle()
    assert PRIVATE == (
        "I can't post in this private channel: invite me with /invite @ltxbot, "
        "then run the command again."
    )
    await nothing_held_or_recorded(kit)
    assert told(kit) == []


async def test_past_the_forms_time_a_private_channel_is_refused_in_a_dm(
    kit: SlackKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(form_checks, "FORM_CHECK_SECONDS", 0)
    kit.slack.private, kit.slack.member_of = {"C1"}, set()
    assert await submit(kit) == {}
    await kit.until(lambda: PRIVATE in told(kit))
    await kit.settle()
    await nothing_held_or_recorded(kit)
    assert kit.slack.calls_to("download") == []  # refused before the sheet was fetched
    # Slack hid the channel (channel_not_found): the ephemeral answer went to a DM.
    [dm] = [c for c in kit.slack.calls_to("chat.postMessage") if c.params["channel"] == "U1"]
    assert dm.params["text"] == PRIVATE


async def test_the_same_private_channel_with_the_bot_invited_works(kit: SlackKit) -> None:
    kit.slack.private, kit.slack.member_of = {"C1"}, {"C1"}
    await submit(kit)
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    [job] = kit.runner.started
    assert job.origin.channel_id == "C1" and await kit.open_holds() == [job.id]
    [info] = kit.slack.calls_to("conversations.info")
    assert info.params["channel"] == "C1"


async def test_a_public_channel_the_bot_is_not_in_works_the_poster_joins(kit: SlackKit) -> None:
    kit.slack.member_of = set()
    await submit(kit)
    await kit.until(lambda: any("Held $" in text for text in told(kit)))
    [job] = kit.runner.started
    assert await kit.open_holds() == [job.id]
    ts = await kit.adapter.poster.progress(job, Held(Money(job.quoted_nanos)))
    assert [c.params["channel"] for c in kit.slack.calls_to("conversations.join")] == ["C1"]
    assert ts is not None and ("C1", ts) in kit.slack.messages


async def test_a_dm_the_app_is_not_part_of_is_refused(kit: SlackKit) -> None:
    kit.slack.member_of = set()  # a DM between two people: Slack hides it from the bot
    assert await submit(kit, channel="D0U1U2") == {"channel": CONVERSATION}
    await kit.settle()
    await nothing_held_or_recorded(kit)


async def test_the_answer_is_kept_for_a_while_then_asked_again(kit: SlackKit) -> None:
    kit.slack.private, kit.slack.member_of = {"C1"}, set()
    assert await submit(kit) == {"channel": PRIVATE}
    assert await submit(kit, view="V0002") == {"channel": PRIVATE}
    assert len(kit.slack.calls_to("conversations.info")) == 1
    kit.slack.member_of.add("C1")  # invited; the old answer lasts its minute, then is asked
    kit.ticks.now += REACH_CACHE_SECONDS + 1
    await submit(kit, view="V0003")
    await kit.until(lambda: kit.runner.started)
    assert len(kit.slack.calls_to("conversations.info")) == 2


async def test_reroll_where_the_bot_was_removed_is_refused(kit: SlackKit) -> None:
    job = await started_job(kit)
    kit.slack.private, kit.slack.member_of = {"C1"}, set()  # removed from the channel since
    kit.ticks.now += REACH_CACHE_SECONDS + 1
    payload = block_actions(button("reroll", job.id), user="U1", response_url=kit.response_url())
    await kit.driver.interactive(payload)
    await kit.until(lambda: kit.slack.responses)
    assert kit.slack.responses[0]["text"] == PRIVATE
    assert len(kit.runner.started) == 1 and await kit.open_holds() == [job.id]


async def test_a_mention_in_a_private_channel_the_bot_was_removed_from_is_refused(
    kit: SlackKit,
) -> None:
    kit.slack.private, kit.slack.member_of = {"C1"}, set()
    file = kit.slack.add_file("chef.png", png_bytes())
    await kit.driver.event(mention([file]), event_id="Ev200")
    await kit.until(lambda: PRIVATE in told(kit))
    await kit.settle()
    await nothing_held_or_recorded(kit)


async def test_a_workflow_step_into_a_private_channel_without_the_bot_fails_clearly(
    kit: SlackKit,
) -> None:
    kit.slack.tokens[JIT_TOKEN] = TEAM
    kit.slack.private, kit.slack.member_of = {"C9"}, set()
    file = kit.slack.add_file("chef.png", png_bytes())
    inputs = {"requester": "U1", "channel": "C9", "sheet": file["id"], "prompt": "the chef"}
    await kit.driver.event(step(inputs), event_id="Ev300")
    await kit.until(lambda: kit.slack.calls_to("functions.completeError"))
    error = kit.slack.calls_to("functions.completeError")[0].params["error"]
    assert error == PRIVATE
    await nothing_held_or_recorded(kit)
