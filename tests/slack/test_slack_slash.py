"""`/ltx` over signed HTTP: signatures, the 3-second ack, the form, text subcommands."""

from __future__ import annotations

import time

from slackkit import SlackKit

from adapters.slack.modal import CALLBACK_ID


async def test_forged_and_stale_signatures_are_refused(kit: SlackKit) -> None:
    status, _ = await kit.driver.command("budget", signature="v0=" + "0" * 64)
    assert status == 401
    stale = int(time.time()) - 6 * 60  # Slack's window is 5 minutes
    status, _ = await kit.driver.command("budget", timestamp=stale)
    assert status == 401
    assert kit.slack.calls_to("views.open") == [] and kit.slack.responses == []


async def test_bare_ltx_acks_at_once_and_opens_the_form(kit: SlackKit) -> None:
    status, body = await kit.driver.command("", trigger="trig-42")
    assert status == 200 and body == ""
    assert kit.driver.elapsed[-1] < 3
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    call = kit.slack.calls_to("views.open")[0]
    assert call.params["trigger_id"] == "trig-42" and call.token == "xoxb-test-token"
    view = call.params["view"]
    assert view["callback_id"] == CALLBACK_ID and view["type"] == "modal"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    sheet = blocks["sheet"]["element"]
    assert sheet["type"] == "file_input" and sheet["max_files"] == 1
    assert sheet["filetypes"] == ["png", "jpg", "jpeg", "webp"]
    assert blocks["prompt"]["element"]["type"] == "plain_text_input"
    frames = blocks["opt_num_frames"]["element"]
    assert frames["type"] == "number_input" and not frames["is_decimal_allowed"]
    assert (frames["min_value"], frames["max_value"]) == ("9", "481")
    assert blocks["opt_guidance_scale"]["element"]["is_decimal_allowed"] is True
    quality = blocks["opt_video_quality"]["element"]
    assert quality["type"] == "static_select"
    assert [o["value"] for o in quality["options"]] == ["low", "medium", "high", "maximum"]
    audio = blocks["opt_generate_audio"]["element"]
    assert audio["type"] == "checkboxes" and audio["initial_options"]  # on by default
    assert "opt_sync_mode" not in blocks  # an inline video is nothing a chat user wants
    assert blocks["opt_num_frames"]["label"]["text"] == "Frames"
    assert blocks["opt_num_frames"]["hint"]["text"] == "Frames to generate, 9 to 481 (default 121)"
    sizes = blocks["opt_resolution"]["element"]["options"]
    assert {
        "text": {"type": "plain_text", "text": "square_hd · 1024x1024"},
        "value": "square_hd",
    } in sizes
    assert blocks["opt_resolution_custom"]["element"]["type"] == "plain_text_input"
    channel = blocks["channel"]["element"]
    assert channel["type"] == "conversations_select" and channel["initial_conversation"] == "C1"
    assert "opt_enable_safety_checker" not in blocks  # restricted: not offered here
    assert "$0.40" in blocks["price"]["elements"][0]["text"]  # 1536x896, 121 frames
    assert view["submit"]["text"] == "Generate ($0.40)"


async def test_ltx_with_a_prompt_prefills_the_form(kit: SlackKit) -> None:
    await kit.driver.command("the chef tosses the pasta")
    await kit.until(lambda: kit.slack.calls_to("views.open"))
    view = kit.slack.calls_to("views.open")[0].params["view"]
    prompt = next(b for b in view["blocks"] if b.get("block_id") == "prompt")
    assert prompt["element"]["initial_value"] == "the chef tosses the pasta"


async def test_estimate_is_answered_ephemerally_with_the_exact_price(kit: SlackKit) -> None:
    url = kit.response_url("est")
    status, _ = await kit.driver.command("estimate --num-frames 241 resolution=1280x720",
                                         response_url=url)  # fmt: skip
    assert status == 200 and kit.driver.elapsed[-1] < 3
    await kit.until(lambda: kit.slack.responses)
    answer = kit.slack.responses[0]
    assert answer["response_type"] == "ephemeral"
    assert "1280x720, 241 frames" in answer["text"] and "would cost" in answer["text"]
    assert kit.runner.started == []


async def test_a_tiny_price_is_shown_exactly_not_as_cents(kit: SlackKit) -> None:
    await kit.driver.command(
        "estimate resolution=64x64 num_frames=9", response_url=kit.response_url()
    )
    await kit.until(lambda: kit.slack.responses)
    text = kit.slack.responses[0]["text"]
    assert "This video would cost $0.0024075." in text  # 1 MP, not "$0.00"
    assert "= 1 MP x $0.0024075/MP = $0.0024075" in text and "$0.00." not in text


async def test_unknown_option_explains_itself(kit: SlackKit) -> None:
    await kit.driver.command("estimate frames=5", response_url=kit.response_url())
    await kit.until(lambda: kit.slack.responses)
    text = kit.slack.responses[0]["text"]
    assert "frames is not an option of estimate" in text and "num_frames" in text


async def test_budget_history_show_and_cancel(kit: SlackKit) -> None:
    await kit.driver.command("budget", response_url=kit.response_url("b"), trigger="t1")
    await kit.driver.command("history", response_url=kit.response_url("h"), trigger="t2")
    await kit.driver.command("show nosuchjob", response_url=kit.response_url("s"), trigger="t3")
    await kit.driver.command("cancel", response_url=kit.response_url("c"), trigger="t4")
    await kit.until(lambda: len(kit.slack.responses) == 4)
    texts = {c.params.get("text", "") for c in kit.slack.calls_to("response_url")}
    assert any("no jobs yet" in t for t in texts)
    assert any("No job `nosuchjob` here" in t for t in texts)
    assert any("job is required" in t for t in texts)
    assert all(r["response_type"] == "ephemeral" for r in kit.slack.responses)


async def test_a_repeated_slash_command_is_handled_once(kit: SlackKit) -> None:
    url = kit.response_url()
    await kit.driver.command("budget", response_url=url, trigger="same")
    status, _ = await kit.driver.command("budget", response_url=url, trigger="same",
                                         headers={"X-Slack-Retry-Num": "1"})  # fmt: skip
    assert status == 200
    await kit.until(lambda: kit.slack.responses)
    await kit.settle()
    assert len(kit.slack.responses) == 1
