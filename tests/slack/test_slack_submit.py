"""The form's view_submission: errors in the modal, the private download, the hold, retries."""

from __future__ import annotations

from typing import Any

from slackkit import SlackKit, png_bytes, user_of, view_submission

from adapters.slack.modal import generate_modal
from bot.jobs.record import JobState


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


async def test_a_sign_in_page_instead_of_the_file_is_refused_and_nothing_held(
    kit: SlackKit,
) -> None:
    kit.slack.file_readers = set()  # the token lacks files:read: Slack answers with HTML
    file = kit.slack.add_file("sheet.png", png_bytes())
    status, body = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200 and body == ""  # the modal closes; the answer comes ephemerally
    await kit.until(lambda: kit.slack.calls_to("chat.postEphemeral"))
    said = kit.slack.calls_to("chat.postEphemeral")[0].params
    assert said["user"] == "U1" and said["channel"] == "C1"
    assert "sign-in page instead of the image" in said["text"] and "files:read" in said["text"]
    download = kit.slack.calls_to("download")[0]
    assert download.token == "xoxb-test-token"  # it was sent; Slack still said no
    assert kit.runner.started == [] and await kit.open_holds() == []


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
