"""`Gateway`: what the core asks of fal (`bot.fal.gateway` implements it), and its records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.model import JSONObject, Payload


@dataclass(frozen=True, slots=True)
class FalStatus:
    """One look at a queued request."""

    state: str  # "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED"
    queue_position: int | None = None
    logs: tuple[str, ...] = ()
    error: str | None = None  # set on COMPLETED when the run failed


@dataclass(frozen=True, slots=True)
class FalResult:
    payload: Payload  # fal's result JSON, read defensively
    billable_units: str | None


class Gateway(Protocol):
    simulated: bool

    async def upload(self, data: bytes, *, content_type: str, file_name: str) -> str:
        """Put the sanitised sheet in fal storage; returns the URL fal will read."""
        ...

    async def submit(self, arguments: JSONObject, *, webhook_url: str | None) -> str:
        """Queue the request; returns fal's request id. Never submits twice for one call."""
        ...

    async def status(self, request_id: str) -> FalStatus:
        """One look at the request (transient errors retried); raises GenerationFailed."""
        ...

    def follow(self, request_id: str) -> AsyncIterator[FalStatus]:
        """Status updates until COMPLETED (the last item yielded)."""
        ...

    async def result(self, request_id: str) -> FalResult:
        """The finished request's JSON and billed units; raises GenerationFailed."""
        ...

    async def cancel(self, request_id: str) -> bool:
        """True when fal confirms the request will not run (or did not)."""
        ...

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Stream the video to `dest`; returns its size. Raises GenerationFailed."""
        ...
