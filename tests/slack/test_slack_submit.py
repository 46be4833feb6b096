"""The form's view_submission: errors in the modal, the private download, the hold, retries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slackkit import SlackKit, png_bytes, user_of, view_submission

from adapters.slack import form_checks
from adapters.slack.modal import generate_modal
from bot.jobs.record import JobState
from bot.money import Money
from bot.ports.policy import Cap, CapKind


def values(file: dict[str, Any] | None, prompt: str = "the chef tosses the pasta",
           **options: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    state: dict[str, Any] = {
        "sheet": {"sheet": {"type": "file_input", "files": [file] if file else []}},
        "prompt": {"prompt": {"type": "plain_text_input", "value": prompt}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
    }
    for name, element in options.items():
        state[f"opt_{name}"] = {name: element}
    return state


def form() -> dict[str, Any]:
    return {**generate_modal(channel_id="C1", price="$0.40"), "id": "V0001"}


async def test_bad_options_go_back_into_the_modal(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(
        file, num_frames={"type": "number_input", "value": "5"}))  # fmt: skip
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and kit.driver.elapsed[-1] < 3
    assert '"response_action":"errors"' in body.replace(" ", "")
    assert "opt_num_frames" in body and "allowed 9 to 481" in body
    assert kit.slack.calls_to("download") == [] and kit.runner.started == []


async def test_missing_file_and_wrong_type_are_refused_in_the_modal(kit: SlackKit) -> None:
    status, body = await kit.driver.interactive(view_submission(form(), values(None)))
    assert status == 200 and '"sheet"' in body and "Attach a reference sheet" in body
    gif = kit.slack.add_file("cat.gif", b"GIF89a...", mimetype="image/gif")
    _, body = await kit.driver.interactive(view_submission(form(), values(gif), trigger="t2"))
    assert "use a PNG, JPEG or WebP image" in body


async def test_a_sign_in_page_instead_of_the_file_is_refused_in_the_modal(kit: SlackKit) -> None:
    kit.slack.file_readers = set()  # the token lacks files:read: Slack answers with HTML
    file = kit.slack.add_file("sheet.png", png_bytes())
    status, body = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200 and kit.driver.elapsed[-1] < 3
    errors = json.loads(body)["errors"]
    assert (
        "sign-in page instead of the image" in errors["sheet"] and "files:read" in errors["sheet"]
    )
    assert kit.slack.calls_to("download")[0].token == "xoxb-test-token"  # sent; Slack said no
    assert kit.runner.started == [] and await kit.open_holds() == []


async def test_checks_that_miss_the_acks_time_answer_after_it(
    kit: SlackKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(form_checks, "FORM_CHECK_SECONDS", 0)  # no time left before the ack
    kit.slack.file_readers = set()
    file = kit.slack.add_file("sheet.png", png_bytes())
    status, body = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200 and body == ""  # the modal closes; the answer comes ephemerally
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said = kit.slack.calls_to("chat.postEphemeral")[0].params
    assert said["user"] == "U1" and said["channel"] == "C1"
    assert "sign-in page instead of the image" in said["text"]
    assert kit.runner.started == [] and await kit.open_holds() == []


async def test_a_text_file_named_png_is_refused_in_the_modal(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", b"shopping list: basil, pasta\n" * 40)
    status, body = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200 and kit.driver.elapsed[-1] < 3
    assert "not an image (it looks like text)" in json.loads(body)["errors"]["sheet"]
    assert kit.runner.started == [] and await kit.open_holds() == []


async def test_a_price_above_the_per_request_maximum_is_refused_under_the_frames(
    kit: SlackKit,
) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(
        file, num_frames={"type": "number_input", "value": "481"},
        resolution_custom={"type": "plain_text_input", "value": "2560x2560"},
    ))  # fmt: skip
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and kit.driver.elapsed[-1] < 3
    errors = json.loads(body)["errors"]
    assert list(errors) == ["opt_num_frames"]
    assert "above the $5.00" in errors["opt_num_frames"]
    assert kit.runner.started == [] and await kit.open_holds() == []
    assert kit.slack.calls_to("chat.postEphemeral") == []


async def test_a_price_over_the_users_cap_is_refused_in_the_modal(kit: SlackKit) -> None:
    cap = Cap(CapKind.DEFAULT, "", Money.usd("0.10"), "day")
    await kit.services.budgets.admin.set_cap(
        "slack:T0TEAM", cap, actor="UADMIN", reason="", at=kit.services.clock()
    )
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(file, duration={"type": "number_input", "value": "5"}))
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and kit.driver.elapsed[-1] < 3
    errors = json.loads(body)["errors"]
    assert "your daily cap has $0.10 left" in errors["opt_duration"]
    assert kit.runner.started == [] and await kit.open_holds() == []


async def test_frames_and_duration_together_are_refused_under_both(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(
        file, num_frames={"type": "number_input", "value": "121"},
        duration={"type": "number_input", "value": "5"},
    ))  # fmt: skip
    _, body = await kit.driver.interactive(payload)
    errors = json.loads(body)["errors"]
    assert errors == {
        "opt_num_frames": "Give Frames or Duration (seconds), not both.",
        "opt_duration": "Give Frames or Duration (seconds), not both.",
    }


async def test_a_custom_size_wins_over_the_select_and_its_mistakes_show_under_it(
    kit: SlackKit,
) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    chosen = {"type": "static_select", "selected_option": {"value": "square_hd"}}
    bad = view_submission(form(), values(
        file, resolution=chosen, resolution_custom={"type": "plain_text_input", "value": "12x"},
    ))  # fmt: skip
    _, body = await kit.driver.interactive(bad)
    assert list(json.loads(body)["errors"]) == ["opt_resolution_custom"]
    good = view_submission(form(), values(
        file, resolution=chosen, resolution_custom={"type": "plain_text_input", "value": "256x160"},
    ), trigger="t2")  # fmt: skip
    status, body = await kit.driver.interactive(good)
    assert status == 200 and body == ""
    [job] = await kit.runner.wait_started()
    assert str(job.request.resolution) == "256x160"


async def test_a_good_submission_holds_the_price_and_starts_the_job(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(
        file, num_frames={"type": "number_input", "value": "241"},
        video_quality={"type": "static_select", "selected_option": {"value": "medium"}},
        generate_audio={"type": "checkboxes", "selected_options": []},
    ))  # fmt: skip
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and body == "" and kit.driver.elapsed[-1] < 3
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    [job] = kit.runner.started
    assert job.state is JobState.HELD and job.origin.channel_id == "C1"
    assert job.origin.scope == "T0TEAM" and job.origin.user_id == "U1"
    assert job.request.num_frames == 241 and job.request.video_quality.value == "medium"
    assert job.request.generate_audio is False
    assert await kit.open_holds() == [job.id]
    assert kit.slack.calls_to("download")[0].token == "xoxb-test-token"
    said = kit.slack.calls_to("chat.postEphemeral")[0].params["text"]
    assert f"for job `{job.id}`" in said and "Held $" in said


async def test_a_retried_submission_never_starts_a_second_job(kit: SlackKit) -> None:
    file = kit.slack.add_file("sheet.png", png_bytes())
    payload = view_submission(form(), values(file))
    await kit.driver.interactive(payload)
    status, _ = await kit.driver.interactive(payload, headers={"X-Slack-Retry-Num": "1"})
    assert status == 200
    # The same view submitted again with a new trigger (a double click) starts nothing either.
    again = view_submission(form(), values(file), trigger="trig-view-2")
    await kit.driver.interactive(again)
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    await kit.settle()
    assert len(kit.runner.started) == 1 and len(await kit.open_holds()) == 1


async def test_editing_frames_updates_the_live_price(kit: SlackKit) -> None:
    view = {**form(), "hash": "h1", "state": {"values": values(
        None, num_frames={"type": "number_input", "value": "241"})}}  # fmt: skip
    payload = {
        "type": "block_actions", "team": {"id": "T0TEAM"}, "user": user_of("U1"),
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": "trig-price",
        "container": {"type": "view", "view_id": "V0001"}, "view": view,
        "actions": [{"type": "number_input", "block_id": "opt_num_frames",
                     "action_id": "num_frames", "value": "241", "action_ts": "1.2"}],
    }  # fmt: skip
    status, _ = await kit.driver.interactive(payload)
    assert status == 200
    await kit.until(lambda: kit.slack.calls_to("views.update"))
    update = kit.slack.calls_to("views.update")[0].params
    assert update["view_id"] == "V0001" and update["hash"] == "h1"
    assert update["view"]["submit"]["text"] == "Generate ($0.80)"  # twice the frames
