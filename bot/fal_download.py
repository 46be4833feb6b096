"""Fetch the finished MP4: streamed to a temporary file beside the target, size-bounded, renamed
into place only when complete. `data:` URIs (the endpoint's `sync_mode`) are decoded instead.
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

import httpx

from bot.errors import GenerationFailed
from bot.fal_errors import FalUnavailable
from bot.fal_retry import RetryPolicy, with_retries

CHUNK = 64 * 1024  # per download in flight: 200 at once hold 12.5 MiB, not 200 MiB


def _too_big(max_bytes: int) -> GenerationFailed:
    limit = f"{max_bytes // (1 << 20)} MB" if max_bytes >= 1 << 20 else f"{max_bytes} byte"
    return GenerationFailed(f"the video is larger than the {limit} limit")


async def download_video(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    verify: ssl.SSLContext | bool = True,
    policy: RetryPolicy = RetryPolicy(),
    timeout: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """Write the video at `url` to `dest`; returns its size. Raises GenerationFailed.

    Transport errors, 429/5xx and cut-short bodies are retried under `policy`, waiting with
    `sleep`; a 404 is final (fal's CDN keeps files for days, so it will not come back)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("data:"):
        data = _decode_data_uri(url, max_bytes)
        await asyncio.to_thread(_write_atomically, dest, data)
        return len(data)
    async with httpx.AsyncClient(verify=verify, timeout=timeout, follow_redirects=True) as client:
        return await with_retries(policy, lambda: _fetch(client, url, dest, max_bytes), sleep=sleep)


async def _fetch(client: httpx.AsyncClient, url: str, dest: Path, max_bytes: int) -> int:
    handle, temp_name = await asyncio.to_thread(_open_temp, dest)
    temp = Path(temp_name)
    try:
        size = await _stream_into(client, url, handle, max_bytes)
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(os.replace, temp, dest)
        return size
    finally:
        handle.close()
        # Only left behind when the download failed; gone already after os.replace.
        await asyncio.to_thread(temp.unlink, missing_ok=True)


async def _stream_into(
    client: httpx.AsyncClient, url: str, handle: IO[bytes], max_bytes: int
) -> int:
    try:
        async with client.stream("GET", url) as response:
            if response.status_code in (404, 410):
                raise GenerationFailed(
                    f"the finished video is not at fal's file store (HTTP {response.status_code})"
                )
            if response.status_code == 429 or response.status_code >= 500:
                raise FalUnavailable(
                    f"fal's file store answered HTTP {response.status_code} to the download"
                )
            if response.status_code >= 400:
                raise GenerationFailed(
                    f"fal's file store refused the download (HTTP {response.status_code})"
                )
            declared = _content_length(response)
            if declared is not None and declared > max_bytes:
                raise _too_big(max_bytes)
            size = 0
            # Decoded bytes: a CDN that gzips the answer still yields the MP4 itself.
            async for chunk in response.aiter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(max_bytes)
                await asyncio.to_thread(handle.write, chunk)
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise FalUnavailable(f"the video download was cut short ({type(exc).__name__})") from exc
    if declared is not None and size != declared:
        raise FalUnavailable(f"the video download was cut short ({size} of {declared} bytes)")
    if size == 0:
        raise GenerationFailed("fal's file store sent an empty video")
    return size


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or response.headers.get("content-encoding"):
        return None
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


def _open_temp(dest: Path) -> tuple[IO[bytes], str]:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the caller
        dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
    )
    return handle, handle.name


def _write_atomically(dest: Path, data: bytes) -> None:
    handle, name = _open_temp(dest)
    try:
        with handle:
            handle.write(data)
        os.replace(name, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
