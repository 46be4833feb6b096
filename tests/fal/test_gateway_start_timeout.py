"""fal's start timeout: every submit carries it (fal_client's `start_timeout`, sent as
`X-Fal-Request-Timeout`), the simulated fal honours it, and a request no machine started in
time ends with the sentence the user reads."""

from __future__ import annotations

import time

import fal_client.client as fal_http
import httpx
import pytest
from falkit import arguments

from bot.errors import ConfigurationError, FalUnavailable, GenerationFailed
from bot.fal.answers import error_from_response
from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal
from bot.fal.translate import translated
from bot.settings import Settings, load_settings


async def test_every_submit_carries_the_start_timeout_of_the_settings(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, settings: Settings
) -> None:
    assert settings.fal_start_timeout_s == 900  # the default: 15 min
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    [submission] = await fal.wait_for_submissions(1)
    assert submission.request_id == request_id
    headers = {name.lower(): value for name, value in submission.headers.items()}
    assert headers["x-fal-request-timeout"] == "900.0"  # as fal_client writes it
    assert fal.jobs[request_id].start_timeout == 900.0


async def test_a_request_held_in_the_queue_past_its_start_timeout_ends_unstarted(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.hold_in_queue_at = 0  # no machine frees up
    gateway.start_timeout = 1.5  # fal_client refuses 1 s or less
    began = time.monotonic()
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    job = await fal.wait_for_completion(request_id, timeout=10)
    assert time.monotonic() - began >= 1.5  # the deadline itself, not a skip
    assert job.logs == [] and job.queue_position == 0  # no machine ever ran it
    status = await gateway.status(request_id)
    assert status.state == "COMPLETED" and status.error == "Request timed out"
    with pytest.raises(GenerationFailed) as caught:
        await gateway.result(request_id)
    assert not isinstance(caught.value, FalUnavailable)  # final: not retried
    assert (
        caught.value.reason == "fal could not start this video within 1.5 s; nothing was charged."
    )


async def test_finish_skips_a_held_request_to_its_start_timeout(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.hold_in_queue_at = 1
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.finish(request_id)
    await fal.wait_for_completion(request_id)
    with pytest.raises(GenerationFailed, match=r"^fal could not start this video within 15 min;"):
        await gateway.result(request_id)


async def test_a_held_request_without_a_start_timeout_moves_on_when_a_machine_frees_up(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.hold_in_queue_at = 1
    gateway.start_timeout = None  # no header: fal waits as long as it takes
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    job = fal.jobs[request_id]
    assert job.start_timeout is None
    seen = job.version
    async with job.changed:
        await job.changed.wait_for(lambda: job.queue_position == 1 and job.version > seen)
    fal.faults.hold_in_queue_at = None
    await fal.wait_for_completion(request_id)
    assert (await gateway.result(request_id)).payload["video"]


async def test_a_malformed_start_timeout_is_refused_as_fal_does(
    fal: SimulatedFal, sheet_url: str
) -> None:
    async with httpx.AsyncClient(verify=fal.ssl_context()) as client:
        response = await client.post(
            f"{fal.queue_url}/fal-ai/ltx-2.3-quality/ingredient",
            json=arguments(sheet_url),
            headers={"Authorization": "Key test", "X-Fal-Request-Timeout": "soon"},
        )
    assert response.status_code == 400
    assert response.json()["error_type"] == "bad_request" and fal.submissions == []


def test_the_sentence_names_the_start_timeout_in_minutes() -> None:
    headers = {"X-Fal-Request-Timeout-Type": "user", "X-Fal-Error-Type": "request_timeout"}
    body = b'{"detail": "Request timed out", "error_type": "request_timeout"}'
    error = error_from_response(504, headers, body, during="fetching", start_timeout=900)
    assert error.reason == "fal could not start this video within 15 min; nothing was charged."
    assert (
        "within 2.5 min"
        in error_from_response(504, headers, body, during="x", start_timeout=150).reason
    )
    # Without the header it is fal's own limit on a run, as before.
    plain = error_from_response(504, {}, body, during="fetching", start_timeout=900)
    assert "took longer than fal allows" in plain.reason


async def test_the_setting_comes_from_the_environment_within_its_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LTXBOT_FAL_START_TIMEOUT_S", "120")
    settings = load_settings(_env_file=None)
    assert settings.fal_start_timeout_s == 120
    gateway = FalGateway.from_settings(settings)
    try:
        assert gateway.start_timeout == 120
    finally:
        await gateway.aclose()
    for outside in ("59", "86401", "soon"):
        monkeypatch.setenv("LTXBOT_FAL_START_TIMEOUT_S", outside)
        with pytest.raises(ConfigurationError, match="setting LTXBOT_FAL_START_TIMEOUT_S"):
            load_settings(_env_file=None)


def test_a_status_look_answered_with_that_504_names_the_start_timeout_too() -> None:
    # fal documents the 504 for the request; should a status look ever carry it, the sentence
    # is the same (fal_client raises its HTTP error, `translated` turns it into ours).
    request = httpx.Request("GET", "https://queue.fal.run/fal-ai/x/requests/r/status")
    response = httpx.Response(
        504,
        headers={"X-Fal-Request-Timeout-Type": "user"},
        json={"detail": "Request timed out", "error_type": "request_timeout"},
        request=request,
    )
    failure = fal_http.FalClientHTTPError("Request timed out", 504, {}, response=response)
    with pytest.raises(GenerationFailed) as caught, translated("checking", start_timeout=600):
        raise failure
    assert (
        caught.value.reason == "fal could not start this video within 10 min; nothing was charged."
    )
