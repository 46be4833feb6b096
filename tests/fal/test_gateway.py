"""The gateway's happy paths through the real fal_client over loopback TLS."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import fal_client.client as fal_module
import pytest
from falkit import FAST_RETRY, StepSleeps, arguments, finished, png_bytes

from bot.errors import GenerationFailed
from bot.fal.gateway import FalGateway
from bot.fal.on_simulated import gateway_on_simulated
from bot.fal.simulated import SimulatedFal
from bot.media.video import probe
from bot.ports import FalStatus
from bot.settings import Settings


async def test_upload_returns_a_url_the_server_stores(
    gateway: FalGateway, fal: SimulatedFal
) -> None:
    data = png_bytes()
    url = await gateway.upload(data, content_type="image/png", file_name="sheet.png")
    assert url.startswith(fal.cdn_url + "/files/")
    stored = fal.storage.lookup(url)
    assert stored is not None
    assert stored.path.read_bytes() == data
    assert stored.content_type == "image/png"


async def test_submit_sends_exactly_the_arguments(
    gateway: FalGateway, fal: SimulatedFal, uploaded_url: str
) -> None:
    sent = arguments(uploaded_url)
    request_id = await gateway.submit(sent, webhook_url=None)
    [submission] = await fal.wait_for_submissions(1)
    assert submission.request_id == request_id
    assert submission.app_id == "fal-ai/ltx-2.3-quality/ingredient"
    assert submission.arguments == sent
    assert submission.webhook_url is None
    assert submission.headers["Authorization"] == "Key simulated"


async def test_submit_passes_the_webhook_url(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    hook = "https://bot.example/fal/webhook?job=j1"
    await gateway.submit(arguments(sheet_url), webhook_url=hook)
    [submission] = await fal.wait_for_submissions(1)
    assert submission.webhook_url == hook


async def test_follow_yields_positions_then_logs_then_completed_one_poll_per_interval(
    settings: Settings, fal: SimulatedFal, sheet_url: str
) -> None:
    steps = StepSleeps(fal)
    gateway = gateway_on_simulated(
        settings, fal, retry=FAST_RETRY, sleep=steps, poll_interval=2.0, max_poll_interval=5.0
    )
    try:
        request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
        before = fal.status_requests
        seen = [status async for status in gateway.follow(request_id)]
    finally:
        await gateway.aclose()
    states = [status.state for status in seen]
    assert states[0] == "IN_QUEUE" and states[-1] == "COMPLETED"
    assert states == sorted(states, key=["IN_QUEUE", "IN_PROGRESS", "COMPLETED"].index)
    assert "IN_PROGRESS" in states
    positions = [s.queue_position for s in seen if s.state == "IN_QUEUE"]
    assert positions == sorted(positions, reverse=True) and positions[0] >= 1
    running_logs = [line for s in seen if s.state == "IN_PROGRESS" for line in s.logs]
    assert any(line.startswith("Denoising step") for line in running_logs)
    assert seen[-1].error is None and "Done" in seen[-1].logs
    # One status request per item, one wait between items, and the waits grow to the cap.
    assert fal.status_requests - before == len(seen)
    assert len(steps.calls) == len(seen) - 1
    assert steps.calls[:3] == [2.0, 3.0, 4.5]
    assert max(steps.calls) == 5.0
    assert all(later >= earlier for earlier, later in itertools.pairwise(steps.calls))


async def test_result_keeps_payload_and_billable_units(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await finished(gateway, fal, sheet_url)
    result = await gateway.result(request_id)
    video = result.payload["video"]
    assert video["content_type"] == "video/mp4" and video["url"].startswith(fal.cdn_url)
    assert result.payload["seed"] == 7
    # 256 x 160 x 9 frames = 0.37 MP, billed rounded up.
    assert result.billable_units == "1"


async def test_result_after_a_restart_rebuilds_the_handle(
    settings: Settings, gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await finished(gateway, fal, sheet_url)
    fresh = gateway_on_simulated(settings, fal, retry=FAST_RETRY)
    try:
        status = await fresh.status(request_id)
        result = await fresh.result(request_id)
    finally:
        await fresh.aclose()
    assert status.state == "COMPLETED"
    assert "video" in result.payload


async def test_download_streams_an_mp4_that_probes(
    gateway: FalGateway, fal: SimulatedFal, uploaded_url: str, tmp_path: Path
) -> None:
    request_id = await finished(gateway, fal, uploaded_url)
    result = await gateway.result(request_id)
    dest = tmp_path / "out" / "video.mp4"
    size = await gateway.download(result.payload["video"]["url"], dest, max_bytes=10**8)
    assert size == dest.stat().st_size == result.payload["video"]["file_size"]
    rendered = await probe(dest)
    assert (rendered.width, rendered.height) == (256, 160)
    assert rendered.num_frames == 9
    assert rendered.frames_per_second == pytest.approx(24)
    assert rendered.has_audio
    assert listing(dest.parent) == ["video.mp4"]  # no temporary file left behind


async def test_download_refuses_a_video_over_the_size_bound(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, tmp_path: Path
) -> None:
    request_id = await finished(gateway, fal, sheet_url)
    url = (await gateway.result(request_id)).payload["video"]["url"]
    dest = tmp_path / "videos" / "video.mp4"
    with pytest.raises(GenerationFailed, match="larger than") as caught:
        await gateway.download(url, dest, max_bytes=1000)
    assert not caught.value.retryable
    assert listing(dest.parent) == []  # neither the video nor a temporary part


async def test_cancel_while_queued_is_confirmed(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.pause()  # hold the job in the queue
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    assert (await gateway.status(request_id)).state == "IN_QUEUE"
    assert await gateway.cancel(request_id) is True
    fal.resume()
    job = await fal.wait_for_completion(request_id)
    assert job.outcome is not None and job.outcome.error_type == "client_cancelled"
    assert job.started is None or job.outcome.result is None  # it never rendered


async def test_cancel_while_running_is_asked_but_not_confirmed(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    job = fal.jobs[request_id]
    async with asyncio.timeout(5), job.changed:
        await job.changed.wait_for(lambda: job.state == "IN_PROGRESS")
    fal.pause()  # it stays running until resumed
    assert await gateway.cancel(request_id) is False  # fal may still finish and bill it
    assert job.cancel_requested  # but fal was asked to stop it
    fal.resume()
    await fal.wait_for_completion(request_id)


async def test_a_request_that_starts_between_the_look_and_the_cancel_is_not_confirmed(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    job = fal.jobs[request_id]
    async with asyncio.timeout(5), job.changed:
        await job.changed.wait_for(lambda: job.state == "IN_PROGRESS")
    fal.pause()  # it stays running until resumed
    real_status, looks = gateway.status, []

    async def status(request_id: str) -> FalStatus:
        looks.append(await real_status(request_id))
        # The first look saw it queued: fal's machine took it just after.
        return FalStatus("IN_QUEUE", 0) if len(looks) == 1 else looks[-1]

    monkeypatch.setattr(gateway, "status", status)
    assert await gateway.cancel(request_id) is False  # running by the time fal was asked
    assert job.cancel_requested and [look.state for look in looks] == ["IN_PROGRESS"] * 2
    fal.resume()
    await fal.wait_for_completion(request_id)


async def test_cancel_after_completion_is_not_confirmed(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await finished(gateway, fal, sheet_url)
    assert await gateway.cancel(request_id) is False


def test_from_settings_honours_the_url_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LTXBOT_FAL_QUEUE_URL", "https://queue.fal.test/")
    monkeypatch.setenv("LTXBOT_FAL_REST_URL", "https://rest.fal.test")
    monkeypatch.setenv("LTXBOT_FAL_CDN_URL", "https://cdn.fal.test/")
    monkeypatch.setenv("FAL_KEY", "key-id:key-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    gateway = FalGateway.from_settings(settings)
    assert gateway.simulated is False
    assert fal_module.QUEUE_URL_FORMAT == "https://queue.fal.test/"
    assert fal_module.REST_URL == "https://rest.fal.test"
    assert fal_module.CDN_URL == "https://cdn.fal.test"
    assert fal_module.MAX_ATTEMPTS == 1  # fal_client's own retries are off
    assert "key-secret" not in repr(gateway.__dict__)


async def test_a_gateway_on_simulated_trusts_the_ca_only_while_open(
    settings: Settings, fal: SimulatedFal
) -> None:
    before = os.environ.get("SSL_CERT_FILE")
    gateway = gateway_on_simulated(settings, fal)
    bundle = os.environ["SSL_CERT_FILE"]
    assert fal.ca_file is not None and text(fal.ca_file) in text(Path(bundle))
    assert gateway.simulated is True
    assert fal.queue_url + "/" == fal_module.QUEUE_URL_FORMAT
    await gateway.aclose()
    assert os.environ.get("SSL_CERT_FILE") == before
    assert listing(Path(bundle).parent, Path(bundle).name) == []


def text(path: Path) -> str:
    return path.read_text()


def listing(folder: Path, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))


async def test_a_plain_http_simulated_fal_works_too(settings: Settings, tmp_path: Path) -> None:
    async with SimulatedFal(
        generation_seconds=0, queue_seconds=0, tls=False, data_dir=tmp_path / "plain"
    ) as fal:
        gateway = gateway_on_simulated(settings, fal, retry=FAST_RETRY)
        try:
            url = await gateway.upload(png_bytes(), content_type="image/png", file_name="s.png")
            request_id = await gateway.submit(arguments(url), webhook_url=None)
            await fal.wait_for_completion(request_id)
            result = await gateway.result(request_id)
        finally:
            await gateway.aclose()
    assert url.startswith("http://") and result.payload["video"]["url"].startswith("http://")


async def test_the_gateway_keeps_no_request_handle_once_the_result_is_fetched(
    gateway: FalGateway, fal: SimulatedFal, uploaded_url: str
) -> None:
    # A long-running bot follows thousands of jobs: a handle kept per job would only grow.
    request_id = await gateway.submit(arguments(uploaded_url), webhook_url=None)
    assert request_id in gateway._handles
    fal.finish(request_id)
    await fal.wait_for_completion(request_id)
    await gateway.result(request_id)
    assert request_id not in gateway._handles
    assert "video" in (await gateway.result(request_id)).payload  # rebuilt when asked again
