"""`/ltx admin ...` over signed HTTP on a real core with stored policy, the usage chart and the
ledger CSV sent to the admin's DM, and the price confirmation's Confirm / Abort buttons."""

from __future__ import annotations

from typing import Any

import pytest
from slackkit import (
    TEAM,
    SlackKit,
    block_actions,
    png_bytes,
    view_submission,
)
from test_slack_entries import JIT_TOKEN, step
from test_slack_submit import form, values

from adapters.slack.textcmd import parse_text
from bot.errors import InvalidRequest
from bot.jobs.record import JobState
from bot.model import Platform
from bot.money import Money
from bot.ports import CapKind
from commands.admin_spec import ADMIN_COMMANDS
from tests.forgetkit import PROMPT, files_left, seed_delivered

SCOPE = f"slack:{TEAM}"


async def ask(kit: SlackKit, text: str, user: str = "UADMIN") -> dict[str, Any]:
    """Run `/ltx <text>` and return what came back through the response_url."""
    before = len(kit.slack.responses)
    url = kit.response_url(f"r{before}")
    await kit.driver.command(text, user=user, response_url=url, trigger=f"trig-{before}")
    await kit.until(lambda: len(kit.slack.responses) > before)
    return kit.slack.responses[before]


def test_mentions_become_member_ids_and_bare_words_find_their_options() -> None:
    typed = 'admin caps set target=user who=<@U123|bob> amount=25 period=week reason="video lead"'
    assert parse_text(typed).options == {"action": "set", "target": "user", "who": "U123",
                                         "amount": "25", "period": "week",
                                         "reason": "video lead"}  # fmt: skip
    short = parse_text("admin caps set user <@U123> 25 week reason=“R&amp;D lead”")
    assert short.options == {"action": "set", "target": "user", "who": "U123", "amount": "25",
                             "period": "week", "reason": "R&D lead"}  # fmt: skip
    grant = parse_text("admin grant <!subteam^S9|@video> 5 for two more videos")
    assert grant.options == {"who": "S9", "amount": "5", "reason": "for two more videos"}
    assert parse_text("admin grant pool -3 oops").options["who"] == "pool"
    assert parse_text("admin caps set pool none").options["amount"] == "none"
    assert parse_text("admin usage week").options == {"period": "week"}
    assert parse_text("admin limits jobs=2 per_minute=10").options == {"jobs": 2, "per_minute": 10}
    assert parse_text("admin").name == "admin help"
    assert parse_text("admin channel allow <#C0123ABC|general>").options == {
        "action": "allow", "channel": "C0123ABC"}  # fmt: skip
    assert parse_text("admin defaults generate_audio=off").options == {"generate_audio": False}
    assert parse_text("a chef &amp; <@U1|bob>").prompt == "a chef & @bob"  # the form's prompt


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("admin caps set user @alice 5", "Slack sent @alice as plain text"),
        ("admin limits jobs=many", "jobs must be a whole number"),
        ("admin limits per_minute=5000", "allowed 0 to 1000"),
        ("admin caps set target=usr", "target is one of default, user, role, pool"),
        ("admin grant <@U1>", "amount is required"),
        ("admin nope", "nope is not an admin command"),
        ("admin channel allow #general", "Slack sent #general as plain text"),
    ],
)
def test_admin_text_mistakes_are_one_sentence_each(typed: str, problem: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_text(typed)
    assert problem in str(raised.value)


async def test_every_admin_command_answers_ephemerally(policy_kit: SlackKit) -> None:
    texts = {
        "admin caps": ('admin caps set target=user who=<@U1|alice> amount=25 period=week '
                       'reason="video lead"', "Set <@U1>: $25.00 per week"),
        "admin limits": ("admin limits jobs=2 timezone=Europe/Paris", "in flight per user: 2"),
        "admin grant": ("admin grant <@U2|bob> 5 onboarding", "Granted $5.00 to <@U2>"),
        "admin usage": ("admin usage week", "Spend this week (Europe/Paris)"),
        "admin export": ("admin export --period day", "Ledger today: 1 entries"),
        "admin audit": ("admin audit", "caps set"),
    }  # fmt: skip
    for name in ADMIN_COMMANDS.keys() - texts.keys():  # any added since: at least it answers
        texts[name] = (name, "")
    for name, (typed, expected) in texts.items():
        answer = await ask(policy_kit, typed)
        assert answer["response_type"] == "ephemeral", name
        assert expected in answer["text"], (name, answer["text"])
        assert not answer["text"].startswith(("Unknown command", "Sorry")), name
    [cap] = [c for c in await policy_kit.services.budgets.store.caps(scope=SCOPE)]  # type: ignore[union-attr]
    assert (cap.kind, cap.subject, cap.amount, cap.period) == (
        CapKind.USER, "U1", Money.usd("25"), "week")  # fmt: skip
    assert cap.set_by == "UADMIN"
    shown = await ask(policy_kit, "admin caps")
    assert "<@U1>" in shown["text"] and "$25.00 per week" in shown["text"]


async def test_a_member_gets_the_cores_refusal_and_nothing_changes(policy_kit: SlackKit) -> None:
    for typed in ("admin caps set default 100", "admin usage", "admin grant <@U1> 5 me"):
        answer = await ask(policy_kit, typed, user="U1")
        assert (
            answer["text"] == "Only an admin of this workspace can use the admin commands."
            and answer["response_type"] == "ephemeral"
        )
    assert await policy_kit.services.budgets.store.caps(scope=SCOPE) == []  # type: ignore[union-attr]
    assert policy_kit.slack.calls_to("conversations.open") == []
    assert policy_kit.slack.calls_to("files.completeUploadExternal") == []


async def test_the_chart_and_the_csv_go_to_the_admins_direct_messages(
    policy_kit: SlackKit,
) -> None:
    slack = policy_kit.slack
    chart = await ask(policy_kit, "admin usage month")
    assert "Spend this month (UTC): nothing yet." in chart["text"]
    assert "in your direct messages" in chart["text"] and chart["response_type"] == "ephemeral"
    [opened] = slack.calls_to("conversations.open")
    assert opened.params["users"] == "UADMIN"
    [done] = slack.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == "DADMIN"  # the app's DM with the admin, not C1
    [png] = [f for f in slack.files.values() if f.name.endswith(".png")]
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n") and list(png.shares) == ["DADMIN"]

    export = await ask(policy_kit, "admin export")
    assert "Ledger this month: 0 entries." in export["text"]
    [csv] = [f for f in slack.files.values() if f.name.endswith(".csv")]
    assert csv.data.decode().startswith("entry_id,kind,user_id,") and list(csv.shares) == ["DADMIN"]
    assert all(c.params.get("channel_id") != "C1" for c in
               slack.calls_to("files.completeUploadExternal"))  # fmt: skip


async def test_without_a_dm_the_file_is_posted_nowhere(policy_kit: SlackKit) -> None:
    policy_kit.slack.fail_next("conversations.open", "missing_scope")
    answer = await ask(policy_kit, "admin export")
    assert "Ledger this month" in answer["text"]
    assert "missing_scope" in answer["text"] and "im:write" in answer["text"]
    assert policy_kit.slack.calls_to("files.getUploadURLExternal") == []
    assert policy_kit.slack.calls_to("files.completeUploadExternal") == []


def ephemeral_press(action: dict[str, Any], *, url: str, trigger: str) -> dict[str, Any]:
    """A press on an ephemeral message: Slack sends no `message` for those."""
    payload = block_actions(action, response_url=url, trigger=trigger)
    payload["container"]["is_ephemeral"] = True
    del payload["message"]
    return payload


async def prompted(kit: SlackKit, trigger: str) -> dict[str, dict[str, Any]]:
    """Submit the form as U1; the Confirm / Abort buttons of the ephemeral price prompt."""
    before = len(kit.slack.calls_to("chat.postEphemeral"))
    file = kit.slack.add_file("sheet.png", png_bytes())
    view = {**form(), "id": f"V-{trigger}"}  # a new form: the same view is handled once
    await kit.driver.interactive(view_submission(view, values(file), trigger=trigger))
    await kit.until(lambda: len(kit.slack.calls_to("chat.postEphemeral")) > before)
    said = kit.slack.calls_to("chat.postEphemeral")[before].params
    assert said["user"] == "U1" and "needs a confirmation here" in said["text"]
    return {b["action_id"]: b for b in said["blocks"][-1]["elements"]}


async def test_confirm_holds_and_starts_abort_rejects(policy_kit: SlackKit) -> None:
    kit = policy_kit
    assert "confirm: above $0.10" in (await ask(kit, "admin limits confirm_above=0.10"))["text"]
    buttons = await prompted(kit, "trig-view-1")
    assert set(buttons) == {"ltx_job_confirm", "ltx_job_abort"}
    assert buttons["ltx_job_abort"]["style"] == "danger"
    job_id = buttons["ltx_job_confirm"]["value"].removeprefix("confirm:")
    assert kit.runner.started == [] and await kit.open_holds() == []  # nothing held yet

    url, answered = kit.response_url("confirm"), len(kit.slack.responses)
    await kit.driver.interactive(ephemeral_press(buttons["ltx_job_confirm"], url=url,
                                                 trigger="t-confirm"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == answered + 1)
    answer = kit.slack.responses[-1]
    assert answer["replace_original"] is True and answer["response_type"] == "ephemeral"
    assert f"for job `{job_id}`" in answer["text"] and "Held" in answer["text"]
    assert [j.id for j in await kit.runner.wait_started()] == [job_id]
    assert await kit.open_holds() == [job_id]

    buttons = await prompted(kit, "trig-view-2")
    other = buttons["ltx_job_abort"]["value"].removeprefix("abort:")
    await kit.driver.interactive(ephemeral_press(buttons["ltx_job_abort"], url=url,
                                                 trigger="t-abort"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == answered + 2)
    assert "Aborted" in kit.slack.responses[-1]["text"]
    assert kit.slack.responses[-1]["replace_original"] is True
    job = await kit.services.jobs.get(other)
    assert job is not None and job.state is JobState.REJECTED
    assert len(kit.runner.started) == 1 and await kit.open_holds() == [job_id]


async def test_a_workflow_step_above_the_threshold_fails_and_holds_nothing(
    policy_kit: SlackKit,
) -> None:
    kit = policy_kit
    await ask(kit, "admin limits confirm_above=0.10")
    kit.slack.tokens[JIT_TOKEN] = TEAM
    file = kit.slack.add_file("chef.png", png_bytes())
    inputs = {"requester": "U2", "channel": "C1", "sheet": file["id"], "prompt": "go"}
    await kit.driver.event(step(inputs), event_id="Ev400")
    await kit.until(lambda: kit.slack.calls_to("functions.completeError"))
    error = kit.slack.calls_to("functions.completeError")[0].params["error"]
    assert "above the $0.10 that needs a confirmation here." in error
    assert "A workflow cannot press Confirm" in error and "Confirm within" not in error
    [job] = await kit.services.jobs.in_states([JobState.REJECTED])
    assert error.count(job.id) == 1 and job.origin.user_id == "U2"
    assert kit.runner.started == [] and await kit.open_holds() == []
    assert kit.slack.calls_to("functions.completeSuccess") == []


async def test_admin_forget_asks_first_then_forgets_a_member(policy_kit: SlackKit) -> None:
    services = policy_kit.services
    await seed_delivered(services, Platform.SLACK, TEAM, "U1", "jobforget1")
    spent = (await services.ledger.usage(scope=SCOPE, user_id=None, since=None)).spent
    assert parse_text("admin forget <@U1|alice> yes").options == {"user": "U1", "yes": True}

    asked = await ask(policy_kit, "admin forget <@U1|alice>")
    assert "removes 1 video, 1 sheet and 1 prompt" in asked["text"], asked["text"]
    assert "`yes`" in asked["text"] and asked["response_type"] == "ephemeral"
    assert len(files_left(services.settings.data_dir)) == 2
    refused = await ask(policy_kit, "admin forget <@U1|alice> yes", user="U1")
    assert refused["text"] == "Only an admin of this workspace can use the admin commands."

    done = await ask(policy_kit, "admin forget <@U1|alice> yes")
    assert done["text"].startswith("Forgot <@U1>: 2 files removed"), done["text"]
    assert files_left(services.settings.data_dir) == []
    job = await services.jobs.get("jobforget1")
    assert job is not None and job.origin.user_id.startswith("forgotten-")
    assert PROMPT not in job.model_dump_json()
    assert (await services.ledger.usage(scope=SCOPE, user_id=None, since=None)).spent == spent
    again = await ask(policy_kit, "admin forget <@U1> yes")
    assert again["text"].startswith("Nothing to forget")
