"""Helpers shared by the fal gateway tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import functools
import io
from typing import Any

from PIL import Image

from bot.fal.gateway import FalGateway
from bot.fal.retry import RetryPolicy
from bot.fal.simulated import SimulatedFal

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


async def finished(gateway: FalGateway, fal: SimulatedFal, sheet_url: str, **extra: Any) -> str:
    """Submit a job through `gateway`, let the simulated fal finish it; its request id."""
    request_id = await gateway.submit(arguments(sheet_url, **extra), webhook_url=None)
    fal.finish(request_id)
    await fal.wait_for_completion(request_id)
    return request_id
