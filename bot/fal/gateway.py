"""The one door to fal: upload, submit, follow, fetch the result, cancel, download.

With its helpers (`bot.fal.upload`, `bot.fal.submit`, `bot.fal.stream`, `bot.fal.results`,
`bot.fal.cancel`, `bot.fal.download`) this is the only code that talks to fal. It uses
`fal_client.AsyncClient` for the queue and does for us what the client does not:

Retries. fal_client retries every request up to 10 times on its own (the submit POST
included, also after a read timeout), retries 429 quickly without Retry-After and never
retries 500. The gateway sets `fal_client.client.MAX_ATTEMPTS = 1` and makes each decision
itself (`bot.fal.retry`: tenacity, bounded, exponential backoff with jitter, Retry-After
honoured up to a cap). No paid request is ever sent twice (`bot.fal.submit`).

Start timeout. Every submit gives fal `start_timeout` seconds (`LTXBOT_FAL_START_TIMEOUT_S`, sent
by fal_client as `X-Fal-Request-Timeout`) to start it; a request still queued then ends with a
504 that `result` turns into "fal could not start this video within N min" (`bot.fal.answers`).

Status. fal_client's handles poll every 0.1 s. `watch` follows fal's server-sent status stream
instead (`bot.fal.stream`): one request per job, every change seen as it happens, at most
`max_streams` open at once (each holds a connection of the streams' own pooled aiohttp session).
`follow` polls with a growing interval (2 s, then x1.5 up to 10 s by default): at most one status
request per interval per job, plus the bounded retries of a status request that failed.
`status` is one look, for callers (the runner) that pace themselves or wait for webhooks.
`cancel` looks before and after asking, so that it confirms only a request still queued.

Uploads go through one long-lived httpx client (`bot.fal.upload`), not fal_client's
client-per-upload, which loaded the CA bundle on the event loop for every job. Downloads go
through one pooled aiohttp session, at most `max_downloads` at once (`bot.fal.download`).
`result` reads the response itself (`bot.fal.results`) so the `x-fal-billable-units` header is
kept, which fal_client's `get()` drops.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypedDict, Unpack

import fal_client
import fal_client.client as fal_http
from pydantic import SecretStr

from bot.errors import StreamBusy
from bot.fal.cancel import ask_to_cancel, confirmed_cancel
from bot.fal.client_globals import point_fal_client
from bot.fal.download import VideoDownloader
from bot.fal.results import fetch_result
from bot.fal.retry import RetryPolicy, with_retries
from bot.fal.stream import StatusStreams, stream_status
from bot.fal.submit import submit_once
from bot.fal.translate import as_fal_status, translated
from bot.fal.upload import CdnUploader, sheet_lifetime
from bot.model import JSONObject
from bot.ports import FalResult, FalStatus
from bot.settings import Settings

RESULT_CONNECTIONS = 16


class GatewayTuning(TypedDict, total=False):
    """The gateway's keywords beyond what the settings or the simulated fal decide."""

    retry: RetryPolicy
    poll_interval: float
    max_poll_interval: float
    poll_growth: float
    timeout: float
    max_streams: int
    stream_read_timeout: float
    max_downloads: int
    sleep: Callable[[float], Awaitable[None]]


