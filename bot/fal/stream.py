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

Read through one pooled aiohttp session (`StatusStreams`), not fal_client's httpx client: at 500
jobs at once, ~12 events per job through httpx, httpcore and anyio's TLS stream were a fifth of
the bot's CPU; aiohttp reads through asyncio's native SSL transport with a C HTTP parser.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, suppress

import aiohttp
import fal_client.client as fal_http
from aiohttp.http_exceptions import LineTooLong

from bot.errors import FalUnavailable, StreamBroken
from bot.fal.answers import error_from_response
from bot.fal.session import LazySession
from bot.ports import FalStatus

# Lines of log kept per status: the follower shows the newest and reads progress from it.
LOG_TAIL = 16
# After COMPLETED, wait this long for the server to end the body, so the connection goes
# back to the pool instead of being closed.
_DRAIN_SECONDS = 0.2
CONNECT_SECONDS = 30.0  # for a free connection of the pool and to open one, as httpx's 30 s
# The longest event line read (an event repeating every log line so far may be long; a
# longer one is taken as a stream this fal cannot serve, and the job is polled instead).
MAX_LINE = 1 << 20
_PARAMS = {"logs": "1"}
_ACCEPT = {"Accept": "text/event-stream"}


class StatusStreams:
    """The `aiohttp.ClientSession` for fal's queue that status streams and results are read
    through: opened on first use inside the running loop, sending fal's key and fal_client's
    User-Agent, and holding at most `max_connections` (the gateway's own count of open streams
    is the gate; this only bounds the pool)."""

    def __init__(
        self, *, key_header: str, verify: ssl.SSLContext | bool, max_connections: int
    ) -> None:
        headers = {"Authorization": key_header, "User-Agent": fal_http.USER_AGENT}
        limit = max(max_connections, 1)  # 0 would mean no limit to aiohttp
        self._session = LazySession(
            verify,
            lambda tls: aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=tls, limit=limit),
                headers=headers,
                trust_env=True,
            ),
        )

    def __repr__(self) -> str:  # never the key
        return f"StatusStreams(open={self._session.opened})"

    async def session(self) -> aiohttp.ClientSession:
        return await self._session.get()

    async def aclose(self) -> None:
        await self._session.aclose()


async def stream_status(
    session: aiohttp.ClientSession, status_url: str, *, read_timeout: float
) -> AsyncIterator[FalStatus]:
    """Follow one request's status stream through `session` (`StatusStreams.session()`);
    yields each status, COMPLETED last. Raises StreamBroken when the stream ends any other way.
    `read_timeout` bounds the silence between two chunks."""
    timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_SECONDS, sock_read=read_timeout)
    logs = _LogTail()
    final: FalStatus | None = None
    try:
        async with session.get(
            status_url.rstrip("/") + "/stream",
            params=_PARAMS,
            headers=_ACCEPT,
            timeout=timeout,
            allow_redirects=False,  # as fal_client's client
            read_bufsize=MAX_LINE // 2,  # aiohttp reads lines up to twice this
        ) as response:
            await _check(response)
            lines = _Lines(response.content)
            async with aclosing(_events(lines)) as events:
                async for event in events:
                    status = _status(event, logs)
                    if status is None:
                        continue
                    if status.state == "COMPLETED":
                        final = status
                        break
                    yield status
            if final is not None:
                await _drain(lines)
        # The response is released here: the connection is back in the pool before the
        # caller even sees COMPLETED, however it then closes this generator.
    except (aiohttp.ClientError, TimeoutError) as exc:  # dropped, reset, timed out, refused
        raise StreamBroken(f"fal's status stream broke ({type(exc).__name__})") from exc
    if final is None:
        raise StreamBroken("fal's status stream ended before the request completed")
    yield final


async def _check(response: aiohttp.ClientResponse) -> None:
    if response.status >= 400:
        body = await response.read()
        error = error_from_response(
            response.status, response.headers, body, during="following progress"
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


class _Lines:
    """The body's lines, decoded (as httpx would: UTF-8, bad bytes replaced), without their
    LF or CRLF. A plain iterator, not a generator: nothing to close when it is left part-read."""

    __slots__ = ("_content",)

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        try:
            raw = await self._content.readline()
        except (LineTooLong, ValueError):  # older aiohttp: ValueError("Chunk too big")
            raise StreamBroken(
                f"fal's status stream sent a line longer than {MAX_LINE} bytes", retry=False
            ) from None
        if not raw:
            raise StopAsyncIteration
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        return raw.decode("utf-8", "replace")


async def _events(lines: AsyncIterator[str]) -> AsyncGenerator[str, None]:
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
    with suppress(TimeoutError, aiohttp.ClientError, StreamBroken):
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
        self._last: object = None
        self._tail: list[str] = []

    def add(self, entries: object) -> None:
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
