"""Fixtures for the fal gateway tests: a SimulatedFal on 127.0.0.1 (TLS, port 0) and a
FalGateway on it that drives the real fal_client. Nothing really waits: the gateway's `sleep`
is a recorder that only yields to the event loop."""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import fal_client.client as fal_module
import pytest
from PIL import Image

from bot.fal_gateway import FalGateway
from bot.fal_retry import RetryPolicy
from bot.settings import Settings
from bot.simulated_fal import SimulatedFal

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, max_retry_after=5)
_GLOBALS = ("QUEUE_URL_FORMAT", "RUN_URL_FORMAT", "REST_URL", "CDN_URL", "MAX_ATTEMPTS")


class Sleeps:
    """A stand-in for asyncio.sleep: records each wait and only yields to the loop."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


class StepSleeps(Sleeps):
    """Records each poll wait, then returns when the simulated job next changes (or at once
    when it has finished): each poll of `follow` sees something new, with no wall-clock wait."""

    def __init__(self, fal: SimulatedFal) -> None:
        super().__init__()
        self.fal = fal

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        for job in list(self.fal.jobs.values()):
            if job.state == "COMPLETED":
                continue
            seen = job.version
            async with asyncio.timeout(5), job.changed:
                await job.changed.wait_for(lambda j=job, v=seen: j.version != v)


@functools.cache
def png_bytes(width: int = 320, height: int = 200) -> bytes:
    """A gradient PNG (something for the simulated render to pan across)."""
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    image = Image.merge("RGB", (red, green, Image.new("L", (width, height), 90)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def arguments(image_url: str, **extra: Any) -> dict[str, Any]:
    """A small, valid request: 256x160, 9 frames at 24 fps, with audio."""
    return {
        "prompt": "a paper boat drifts across a pond",
        "image_url": image_url,
        "resolution": {"width": 256, "height": 160},
        "num_frames": 9,
        "frames_per_second": 24,
        "generate_audio": True,
        "seed": 7,
        **extra,
    }


@pytest.fixture(autouse=True)
def restore_fal_client() -> Iterator[None]:
    """The gateway aims fal_client's module globals and SSL_CERT_FILE: put them back after."""
    saved = {name: getattr(fal_module, name) for name in _GLOBALS}
    saved_env = os.environ.get("SSL_CERT_FILE")
    yield
    assert os.environ.get("SSL_CERT_FILE") == saved_env, "the gateway left SSL_CERT_FILE set"
    for name, value in saved.items():
        setattr(fal_module, name, value)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]


@pytest.fixture
async def fal(tmp_path: Path) -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(
        generation_seconds=0.2, queue_seconds=0.1, data_dir=tmp_path / "fal", seed=1
    ) as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def gateway(
    settings: Settings, fal: SimulatedFal, sleeps: Sleeps
) -> AsyncIterator[FalGateway]:
    gateway = FalGateway.for_simulated(settings, fal, retry=FAST_RETRY, sleep=sleeps)
    try:
        yield gateway
    finally:
        await gateway.aclose()


@pytest.fixture
def sheet_url() -> str:
    """The sheet as a data URI, which fal (and the simulator) reads like a storage URL: the
    upload path has tests of its own, and skipping it here keeps each test quick."""
    return "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


@pytest.fixture
async def uploaded_url(gateway: FalGateway) -> str:
    """The sheet uploaded through fal_client to the simulator's storage, as the bot does."""
    return await gateway.upload(png_bytes(), content_type="image/png", file_name="sheet.png")
