"""`SimulatedFal`: one local aiohttp server that speaks fal's queue, storage and webhook
protocols exactly as fal_client 1.0.3 uses them, rendering real MP4s from the uploaded sheet.

The server holds the state and hands out the URLs. Its routes are `queue` and `storage`, a job's
life is `runner` (its waits paced by `clock`), what tests read and wait on is `records`, and its
throw-away certificates come from `tls`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.fal.simulated.clock import SimClock
from bot.fal.simulated.errors import detail_response
from bot.fal.simulated.faults import Faults
from bot.fal.simulated.jobs import COMPLETED, SimJob, Submission, start_timeout_of
from bot.fal.simulated.model import MODEL_ID
from bot.fal.simulated.platform_api import PlatformApi
from bot.fal.simulated.platform_bill import Billed, record_bill
from bot.fal.simulated.queue import QueueApi
from bot.fal.simulated.records import DeliveryLog, LookLog, SubmissionLog
from bot.fal.simulated.runner import run_job
from bot.fal.simulated.storage import Storage
from bot.fal.simulated.tls import client_context, server_context
from bot.fal.simulated.webhooks import WebhookDelivery, WebhookSigner, deliver
from bot.fal.simulated.wire import Payload

log = logging.getLogger(__name__)


class SimulatedFal:
    """A local fal. `async with SimulatedFal(...) as fal:` serves it on `fal.base_url`.

    Paths: `/queue` (queue API), `/run` (synchronous API), `/rest` (storage tokens, JWKS), `/cdn`
    (uploads, served files), `/v1` (platform API: its bill). `public_url` changes only links.
    """

    def __init__(
        self,
        generation_seconds: float = 2.0,
        queue_seconds: float = 0.5,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        public_url: str | None = None,
        data_dir: Path | None = None,
        *,
        api_key: str | None = None,
        honour_running_cancel: bool = False,
        webhook_attempts: int = 4,
        webhook_first_delay: float = 0.05,
        webhook_ssl_context: ssl.SSLContext | None = None,
        seed: int | None = None,
        admin_key: str | None = None,
        unit_price: Decimal = Decimal("0.0024075"),
    ) -> None:
        self.generation_seconds = generation_seconds
        self.queue_seconds = queue_seconds
        self.tls = tls
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.api_key = api_key  # None: any `Key ...` is accepted
        # The platform API's key (/v1; None: any `Key ...`) and the dollars per megapixel billed.
        self.admin_key, self.unit_price = admin_key, unit_price
        self.billed: list[Billed] = []  # what it billed, served at /v1/models/billing-events
        self.honour_running_cancel = honour_running_cancel
        self.webhook_attempts = webhook_attempts
        self.webhook_first_delay = webhook_first_delay
        self.webhook_ssl_context = webhook_ssl_context
        self.rng = random.Random(seed)
        self.app_ids = {MODEL_ID}
        self.submissions = SubmissionLog()
        self.status_requests = 0  # status polls (GET .../status)
        self.stream_requests = 0  # status streams opened (GET .../status/stream)
        self.looks = LookLog()
        self.jobs: dict[str, SimJob] = {}
        self.webhook_deliveries = DeliveryLog()
        self.signer = WebhookSigner()
        self.ca_file: Path | None = None
        self._public_url = public_url.rstrip("/") if public_url else None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._data_dir = data_dir
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.clock = SimClock()  # the runner's waits: paused, resumed, cut short by finish()
        self.storage: Storage
        self.video_dir: Path

    # --- lifecycle ---

    async def __aenter__(self) -> SimulatedFal:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind the port and serve; `base_url` and the other URLs are valid from here on."""
        if self._data_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="simulated-fal-")
            self._data_dir = Path(self._tempdir.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "files").mkdir(exist_ok=True)
        self.video_dir = self.data_dir / "videos"
        self.video_dir.mkdir(exist_ok=True)
        self.storage = Storage(self, self.data_dir / "files")
        app = web.Application(middlewares=[self._latency], client_max_size=1024**3)
        app.add_routes(QueueApi(self).routes())
        app.add_routes(self.storage.routes())
        app.add_routes(PlatformApi(self).routes())
        app.add_routes([web.get("/rest/.well-known/jwks.json", self._jwks)])
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._server_ssl())
        await site.start()
        # aiohttp names the bound port only on its private server (port 0 picks a free one).
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Cancel every job and delivery still running, close the server, drop temp files."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def _server_ssl(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        names = {"127.0.0.1", "localhost", "::1", self.host}
        if self._public_url:
            names.add(urlsplit(self._public_url).hostname or "localhost")
        context, self.ca_file = server_context(names, self.data_dir)
        return context

    # --- URLs ---

    @property
    def data_dir(self) -> Path:
        assert self._data_dir is not None, "start the server first"
        return self._data_dir

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def public_base(self) -> str:
        """The base of every link handed out (queue URLs, file URLs)."""
        return self._public_url or self.base_url

    @property
    def queue_url(self) -> str:
        return f"{self.public_base}/queue"

    @property
    def run_url(self) -> str:
        return f"{self.public_base}/run"

    @property
    def rest_url(self) -> str:
        return f"{self.public_base}/rest"

    @property
    def cdn_url(self) -> str:
        return f"{self.public_base}/cdn"

    @property
    def jwks_url(self) -> str:
        return f"{self.rest_url}/.well-known/jwks.json"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting this server's CA (for aiohttp/httpx clients)."""
        assert self.ca_file is not None, "tls=False or not started"
        return client_context(self.ca_file)

    def is_own_url(self, url: str) -> bool:
        netloc = urlsplit(url).netloc
        return netloc in {urlsplit(self.base_url).netloc, urlsplit(self.public_base).netloc}

    # --- controls for tests ---

    # The fixed API takes `timeout=`; it is applied with asyncio.timeout inside.
    async def wait_for_submissions(self, n: int, timeout: float = 5) -> list[Submission]:
        """Wait until at least `n` submits arrived; returns them all."""
        return await self.submissions.wait_for(n, timeout)

    async def wait_for_completion(self, request_id: str, timeout: float = 10) -> SimJob:
        """Wait until the job is COMPLETED (including webhook scheduling)."""
        job = self.jobs[request_id]
        async with asyncio.timeout(timeout), job.changed:
            await job.changed.wait_for(lambda: job.state == COMPLETED)
        return job

    async def wait_for_webhooks(self, n: int, timeout: float = 5) -> list[WebhookDelivery]:
        """Wait until at least `n` webhook delivery attempts were answered (or failed)."""
        return await self.webhook_deliveries.wait_for(n, timeout)

    def finish(self, request_id: str) -> None:
        """Skip the rest of the job's waiting (it still renders): completes it promptly. A job
        held in the queue (`Faults.hold_in_queue_at`) with a start timeout reaches it instead."""
        self.jobs[request_id].skip.set()

    def pause(self) -> None:
        """Freeze every job where it stands (queue position, step) until `resume()`."""
        self.clock.pause()

    def resume(self) -> None:
        self.clock.resume()

    # --- used by the routes and the runner ---

    def check_key(self, request: web.Request) -> web.Response | None:
        """fal answers 401 with a `detail` sentence when the key is missing or unknown."""
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme != "Key" or not key.strip():
            return detail_response("Missing or invalid Authorization header", status=401)
        if self.api_key is not None and key != self.api_key:
            return detail_response("No user found for Key ID and Secret", status=401)
        return None

    async def enqueue(
        self, app_id: str, arguments: Payload, headers: dict[str, str], webhook: str | None
    ) -> SimJob:
        request_id = str(uuid.uuid4())
        base = f"{self.queue_url}/{'/'.join(app_id.split('/')[:2])}/requests/{request_id}"
        urls = {
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }
        waiting = sum(1 for job in self.jobs.values() if job.state == "IN_QUEUE")
        # Pretend two other customers are ahead, so positions visibly count down.
        start_timeout = start_timeout_of(headers)  # the routes refused a malformed one
        job = SimJob(request_id, app_id, arguments, webhook, urls, waiting + 2, start_timeout)
        self.jobs[request_id] = job
        submission = Submission(request_id, app_id, arguments, headers, webhook, datetime.now(UTC))
        await self.submissions.add(submission)
        self.spawn(run_job(self, job))
        return job

    # Any, Any: the yield and send types asyncio's create_task leaves open.
    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Start a task and keep it until it ends (stop() cancels the rest)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def job_completed(self, job: SimJob) -> None:
        record_bill(self, job)
        if job.webhook_url:
            self.spawn(
                deliver(
                    self.signer,
                    job.webhook_url,
                    job.request_id,
                    job.webhook_body(),
                    attempts=self.webhook_attempts,
                    first_delay=self.webhook_first_delay,
                    ssl_context=self.webhook_ssl_context,
                    record=self.webhook_deliveries,
                )
            )

    @web.middleware
    async def _latency(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.faults.latency_seconds > 0:
            await asyncio.sleep(self.faults.latency_seconds)
        return await handler(request)

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.signer.jwks())
