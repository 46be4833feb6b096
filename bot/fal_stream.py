"""fal's status stream: `GET {status_url}/stream?logs=1`, server-sent events until COMPLETED.

fal's queue documents the endpoint ("Streams the status of a request until it's completed");
fal_client 1.0.x does not use it, fal-js's `queue.streamStatus` does. Each event is a
`data: {json}` line holding the same object a status poll returns; the last is COMPLETED and the
server then closes the stream. fal-js accumulates `logs` across events "to match the polling
behaviour", so an event may carry only the lines logged since the previous one; both forms
(new lines only, or every line so far) are understood here.

One stream is one request, however long the job takes, and the end is seen the moment fal
says so. Anything short of a COMPLETED event (a dropped connection, a 5xx, a 404 from a fal
without the endpoint, a body that is not an event stream) raises `StreamBroken`; the follower
then reconnects a bounded number of times or goes back to polling, which knows fal's errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import httpx

from bot.fal_errors import FalUnavailable, error_from_response
from bot.ports import FalStatus

# Lines of log kept per status: the follower shows the newest and reads progress from it.
LOG_TAIL = 16
# After COMPLETED, wait this long for the server to end the body, so the connection goes
# back to the pool instead of being closed.
_DRAIN_SECONDS = 0.2


class StreamBroken(FalUnavailable):
    """The status stream ended before COMPLETED. `retry`: reconnecting may help (a dropped
    connection, 429/5xx); False when this fal does not stream this request (404, not SSE)."""

    def __init__(self, reason: str, *, retry: bool = True, retry_after: float | None = None):
        super().__init__(reason, retry_after=retry_after)
        self.retry = retry


class StreamBusy(StreamBroken):
    """Every stream slot of the gateway is taken; nothing was sent. Poll this time."""


async def stream_status(
    client: httpx.AsyncClient, status_url: str, *, read_timeout: float
) -> AsyncIterator[FalStatus]:
    """Follow one request's status stream through `client` (fal_client's authenticated one);
    yields each status, COMPLETED last. Raises StreamBroken when the stream ends any other way.
    `read_timeout` bounds the silence between two chunks."""
    timeout = httpx.Timeout(30.0, read=read_timeout)
    logs = _LogTail()
    try:
        async with client.stream(
            "GET",
            status_url.rstrip("/") + "/stream",
            params={"logs": "1"},
            headers={"Accept": "text/event-stream"},
            timeout=timeout,
        ) as response:
            await _check(response)
            lines = response.aiter_lines()
            async for event in _events(lines):
                status = _status(event, logs)
                if status is None:
                    continue
                if status.state == "COMPLETED":
                    await _drain(lines)
                    yield status
                    return
                yield status
    except httpx.HTTPError as exc:  # dropped, reset, timed out, refused, undecodable
        raise StreamBroken(f"fal's status stream broke ({type(exc).__name__})") from exc
    raise StreamBroken("fal's status stream ended before the request completed")


async def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        body = await response.aread()
        error = error_from_response(
            response.status_code, response.headers, body, during="following progress"
        )
        retry_after = getattr(error, "retry_after", None)
        raise StreamBroken(
            f"fal did not stream the status: {error.reason}",
            retry=isinstance(error, FalUnavailable),
            retry_after=retry_after,
        )
    kind = response.headers.get("content-type", "")
    if not kind.startswith("text/event-stream"):
        raise StreamBroken(f"fal answered the status stream with {kind or 'no type'}", retry=False)


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` of each server-sent event (multi-line data joined, comments skipped)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment: keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a last event without its blank line
        yield "\n".join(data)


def _status(data: str, logs: _LogTail) -> FalStatus | None:
    try:
        body = json.loads(data)
    except ValueError:
        raise StreamBroken("fal's status stream sent an event that is not JSON") from None
    if not isinstance(body, dict) or "status" not in body:
        return None  # not a status event: nothing we know to show
    state = body["status"]
    logs.add(body.get("logs"))
    if state == "IN_QUEUE":
        position = body.get("queue_position")
        return FalStatus("IN_QUEUE", queue_position=position if isinstance(position, int) else None)
    if state == "IN_PROGRESS":
        return FalStatus("IN_PROGRESS", logs=logs.lines())
    if state == "COMPLETED":
        error = body.get("error")
        return FalStatus("COMPLETED", logs=logs.lines(), error=str(error) if error else None)
    raise StreamBroken(f"fal's status stream sent an unknown status {state!r}", retry=False)


async def _drain(lines: AsyncIterator[str]) -> None:
    with suppress(TimeoutError, httpx.TransportError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in lines:
                pass


class _LogTail:
    """The newest log lines, whether each event repeats every line or sends only new ones.

    An event whose lines reach past what was seen, with the last seen line where it would be
    if the list were cumulative, is taken as cumulative; otherwise its lines are all new. Only
    the count and the last entry are remembered, so a long log costs nothing per job."""

    def __init__(self) -> None:
        self._seen = 0
        self._last: Any = None
        self._tail: list[str] = []

    def add(self, entries: Any) -> None:
        if not isinstance(entries, list) or not entries:
            return
        seen = self._seen
        cumulative = seen and len(entries) >= seen and entries[seen - 1] == self._last
        new = entries[seen:] if cumulative else entries
        if not new:
            return
        self._seen = len(entries) if cumulative else seen + len(new)
        self._last = new[-1]
        messages = [str(e.get("message", "")) for e in new if isinstance(e, dict)]
        self._tail = (self._tail + messages)[-LOG_TAIL:]

    def lines(self) -> tuple[str, ...]:
        return tuple(self._tail)
