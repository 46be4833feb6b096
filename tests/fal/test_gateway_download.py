"""Video downloads over the gateway's one pooled aiohttp session: connections kept alive across
jobs, a bounded number reading at once, gzip, redirects and retries. The CDN here is a small
aiohttp server on loopback TLS (or the simulated fal), so every byte crosses a real socket."""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
import ssl
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from aiohttp import web
from falkit import FAST_RETRY, finished

from bot.errors import GenerationFailed
from bot.fal.download import CHUNK, VideoDownloader
from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal

BODY = os.urandom(2 * 1024 * 1024 + 123)  # about the size of a real job's MP4


class Cdn:
    """A loopback TLS file server that records which connection each request came on."""

    def __init__(self, tmp_path: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = tmp_path / "cdn-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.client_ssl = ssl.create_default_context()
        self.ca.configure_trust(self.client_ssl)
        self.peers: list[tuple[str, int]] = []
        self.arrived: asyncio.Queue[str] = asyncio.Queue()
        self.release: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.failures_left = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/video", self._video),
                web.get("/held/{name}", self._held),
                web.get("/gzip", self._gzip),
                web.get("/moved", self._moved),
                web.get("/flaky", self._flaky),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(server_ssl)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_ssl)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _seen(self, request: web.Request) -> None:
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername"))

    async def _video(self, request: web.Request) -> web.Response:
        self._seen(request)
        return web.Response(body=BODY, content_type="video/mp4")

    async def _held(self, request: web.Request) -> web.Response:
        """Answers only once the test sets `release[name]`."""
        self._seen(request)
        name = request.match_info["name"]
        await self.arrived.put(name)
        await self.release[name].wait()
        return web.Response(body=BODY, content_type="video/mp4")

    async def _gzip(self, request: web.Request) -> web.Response:
        self._seen(request)
        packed = gzip.compress(BODY, compresslevel=1)
        # Content-Length is the gzipped size: it must not be compared with the video's.
        return web.Response(
            body=packed, headers={"Content-Type": "video/mp4", "Content-Encoding": "gzip"}
        )

    async def _moved(self, request: web.Request) -> web.Response:
        self._seen(request)
        raise web.HTTPFound("/video")

    async def _flaky(self, request: web.Request) -> web.Response:
        self._seen(request)
        if self.failures_left > 0:
            self.failures_left -= 1
            return web.Response(status=503, text="Service Unavailable")
        return web.Response(body=BODY, content_type="video/mp4")


@pytest.fixture
async def cdn(tmp_path: Path) -> AsyncIterator[Cdn]:
    server = Cdn(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def downloader(cdn: Cdn) -> AsyncIterator[VideoDownloader]:
    loader = VideoDownloader(verify=cdn.client_ssl, policy=FAST_RETRY, sleep=_no_wait)
    try:
        yield loader
    finally:
        await loader.aclose()


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


async def test_two_downloads_through_one_gateway_reuse_one_connection(
    gateway: FalGateway,
    fal: SimulatedFal,
    sheet_url: str,
    tmp_path: Path,
    connections: dict[str, int],
) -> None:
    videos = []
    for _ in range(2):
        request_id = await finished(gateway, fal, sheet_url)
        videos.append((await gateway.result(request_id)).payload["video"])
    connections.update(sessions=0, opened=0, reused=0)  # results have a session of their own
    for n, video in enumerate(videos):
        dest = tmp_path / "videos" / f"{n}.mp4"
        assert await gateway.download(video["url"], dest, max_bytes=10**8) == video["file_size"]
    # One session, one TLS handshake: the second download took the kept-alive connection.
    assert connections == {"sessions": 1, "opened": 1, "reused": 1}


async def test_a_downloader_limited_to_one_starts_the_second_after_the_first_ended(
    cdn: Cdn, tmp_path: Path
) -> None:
    downloader = VideoDownloader(verify=cdn.client_ssl, policy=FAST_RETRY, max_concurrent=1)
    try:
        tasks = {
            name: asyncio.create_task(
                downloader.download(cdn.url(f"/held/{name}"), tmp_path / name, max_bytes=10**8)
            )
            for name in ("a", "b")
        }
        async with asyncio.timeout(5):
            first = await cdn.arrived.get()
        # The other one is queued for the slot, not on the wire.
        assert downloader.waiting == 1 and cdn.arrived.empty()
        cdn.release[first].set()
        async with asyncio.timeout(5):
            second = await cdn.arrived.get()
        assert second != first
        assert tasks[first].done() and (tmp_path / first).read_bytes() == BODY
        cdn.release[second].set()
        async with asyncio.timeout(5):
            sizes = await asyncio.gather(*tasks.values())
    finally:
        await downloader.aclose()
    assert sizes == [len(BODY)] * 2 and (tmp_path / second).read_bytes() == BODY
    assert len(cdn.peers) == 2 and cdn.peers[0] == cdn.peers[1]  # one connection, kept alive


async def test_a_gzipped_answer_yields_the_video(
    cdn: Cdn, downloader: VideoDownloader, tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "video.mp4"
    assert await downloader.download(cdn.url("/gzip"), dest, max_bytes=10**8) == len(BODY)
    assert dest.read_bytes() == BODY
    assert sorted(p.name for p in dest.parent.iterdir()) == ["video.mp4"]


async def test_a_redirect_is_followed(
    cdn: Cdn, downloader: VideoDownloader, tmp_path: Path
) -> None:
    dest = tmp_path / "video.mp4"
    assert await downloader.download(cdn.url("/moved"), dest, max_bytes=10**8) == len(BODY)
    assert dest.read_bytes() == BODY


async def test_a_503_is_retried_on_the_same_connection(
    cdn: Cdn, downloader: VideoDownloader, tmp_path: Path
) -> None:
    cdn.failures_left = FAST_RETRY.attempts - 1
    dest = tmp_path / "video.mp4"
    assert await downloader.download(cdn.url("/flaky"), dest, max_bytes=10**8) == len(BODY)
    assert dest.read_bytes() == BODY
    assert len(cdn.peers) == FAST_RETRY.attempts and len(set(cdn.peers)) == 1


async def test_the_size_bound_holds_for_a_gzipped_answer_too(
    cdn: Cdn, downloader: VideoDownloader, tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "video.mp4"
    with pytest.raises(GenerationFailed, match="larger than the 1 MB limit") as caught:
        await downloader.download(cdn.url("/gzip"), dest, max_bytes=1 << 20)
    assert not caught.value.retryable and list(dest.parent.iterdir()) == []
    assert len(cdn.peers) == 1


async def test_verify_true_builds_the_default_context_once_off_the_loop(
    cdn: Cdn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cdn.ca_file))  # httpx's default trust honours it
    built_on: list[threading.Thread] = []
    original = httpx.create_ssl_context

    def recording(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built_on.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", recording)
    downloader = VideoDownloader(verify=True, policy=FAST_RETRY)
    try:
        for name in ("a.mp4", "b.mp4"):
            assert await downloader.download(cdn.url("/video"), tmp_path / name, max_bytes=10**8)
    finally:
        await downloader.aclose()
    assert len(built_on) == 1 and built_on[0] is not threading.main_thread()


async def test_a_data_uri_is_decoded_into_place(tmp_path: Path) -> None:
    downloader = VideoDownloader(verify=True)
    dest = tmp_path / "inline" / "video.mp4"
    url = "data:video/mp4;base64," + base64.b64encode(BODY[:CHUNK]).decode()
    assert await downloader.download(url, dest, max_bytes=10**8) == CHUNK
    assert dest.read_bytes() == BODY[:CHUNK]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["video.mp4"]
