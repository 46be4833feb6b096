"""The bot's HTTP port (LTXBOT_WEBHOOK_PORT): health, readiness and metrics, always served by
`ltxbot run` (Discord-only too), and fal's webhook on the same app when LTXBOT_PUBLIC_BASE_URL
is set.

    GET /healthz   200 "ok": the process and its event loop answer
    GET /readyz    200 "ready", or 503 with a short reason: the database unreachable or not
                   migrated, a configured platform not connected (never a URL or a secret)
    GET /metrics   Prometheus's text format (adapters.app.metrics)
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from adapters.app.metrics import CONTENT_TYPE
from bot.errors import ConfigurationError
from bot.model import Platform
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.app.core import Core

log = logging.getLogger(__name__)


class Connected(Protocol):
    """What readiness asks of a chat adapter."""

    @property
    def platform(self) -> Platform: ...

    async def connected(self) -> bool: ...


Check = Callable[[], Awaitable[str | None]]


def health_routes(
    app: web.Application,
    *,
    database: Check,
    adapters: Sequence[Connected],
    exposition: Callable[[], Awaitable[bytes]],
) -> None:
    """Add /healthz, /readyz and /metrics to `app`."""

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        problems = []
        if (problem := await database()) is not None:
            problems.append(problem)
        for adapter in adapters:
            if not await adapter.connected():
                problems.append(f"{adapter.platform.value} not connected")
        if problems:
            return web.Response(status=503, text="; ".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def metrics_page(_: web.Request) -> web.Response:
        body = await exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)


async def serve_http(
    settings: Settings,
    core: Core,
    adapters: Sequence[Connected],
    stack: AsyncExitStack,
    *,
    host: str = "0.0.0.0",
) -> int:
    """Start the bot's HTTP port; the port bound (LTXBOT_WEBHOOK_PORT, or a free one for 0)."""
    from storage.migrate import head_revision, schema_problem

    head = await asyncio.to_thread(head_revision)  # reads the migration files: off the loop
    app = _webhooks(settings, core) if settings.public_base_url else web.Application()

    async def database() -> str | None:
        if core.commands.stopping:  # SIGTERM: the load balancer should send no more
            return "stopping"
        return await schema_problem(core.storage.engine, head)

    async def exposition() -> bytes:
        return await core.metrics.exposition(
            count_jobs=core.storage.jobs.count_by_state, in_flight=core.supervisor.driving
        )

    health_routes(app, database=database, adapters=adapters, exposition=exposition)
    # No access log: a scrape and a probe every few seconds would drown the job lines.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, host, settings.webhook_port)
    try:
        await site.start()
    except OSError as error:  # in use, or a privileged port: one line naming the setting
        raise ConfigurationError(
            f"setting LTXBOT_WEBHOOK_PORT: cannot listen on port {settings.webhook_port} "
            f"({os.strerror(error.errno) if error.errno else type(error).__name__})"
        ) from None
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served = "health, metrics and fal webhooks" if settings.public_base_url else "health, metrics"
    log.info("HTTP port %s: %s", port, served)
    return port


def _webhooks(settings: Settings, core: Core) -> web.Application:
    from bot.fal.webhooks import webhook_app

    fal, ssl_context = core.simulated_fal, None
    if fal is not None:  # the simulated fal signs with its own key, published at its own JWKS
        settings = settings.model_copy(update={"fal_jwks_url": fal.jwks_url})
        ssl_context = fal.ssl_context() if fal.tls else None
    return webhook_app(settings, core.supervisor, ssl_context=ssl_context)
