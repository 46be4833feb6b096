"""`bot.fal.stream` on the wire: a loopback HTTP server answers the status stream byte for byte
(line endings, comments, cut bodies, silence), read through `StatusStreams`' aiohttp session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import fal_client.client as fal_http
import pytest
from aiohttp import web

from bot.errors import StreamBroken
from bot.fal import stream as fal_stream
from bot.fal.stream import StatusStreams, stream_status
from bot.ports import FalStatus

Respond = Callable[[web.Request], Awaitable[web.StreamResponse]]
KEY = "Key id:secret"


class Fal:
    """The server's side: what it was asked, and how it answers (`respond`)."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.respond: Respond = lambda request: events(request, [])
        self.released = asyncio.Event()  # lets a handler that holds its answer finish
        self.status_url = ""


@pytest.fixture
async def fal() -> AsyncIterator[Fal]:
    fal = Fal()

    async def handler(request: web.Request) -> web.StreamResponse:
        fal.requests.append(request)
        return await fal.respond(request)

    app = web.Application()
    app.router.add_get("/requests/{request_id}/status/stream", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fal.status_url = f"http://127.0.0.1:{port}/requests/r1/status"
    try:
        yield fal
    finally:
        fal.released.set()
        await runner.cleanup()


@pytest.fixture
async def streams() -> AsyncIterator[StatusStreams]:
    streams = StatusStreams(key_header=KEY, verify=True, max_connections=1)
    try:
        yield streams
    finally:
        await streams.aclose()


async def events(
    request: web.Request, chunks: list[bytes], *, end: bool = True
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    if end:
        await response.write_eof()
    return response


def data(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body)}\n\n".encode()


COMPLETED = data({"status": "COMPLETED", "logs": [{"message": "Done"}]})


async def statuses(streams: StatusStreams, fal: Fal, read_timeout: float = 5.0) -> list[FalStatus]:
    session = await streams.session()
    return [s async for s in stream_status(session, fal.status_url, read_timeout=read_timeout)]


async def test_events_in_any_line_ending_with_comments_and_a_last_one_without_blank_line(
    streams: StatusStreams, fal: Fal
) -> None:
    body = (
        b": keep-alive\r\n\r\n"
        b'data: {"status": "IN_QUEUE", "queue_position": 2}\r\n\r\n'
        b'data: {"status":\n'
        b'data:"IN_PROGRESS", "logs": [{"message": "step 1/2 \xc3\xa9"}]}\n'
        b"event: status\n\n"
        b'data: {"hello": "not a status"}\n\n'
        b'data: {"status": "COMPLETED", "logs": [{"message": "Done"}]}'  # no blank line, no \n
    )

    async def respond(request: web.Request) -> web.StreamResponse:
        return await events(request, [body[:40], body[40:77], body[77:]])  # split mid-line

    fal.respond = respond
    seen = await statuses(streams, fal)
    assert [s.state for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert seen[0].queue_position == 2
    assert seen[1].logs == ("step 1/2 é",) and seen[2].logs == ("step 1/2 é", "Done")
    (request,) = fal.requests
    assert request.path == "/requests/r1/status/stream" and request.query["logs"] == "1"
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Authorization"] == KEY
    assert request.headers["User-Agent"] == fal_http.USER_AGENT
    assert "secret" not in repr(streams)


async def test_a_finished_stream_puts_its_connection_back_and_one_left_early_closes_it(
    streams: StatusStreams, fal: Fal, connections: dict[str, int]
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        if len(fal.requests) != 2:
            return await events(request, [data({"status": "IN_QUEUE"}), COMPLETED])
        # The one the caller leaves after its first event.
        response = await events(request, [data({"status": "IN_QUEUE"})], end=False)
        await fal.released.wait()
        return response

    fal.respond = respond
    assert [s.state for s in await statuses(streams, fal)] == ["IN_QUEUE", "COMPLETED"]
    session = await streams.session()
    early = stream_status(session, fal.status_url, read_timeout=5.0)
    assert (await anext(early)).state == "IN_QUEUE"
    await early.aclose()  # type: ignore[attr-defined]
    # The pool holds one connection (max_connections=1): this third stream could not start
    # if the one left early still held it, and it needs a new one as that one was closed.
    assert [s.state for s in await statuses(streams, fal)] == ["IN_QUEUE", "COMPLETED"]
    assert connections == {"sessions": 1, "opened": 2, "reused": 1}


async def test_a_body_ending_a_moment_after_completed_still_frees_its_connection(
    streams: StatusStreams, fal: Fal, connections: dict[str, int]
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        response = await events(request, [COMPLETED], end=False)
        await asyncio.sleep(0.02)  # fal's end of body, a moment later (within the drain)
        await response.write_eof()
        return response

    fal.respond = respond
    for _ in range(2):
        assert [s.state for s in await statuses(streams, fal)] == ["COMPLETED"]
    assert connections == {"sessions": 1, "opened": 1, "reused": 1}


async def test_a_body_cut_mid_line_raises_stream_broken(streams: StatusStreams, fal: Fal) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        response = await events(request, [data({"status": "IN_QUEUE"}), b'data: {"sta'], end=False)
        assert request.transport is not None
        request.transport.abort()
        return response

    fal.respond = respond
    session = await streams.session()
    seen = []
    with pytest.raises(StreamBroken) as caught:
        async for status in stream_status(session, fal.status_url, read_timeout=5.0):
            seen.append(status.state)
    assert seen == ["IN_QUEUE"]
    assert caught.value.retry and "stream broke" in caught.value.reason


async def test_a_body_ending_before_completed_raises_stream_broken(
    streams: StatusStreams, fal: Fal
) -> None:
    fal.respond = lambda request: events(request, [data({"status": "IN_PROGRESS"})])
    with pytest.raises(StreamBroken) as caught:
        await statuses(streams, fal)
    assert caught.value.retry and "ended before the request completed" in caught.value.reason


async def test_silence_longer_than_the_read_timeout_raises_stream_broken(
    streams: StatusStreams, fal: Fal
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        response = await events(request, [], end=False)
        await fal.released.wait()
        return response

    fal.respond = respond
    with pytest.raises(StreamBroken) as caught:
        await statuses(streams, fal, read_timeout=0.05)
    assert caught.value.retry and "stream broke" in caught.value.reason
    assert "Timeout" in caught.value.reason


async def test_rate_limiting_is_worth_a_reconnect_after_retry_after(
    streams: StatusStreams, fal: Fal
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        return web.json_response({"detail": "slow down"}, status=429, headers={"Retry-After": "7"})

    fal.respond = respond
    with pytest.raises(StreamBroken) as caught:
        await statuses(streams, fal)
    assert caught.value.retry and caught.value.retry_after == 7.0
    assert "HTTP 429" in caught.value.reason


async def test_an_answer_that_is_not_an_event_stream_is_not_retried(
    streams: StatusStreams, fal: Fal
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "IN_QUEUE"})

    fal.respond = respond
    with pytest.raises(StreamBroken) as caught:
        await statuses(streams, fal)
    assert caught.value.retry is False and "application/json" in caught.value.reason


async def test_a_line_longer_than_the_limit_is_not_retried(
    streams: StatusStreams, fal: Fal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fal_stream, "MAX_LINE", 1000)
    fal.respond = lambda request: events(request, [data({"status": "IN_QUEUE", "x": "y" * 2000})])
    with pytest.raises(StreamBroken) as caught:
        await statuses(streams, fal)
    assert caught.value.retry is False and "longer than 1000 bytes" in caught.value.reason
