"""Fetch the finished MP4: streamed to a temporary file beside the target, size-bounded, renamed
into place only when complete. `data:` URIs (the endpoint's `sync_mode`) are decoded instead.

Through aiohttp, not httpx: a download is ~2 MB, and at 200 jobs at once httpx's path (a new
client and TLS handshake per job, 64 KiB reads through httpcore and anyio's TLS stream) was about
a fifth of the event loop's CPU. aiohttp reads through asyncio's native SSL transport with large
buffers and a C HTTP parser, and one pooled session keeps connections to the CDN alive across jobs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO
from urllib.parse import unquote_to_bytes

import aiohttp

from bot.errors import FalUnavailable, GenerationFailed
from bot.fal.retry import RetryPolicy, with_retries
from bot.fal.session import LazySession

CHUNK = 256 * 1024  # read and written at a time; a slot's buffers stay below a MiB


def _too_big(max_bytes: int) -> GenerationFailed:
    limit = f"{max_bytes // (1 << 20)} MB" if max_bytes >= 1 << 20 else f"{max_bytes} byte"
    return GenerationFailed(f"the video is larger than the {limit} limit")


class VideoDownloader:
    """Downloads over one `aiohttp.ClientSession`, opened on first use inside the running loop.

    At most `max_concurrent` downloads read at once (the others wait for a slot, which a retry's
    backoff does not hold), so memory per job stays small and a burst does not thrash."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        policy: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        max_concurrent: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(connect=timeout, sock_read=timeout)
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_concurrent)
        # No more connections than downloads at once: each TLS connection kept alive holds
        # about half a MiB of buffers (16 of them were 8 MiB at 500 jobs in flight).
        self._session = LazySession(
            verify,
            lambda tls: aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=tls, limit_per_host=max_concurrent),
                timeout=self._timeout,
                read_bufsize=CHUNK,
                trust_env=True,
            ),
        )
        self.waiting = 0  # downloads waiting for a slot (for tests and the bench)

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Write the video at `url` to `dest`; returns its size. Raises GenerationFailed.

        Transport errors, 429/5xx and cut-short bodies are retried under the policy; a 404 is
        final (fal's CDN keeps files for days, so it will not come back)."""
        if url.startswith("data:"):
            data = _decode_data_uri(url, max_bytes)
            await asyncio.to_thread(_write_atomically, dest, data)
            return len(data)
        session = await self._session.get()
        return await with_retries(
            self._policy, lambda: self._attempt(session, url, dest, max_bytes), sleep=self._sleep
        )

    async def aclose(self) -> None:
        await self._session.aclose()

    async def _attempt(
        self, session: aiohttp.ClientSession, url: str, dest: Path, max_bytes: int
    ) -> int:
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            handle, temp = await asyncio.to_thread(_open_temp, dest)
            try:
                size = await _fetch(session, url, handle, max_bytes)
                await asyncio.to_thread(_keep, handle, temp, dest)
            except BaseException:
                await asyncio.to_thread(_discard, handle, temp)
                raise
            return size
        finally:
            self._slots.release()


async def _fetch(
    session: aiohttp.ClientSession, url: str, handle: IO[bytes], max_bytes: int
) -> int:
    try:
        async with session.get(url) as response:
            _check_status(response.status)
            declared = _content_length(response)
            if declared is not None and declared > max_bytes:
                raise _too_big(max_bytes)
            size = 0
            # Decoded bytes: a CDN that gzips the answer still yields the MP4 itself.
            async for chunk in response.content.iter_chunked(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(max_bytes)
                await asyncio.to_thread(handle.write, chunk)
    except aiohttp.TooManyRedirects:
        raise GenerationFailed("fal's file store redirected the download in a loop") from None
    except aiohttp.InvalidURL:
        raise GenerationFailed("fal returned a video URL that cannot be fetched") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FalUnavailable(f"the video download was cut short ({type(exc).__name__})") from exc
    if declared is not None and size != declared:
        raise FalUnavailable(f"the video download was cut short ({size} of {declared} bytes)")
    if size == 0:
        raise GenerationFailed("fal's file store sent an empty video")
    return size


def _check_status(status: int) -> None:
    if status in (404, 410):
        raise GenerationFailed(f"the finished video is not at fal's file store (HTTP {status})")
    if status == 429 or status >= 500:
        raise FalUnavailable(f"fal's file store answered HTTP {status} to the download")
    if status >= 400:
        raise GenerationFailed(f"fal's file store refused the download (HTTP {status})")


def _content_length(response: aiohttp.ClientResponse) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or response.headers.get("Content-Encoding"):
        return None  # the length of the encoded body, not of the video
    try:
        return int(value)
    except ValueError:
        return None


def _decode_data_uri(url: str, max_bytes: int) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep:
        raise GenerationFailed("fal returned an inline video that is not a valid data URI")
    if len(payload) * 3 // 4 > max_bytes + 3:
        raise _too_big(max_bytes)
    try:
        if header.endswith(";base64"):
            data = base64.b64decode(payload, validate=True)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise GenerationFailed("fal returned an inline video that is not valid base64") from None
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    if not data:
        raise GenerationFailed("fal returned an empty inline video")
    return data


def _open_temp(dest: Path) -> tuple[IO[bytes], Path]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by _keep or _discard
        dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
    )
    return handle, Path(handle.name)


def _keep(handle: IO[bytes], temp: Path, dest: Path) -> None:
    handle.close()
    os.replace(temp, dest)


def _discard(handle: IO[bytes], temp: Path) -> None:
    handle.close()
    temp.unlink(missing_ok=True)


def _write_atomically(dest: Path, data: bytes) -> None:
    handle, temp = _open_temp(dest)
    try:
        with handle:
            handle.write(data)
        os.replace(temp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