class FalGateway:
    """`bot.ports.Gateway` over fal's queue API; `simulated` tells the runner not to capture.

    Built from the settings (`from_settings`) or on a running SimulatedFal
    (`bot.fal.on_simulated.gateway_on_simulated`)."""

    def __init__(
        self,
        *,
        key: SecretStr | str,
        model: str,
        queue_url: str,
        rest_url: str,
        cdn_url: str,
        max_video_bytes: int,
        simulated: bool = False,
        start_timeout: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        retry: RetryPolicy = RetryPolicy(),
        poll_interval: float = 2.0,
        max_poll_interval: float = 10.0,
        poll_growth: float = 1.5,
        timeout: float = 60.0,
        max_streams: int = 64,
        stream_read_timeout: float = 120.0,
        max_downloads: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        secret = key.get_secret_value() if isinstance(key, SecretStr) else key
        point_fal_client(queue_url=queue_url, rest_url=rest_url, cdn_url=cdn_url)
        self.simulated = simulated
        self.model = model
        self.start_timeout = start_timeout  # seconds fal may take to start a request
        self.max_video_bytes = max_video_bytes
        self._fal = fal_client.AsyncClient(key=secret, default_timeout=timeout)
        self._verify: ssl.SSLContext | bool = ssl_context or True
        self._retry = retry
        self._poll = (poll_interval, max_poll_interval, poll_growth)
        self._timeout = timeout
        self._sleep = sleep
        self._handles: dict[str, fal_client.AsyncRequestHandle] = {}
        key_header = f"Key {secret}"  # only ever sent, never logged
        self._uploader = CdnUploader(
            key_header=key_header,
            verify=self._verify,
            timeout=timeout,
            keep_for=sheet_lifetime(start_timeout),
        )
        self._downloader = VideoDownloader(
            verify=self._verify,
            policy=retry,
            timeout=timeout,
            max_concurrent=max_downloads,
            sleep=sleep,
        )
        # Jobs beyond this poll until a stream is free. The queue session's pool holds the
        # streams and RESULT_CONNECTIONS more, so that results never wait for a stream to end.
        self.max_streams = max_streams
        self.streams_open = 0
        self._streams = StatusStreams(
            key_header=key_header,
            verify=self._verify,
            max_connections=max_streams + RESULT_CONNECTIONS,
        )
        self._stream_read_timeout = stream_read_timeout
        self._on_close = on_close  # after aclose: e.g. undo fal_client's pointing

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        simulated: bool | None = None,
        ssl_context: ssl.SSLContext | None = None,
        on_close: Callable[[], None] | None = None,
        **options: Unpack[GatewayTuning],
    ) -> FalGateway:
        simulated = settings.use_simulated_fal if simulated is None else simulated
        key = settings.fal_key or SecretStr("simulated")
        return cls(
            key=key,
            model=settings.fal_model,
            queue_url=settings.fal_queue_url,
            rest_url=settings.fal_rest_url,
            cdn_url=settings.fal_cdn_url,
            max_video_bytes=settings.max_video_bytes,
            simulated=simulated,
            start_timeout=settings.fal_start_timeout_s,
            ssl_context=ssl_context,
            on_close=on_close,
            **options,
        )

    # --- the Gateway port -------------------------------------------------------------------

    async def upload(self, data: bytes, *, content_type: str, file_name: str) -> str:
        async def once() -> str:
            with translated("uploading the reference sheet"):
                if len(data) > fal_http.MULTIPART_THRESHOLD:  # fal_client's multipart protocol
                    return await self._fal.upload(
                        data, content_type, file_name, repository="fal_v3", fallback_repository=[]
                    )
                return await self._uploader.upload(
                    data, content_type=content_type, file_name=file_name
                )

        return await with_retries(self._retry, once, sleep=self._sleep)

    async def submit(self, arguments: JSONObject, *, webhook_url: str | None) -> str:
        start = self.start_timeout  # fal's deadline to start it, sent as X-Fal-Request-Timeout

        async def once() -> str:
            handle = await submit_once(
                self._fal, self.model, arguments, webhook_url=webhook_url, start_timeout=start
            )
            self._handles[handle.request_id] = handle
            return handle.request_id

        return await with_retries(self._retry, once, sleep=self._sleep)

    async def status(self, request_id: str) -> FalStatus:
        """One look at the request, retried while fal is unavailable."""
        handle, start = await self._handle(request_id), self.start_timeout

        async def once() -> FalStatus:
            with translated("checking progress", expired_on_404=True, start_timeout=start):
                status = await handle.status(with_logs=True)
            return as_fal_status(status)

        return await with_retries(self._retry, once, sleep=self._sleep)

    async def follow(self, request_id: str) -> AsyncIterator[FalStatus]:
        interval, ceiling, growth = self._poll
        while True:
            status = await self.status(request_id)
            yield status
            if status.state == "COMPLETED":
                return
            await self._sleep(interval)
            interval = min(interval * growth, ceiling)

    async def watch(self, request_id: str) -> AsyncIterator[FalStatus]:
        """The request's status stream: each change as fal reports it, COMPLETED last; one
        request for the whole job. Raises `StreamBroken` if the stream ends any other way
        (dropped, 5xx, a fal without the endpoint), `StreamBusy` (before sending anything)
        when `max_streams` are open; the caller then polls with `status`."""
        if self.streams_open >= self.max_streams:
            raise StreamBusy(f"all {self.max_streams} status streams are in use")
        self.streams_open += 1
        try:
            handle = await self._handle(request_id)
            session = await self._streams.session()
            async for status in stream_status(
                session, handle.status_url, read_timeout=self._stream_read_timeout
            ):
                yield status
        finally:
            self.streams_open -= 1

    async def result(self, request_id: str) -> FalResult:
        handle, start = await self._handle(request_id), self.start_timeout

        async def once() -> FalResult:
            session = await self._streams.session()
            return await fetch_result(
                session, handle.response_url, timeout=self._timeout, start_timeout=start
            )

        result = await with_retries(self._retry, once, sleep=self._sleep)
        self._handles.pop(request_id, None)  # its job is done with fal: keep no handle per job
        return result

    async def cancel(self, request_id: str) -> bool:
        """Ask fal to cancel; True only when the request was still queued and fal accepted.

        fal answers 202 CANCELLATION_REQUESTED to a running request too, but then the run may
        still finish (and be billed): that is reported as False, the request is still asked to
        stop, and the caller follows it to its end.
        """
        handle = await self._handle(request_id)

        async def once() -> bool:
            return await ask_to_cancel(handle, timeout=self._timeout)

        return await confirmed_cancel(
            lambda: self.status(request_id),
            lambda: with_retries(self._retry, once, sleep=self._sleep),
        )

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        return await self._downloader.download(
            url, dest, max_bytes=min(max_bytes, self.max_video_bytes)
        )

    async def aclose(self) -> None:
        """Close the stream and download sessions and fal_client's pooled connections (fal_client
        has no close of its own), then call `on_close` (for a simulated fal: restore fal_client's
        URLs and SSL_CERT_FILE)."""
        try:
            await self._streams.aclose()
            await self._downloader.aclose()
            await self._uploader.aclose()
            if "_client" in self._fal.__dict__:
                client = await self._fal._client
                await client.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()

    # --- helpers ----------------------------------------------------------------------------

    async def _handle(self, request_id: str) -> fal_client.AsyncRequestHandle:
        # A handle from submit follows the URLs fal returned; after a restart, rebuild them.
        handle = self._handles.get(request_id)
        if handle is None:
            handle = await self._fal.get_handle(self.model, request_id)
        return handle
