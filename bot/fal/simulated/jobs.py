"""One simulated fal request: its state, logs and outcome, and how each is shown on the wire."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.fal.simulated.errors import model_error_body, request_error_status
from bot.fal.simulated.wire import JSON, JSONObject, Payload

IN_QUEUE, IN_PROGRESS, COMPLETED = "IN_QUEUE", "IN_PROGRESS", "COMPLETED"
# The submit's deadline for a machine to start the request (fal_client's `start_timeout`).
START_TIMEOUT_HEADER = "x-fal-request-timeout"
MIN_START_TIMEOUT = 0.1  # fal's docs: "Minimum > 0.1 seconds"


def start_timeout_of(headers: Mapping[str, str]) -> float | None:
    """The submit's start timeout in seconds, None without one; ValueError when malformed."""
    value = next((v for k, v in headers.items() if k.lower() == START_TIMEOUT_HEADER), None)
    if value is None:
        return None
    seconds = float(value)
    if not seconds > MIN_START_TIMEOUT:  # also refuses nan
        raise ValueError(f"start timeout must be above {MIN_START_TIMEOUT} s")
    return seconds


@dataclass
class Submission:
    """Every submit the server received, as received (headers kept verbatim, never logged)."""

    request_id: str
    app_id: str
    arguments: Payload
    headers: dict[str, str]
    webhook_url: str | None
    received_at: datetime


@dataclass
class Outcome:
    """How a finished job ended: a result, a model error (422 detail list) or a request error."""

    result: JSONObject | None = None
    billable_units: int | None = None
    model_errors: list[JSONObject] | None = None
    error_type: str | None = None
    error_detail: str | None = None
    # "user" when the request's own start timeout ended it (fal's X-Fal-Request-Timeout-Type).
    timeout_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def status_error(self) -> tuple[str | None, str | None]:
        """The `error` and `error_type` a COMPLETED status carries."""
        if self.model_errors is not None:
            return "Invalid status code: 422", None
        if self.error_type is not None:
            return self.error_detail or request_error_status(self.error_type)[1], self.error_type
        return None, None


@dataclass
class SimJob:
    request_id: str
    app_id: str
    arguments: Payload
    webhook_url: str | None
    urls: dict[str, str]
    queue_position: int
    start_timeout: float | None = None  # seconds a machine may take to start it
    state: str = IN_QUEUE
    logs: list[JSON] = field(default_factory=list)
    outcome: Outcome | None = None
    cancel_requested: bool = False
    started: float | None = None
    finished: float | None = None
    version: int = 0
    skip: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def touch(self) -> None:
        """Record a change and wake every stream following this job."""
        async with self.changed:
            self.version += 1
            self.changed.notify_all()

    async def log(self, message: str, level: str = "INFO") -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.logs.append({"message": message, "level": level, "source": "USER", "timestamp": stamp})
        await self.touch()

    async def start(self) -> None:
        self.state, self.queue_position, self.started = IN_PROGRESS, 0, time.monotonic()
        await self.touch()

    async def finish(self, outcome: Outcome) -> None:
        self.outcome, self.state, self.finished = outcome, COMPLETED, time.monotonic()
        if self.started is None:
            self.started = self.finished
        await self.touch()

    def status_body(self, *, with_logs: bool) -> JSONObject:
        """The status JSON; `queue_position` and `logs` are always present (fal_client reads
        `queue_position` for IN_QUEUE and `logs` for IN_PROGRESS/COMPLETED with [] access)."""
        body: JSONObject = {
            "status": self.state,
            "request_id": self.request_id,
            **self.urls,
            "queue_position": self.queue_position if self.state == IN_QUEUE else None,
            "logs": list(self.logs) if with_logs else None,
        }
        if self.state == COMPLETED:
            assert self.outcome is not None and self.started is not None
            body["metrics"] = {"inference_time": round((self.finished or 0) - self.started, 3)}
            error, error_type = self.outcome.status_error()
            if error is not None:
                body["error"], body["error_type"] = error, error_type
        return body

    def webhook_body(self) -> JSONObject:
        """What fal POSTs to `fal_webhook` when the job completes."""
        assert self.outcome is not None
        body: JSONObject = {
            "request_id": self.request_id,
            "gateway_request_id": self.request_id,
            "status": "OK" if self.outcome.ok else "ERROR",
            "payload": self.outcome.result,
        }
        if not self.outcome.ok:
            error, _ = self.outcome.status_error()
            body["error"] = error
            if self.outcome.model_errors is not None:
                body["payload"] = model_error_body(self.outcome.model_errors)
            else:
                body["payload"] = {"detail": error, "error_type": self.outcome.error_type}
        return body
