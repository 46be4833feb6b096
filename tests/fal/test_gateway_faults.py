"""Every fault the simulated fal can raise, met by the real fal_client and our gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from falkit import FAST_RETRY, Sleeps, arguments, finished, png_bytes

from bot.errors import FalUnavailable, GenerationFailed, ResultExpired, SubmitOutcomeUnknown
from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal
from bot.jobs.fal_answer import result_from_payload
from bot.media.video import probe


async def test_validation_error_names_field_and_message(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    fal.faults.validation_error = True
    with pytest.raises(GenerationFailed) as caught:
        await gateway.submit(arguments(sheet_url, num_frames=600), webhook_url=None)
    error = caught.value
    assert not isinstance(error, FalUnavailable) and not error.retryable
    assert "num_frames: Input should be less than or equal to 481" in error.reason
    assert "Nothing was charged" in error.reason
    assert fal.submissions == [] and sleeps.calls == []


async def test_content_policy_rejection_is_clear_and_final(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    fal.faults.safety_rejection = True
    request_id = await finished(gateway, fal, sheet_url)
    status = await gateway.status(request_id)
    assert status.state == "COMPLETED" and status.error == "Invalid status code: 422"
    with pytest.raises(GenerationFailed) as caught:
        await gateway.result(request_id)
    assert "content checker refused this request (prompt)" in caught.value.reason
    assert not caught.value.retryable and sleeps.calls == []


async def test_run_error_says_what_happened(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.run_error = "runner_disconnected"
    request_id = await finished(gateway, fal, sheet_url)
    with pytest.raises(GenerationFailed, match="disconnected while rendering"):
        await gateway.result(request_id)


async def test_rate_limit_honours_retry_after_then_succeeds(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    fal.faults.rate_limit_next = 1
    fal.faults.retry_after_seconds = 3
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    assert [s.request_id for s in fal.submissions] == [request_id]
    assert len(sleeps.calls) == 1 and sleeps.calls[0] >= 3  # not fal_client's fast 0.1 s


async def test_retry_after_is_capped(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.faults.rate_limit_next = 1
    fal.faults.retry_after_seconds = 3600
    await gateway.status(request_id)
    assert sleeps.calls == [FAST_RETRY.max_retry_after]


async def test_server_error_on_submit_is_retried_then_succeeds(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    fal.faults.server_error_next = 1
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    assert [s.request_id for s in fal.submissions] == [request_id]  # the 500 queued nothing
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("fault", ["server_error_next", "drop_connection_next"])
async def test_a_server_error_or_dropped_connection_on_status_is_retried_then_succeeds(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps, fault: str
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    before = fal.status_requests
    setattr(fal.faults, fault, 1)
    status = await gateway.status(request_id)
    assert status.state in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")
    assert fal.status_requests - before == 2 and len(sleeps.calls) == 1


async def test_retries_exhausted_is_a_clear_sentence(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    before = fal.status_requests
    fal.faults.server_error_next = 10
    with pytest.raises(FalUnavailable) as caught:
        await gateway.status(request_id)
    assert caught.value.reason == (
        "fal had a server problem (HTTP 500, internal_error) while checking progress, "
        "and it did not recover after 3 tries"
    )
    assert fal.status_requests - before == FAST_RETRY.attempts
    assert len(sleeps.calls) == FAST_RETRY.attempts - 1


async def test_lost_submit_response_is_never_sent_twice(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    fal.faults.lose_submit_response = 1
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await gateway.submit(arguments(sheet_url), webhook_url=None)
    assert len(fal.submissions) == 1  # fal queued it once, and only once
    assert sleeps.calls == []
    assert "did not send it again" in caught.value.reason
    assert not caught.value.retryable


async def test_dropped_connection_on_submit_is_not_resent(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.drop_connection_next = 1  # closed before fal queued it; we cannot tell
    with pytest.raises(SubmitOutcomeUnknown):
        await gateway.submit(arguments(sheet_url), webhook_url=None)
    assert fal.submissions == []


async def test_upload_error_is_retried_then_succeeds(
    gateway: FalGateway, fal: SimulatedFal, sleeps: Sleeps
) -> None:
    fal.faults.upload_error_next = 1
    url = await gateway.upload(png_bytes(), content_type="image/png", file_name="s.png")
    assert fal.storage.lookup(url) is not None and len(sleeps.calls) == 1


async def test_bad_json_result_fails_cleanly(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.bad_json_result = True
    request_id = await finished(gateway, fal, sheet_url)
    with pytest.raises(GenerationFailed, match="not valid JSON") as caught:
        await gateway.result(request_id)
    assert not isinstance(caught.value, FalUnavailable)


async def test_missing_video_fails_cleanly(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.missing_video = True
    request_id = await finished(gateway, fal, sheet_url)
    result = await gateway.result(request_id)
    assert "video" not in result.payload and result.billable_units == "1"
    with pytest.raises(GenerationFailed, match="no video"):
        result_from_payload(result)


async def test_a_smaller_render_is_still_billed_as_asked(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, tmp_path: Path
) -> None:
    fal.faults.render_size, fal.faults.render_frames = (128, 80), 5
    result = await gateway.result(await finished(gateway, fal, sheet_url))
    assert result.billable_units == "1"  # the 256x160 x 9 frames asked
    video = tmp_path / "v.mp4"
    await gateway.download(result.payload["video"]["url"], video, max_bytes=1 << 26)
    rendered = await probe(video)
    assert (rendered.width, rendered.height, rendered.num_frames) == (128, 80, 5)


@pytest.mark.parametrize(("units", "omit", "sent"), [("9", False, "9"), (None, True, None)])
async def test_the_bill_can_be_another_than_asked_or_absent(
    gateway: FalGateway,
    fal: SimulatedFal,
    sheet_url: str,
    units: str | None,
    omit: bool,
    sent: str | None,
) -> None:
    fal.faults.billable_units, fal.faults.omit_billable_units = units, omit
    result = await gateway.result(await finished(gateway, fal, sheet_url))
    assert "video" in result.payload and result.billable_units == sent


async def test_expired_result_says_so(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps
) -> None:
    request_id = await finished(gateway, fal, sheet_url)
    fal.faults.result_expired = True
    with pytest.raises(ResultExpired, match="no longer keeps the result"):
        await gateway.result(request_id)
    assert sleeps.calls == []


async def test_unknown_request_status_is_expired(gateway: FalGateway) -> None:
    with pytest.raises(ResultExpired):
        await gateway.status("00000000-0000-0000-0000-000000000000")


async def test_video_404_fails_without_retrying(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps, tmp_path: Path
) -> None:
    url = (await gateway.result(await finished(gateway, fal, sheet_url))).payload["video"]["url"]
    fal.faults.video_404 = True
    dest = tmp_path / "videos" / "video.mp4"
    with pytest.raises(GenerationFailed, match="not at fal's file store") as caught:
        await gateway.download(url, dest, max_bytes=10**8)
    assert not isinstance(caught.value, FalUnavailable) and sleeps.calls == []
    assert list(dest.parent.iterdir()) == []


async def test_truncated_video_fails_and_leaves_no_file(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, sleeps: Sleeps, tmp_path: Path
) -> None:
    url = (await gateway.result(await finished(gateway, fal, sheet_url))).payload["video"]["url"]
    fal.faults.truncated_video = True
    dest = tmp_path / "videos" / "video.mp4"
    with pytest.raises(FalUnavailable, match="cut short") as caught:
        await gateway.download(url, dest, max_bytes=10**8)
    assert "did not recover after 3 tries" in caught.value.reason
    assert len(sleeps.calls) == FAST_RETRY.attempts - 1
    assert list(dest.parent.iterdir()) == []  # no partial file, no temporary file
