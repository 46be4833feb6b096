"""The fal every bot in the run talks to: `bot.fal.simulated.SimulatedFal` over TLS on
loopback, plus what the bench needs to see from fal's side of the wire.

- Each job's fal time (submit received -> COMPLETED), so a bot's overhead can be told apart.
- Every status request, per request id, with its time (counts and the gaps between polls).
- The render is swapped for a hard link to one MP4 rendered once at the requested size: fal's
  GPUs are not ours to measure, and 500 libx264 encodes would starve the bot under test of the
  machine's two cores. The file is a real, full-size MP4 (about 2 MB at 1536x896, 121 frames),
  so the bots download and probe what they would in production.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

import bot.fal.simulated.runner as sim_runner
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.render import VideoSpec, render_video

_REQUEST = re.compile(r"/requests/([0-9a-f-]{36})(/status(?:/stream)?)?$")


@dataclass(frozen=True)
class VideoShape:
    """The size every bench job asks for; the pre-rendered MP4 has exactly this shape."""

    width: int
    height: int
    num_frames: int

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


def prerendered(sheet: Path, shape: VideoShape, cache_dir: Path) -> Path:
    """The MP4 for `shape`, rendered from `sheet` once and kept in `cache_dir`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"video-{shape.resolution}x{shape.num_frames}.mp4"
    if not path.exists():
        spec = VideoSpec(shape.width, shape.height, shape.num_frames, 24.0, True, 0)
        partial = path.with_suffix(".part")
        render_video(sheet.read_bytes(), spec, partial)
        partial.replace(path)
    return path


def use_prerendered(video: Path) -> Callable[[], None]:
    """Make the simulator 'render' by linking `video`; returns the undo."""
    original = sim_runner.render_video

    def link(_sheet: bytes, _spec: VideoSpec, out_path: Path) -> int:
        try:
            os.link(video, out_path)
        except OSError:  # another file system
            shutil.copyfile(video, out_path)
        return out_path.stat().st_size

    sim_runner.render_video = link  # type: ignore[assignment]

    def undo() -> None:
        sim_runner.render_video = original  # type: ignore[assignment]

    return undo


class BenchFal(SimulatedFal):
    """A SimulatedFal that also records when each request arrived and was looked at."""

    def __init__(self, *, warm_ups: int = 0, **options: Any) -> None:
        super().__init__(**options)
        # The first `warm_ups` jobs are each bot's warm-up (one per process, before anything
        # is measured): they complete at once instead of taking a render's seconds each.
        self.warm_ups = warm_ups
        self.received: dict[str, float] = {}
        self.status_times: dict[str, list[float]] = defaultdict(list)
        self.result_times: dict[str, float] = {}

    async def enqueue(self, app_id, arguments, headers, webhook):  # type: ignore[no-untyped-def]
        job = await super().enqueue(app_id, arguments, headers, webhook)
        if len(self.received) < self.warm_ups:
            self.finish(job.request_id)  # it still renders, without the waits
        self.received[job.request_id] = time.monotonic()
        return job

    @web.middleware
    async def _latency(self, request: web.Request, handler: Any) -> web.StreamResponse:
        # The simulator's only middleware slot: record, then behave exactly as before.
        match = _REQUEST.search(request.path)
        if match and request.method == "GET":
            if match[2]:
                self.status_times[match[1]].append(time.monotonic())
            else:
                self.result_times.setdefault(match[1], time.monotonic())
        return await super()._latency(request, handler)

    def fal_seconds(self, request_id: str) -> float | None:
        """Submit received -> COMPLETED: fal's share of the job's time."""
        job = self.jobs.get(request_id)
        received = self.received.get(request_id)
        if job is None or job.finished is None or received is None:
            return None
        return job.finished - received

    def poll_gaps(self, request_id: str) -> list[float]:
        times = self.status_times.get(request_id, [])
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def endpoints(self) -> dict[str, Any]:
        """What a bot in another process needs to reach this fal."""
        return {
            "queue_url": self.queue_url,
            "rest_url": self.rest_url,
            "cdn_url": self.cdn_url,
            "jwks_url": self.jwks_url,
            "ca_file": str(self.ca_file),
        }
