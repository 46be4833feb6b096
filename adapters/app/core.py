"""The composition root: the one place that wires storage, fal, the runner and the adapters.

`build_core` gives the platform-neutral core (used by the CLI, the tests and `ltxbot run`);
`serve` adds the chat adapters that are configured and runs until stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

from adapters.app.billing import open_billing
from adapters.app.metrics import Metrics
from adapters.app.platforms import ChatAdapter, configured_adapters, require_a_platform
from adapters.app.sweeps import periodic_work
from bot.budget.budgets import Budgets, Settling
from bot.budget.scope_policy import CapPolicy
from bot.errors import ConfigurationError
from bot.media.sheet_files import shutdown_decode_pool
from bot.model import Platform
from bot.money import Money
from bot.ports import Clock, FalBilling, Gateway, Poster
from bot.settings import Settings
from commands import Commands
from commands.context import Services

if TYPE_CHECKING:  # imported where used: fal, PyAV and the database driver load lazily
    from bot.fal.simulated import SimulatedFal, SimulatedFalOptions
    from bot.jobs.record import Job
    from bot.jobs.supervisor import Supervisor
    from storage import Storage

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Core:
    settings: Settings
    storage: Storage
    gateway: Gateway
    supervisor: Supervisor
    services: Services
    commands: Commands
    posters: dict[Platform, Poster] = field(default_factory=dict)
    simulated_fal: SimulatedFal | None = None  # when running without fal
    metrics: Metrics = field(default_factory=Metrics)  # this core's own registry
    http_port: int | None = None  # once `serve` listens: health, metrics, webhooks
    adapters: list[ChatAdapter] = field(default_factory=list)  # those `serve` started


def cap_policy(settings: Settings) -> CapPolicy:
    try:
        tz = ZoneInfo(settings.timezone)
    except Exception:
        raise ConfigurationError(
            f"setting LTXBOT_TIMEZONE: {settings.timezone!r} is not an IANA timezone "
            "(e.g. Europe/Paris)"
        ) from None
    cap = settings.default_user_cap_usd
    ceiling = settings.max_cost_per_request_usd
    return CapPolicy(
        user_cap=Money.usd(cap) if cap is not None else None,
        period=settings.default_cap_period,
        tz=tz,
        max_per_request=Money.usd(ceiling) if ceiling is not None else None,
    )


@asynccontextmanager
async def build_core(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    gateway: Gateway | None = None,
    poll_interval: float = 2.0,
    simulated_fal_options: SimulatedFalOptions | None = None,
    with_fal: bool = True,
    billing: FalBilling | None = None,
    serves_webhooks: bool = True,
) -> AsyncIterator[Core]:
    """Open storage, reach fal (real or simulated), start the runner; close all on exit.

    `with_fal=False` serves commands that only read (estimate, budget, history, show) without
    starting the simulated fal or checking FAL_KEY. `billing` (fal's own bill) defaults to
    fal's platform API when LTXBOT_FAL_ADMIN_KEY is set. `serves_webhooks=False` (the terminal
    serves no webhook endpoint): no `webhook_url` even with LTXBOT_PUBLIC_BASE_URL set, so its
    jobs are followed by stream or polling, never left waiting for a callback that cannot come;
    nor is the simulated fal logged as a warning: the terminal says so in its own words.
    """
    from adapters.app.storage_open import open_database
    from bot.jobs.lifecycle import Lifecycle
    from bot.jobs.observed import ObservedJobs, ObservedLedger
    from bot.jobs.supervisor import Supervisor
    from bot.media.video import probe

    policy = cap_policy(settings)
    async with AsyncExitStack() as stack:
        storage = await open_database(settings.database)
        stack.push_async_callback(storage.close)
        # Runs after the supervisor has stopped (callbacks unwind in reverse): no decode is left.
        stack.push_async_callback(asyncio.to_thread, shutdown_decode_pool)
        simulated = None
        if gateway is None and not with_fal:
            gateway = OfflineGateway(settings.use_simulated_fal)
        if gateway is None:
            gateway, simulated = await _open_gateway(
                settings, stack, simulated_fal_options or {}, logged=serves_webhooks
            )
        posters: dict[Platform, Poster] = {}
        # Every write to jobs and money goes through these: a log line per transition, metrics.
        metrics = Metrics()
        jobs = ObservedJobs(storage.jobs, metrics)
        ledger = ObservedLedger(storage.ledger, jobs, metrics)
        budgets = Budgets(ledger, policy, clock, store=storage.policy)

        async def remaining(job: Job, given_back: Money) -> Money | None:
            scope = f"{job.origin.platform.value}:{job.origin.scope}"
            settling = Settling(job.held_at or job.created_at, given_back)
            return await budgets.remaining(scope, job.origin.user_id, settling=settling)

        lifecycle = Lifecycle(
            jobs=jobs,
            ledger=ledger,
            gateway=gateway,
            posters=posters,
            clock=clock,
            remaining=remaining,
            data_dir=settings.data_dir,
            price_per_megapixel=settings.price_per_megapixel,
            probe=probe,
            max_video_bytes=settings.max_video_bytes,
        )
        hook = _webhook_url(settings) if serves_webhooks else None
        supervisor = Supervisor(
            lifecycle,
            leases=storage.leases,
            owner=settings.new_owner_id(),
            lease_seconds=settings.job_lease_seconds,
            webhook_url=hook,
            poll_interval=poll_interval,
            signals=storage.signals,
        )
        stack.push_async_callback(supervisor.close)  # hands its job leases back
        if with_fal:  # it drives jobs: another replica that stores news of one wakes it
            await storage.signals.listen(supervisor.heard)
        services = Services(
            settings=settings,
            jobs=jobs,
            ledger=ledger,
            budgets=budgets,
            runner=supervisor,
            clock=clock,
            simulated=gateway.simulated,
            saved_sheets=storage.saved_sheets,
            posters=posters,  # filled in as the adapters start: approvals post through them
            billing=billing or open_billing(settings, stack, simulated),
        )
        yield Core(
            settings=settings,
            storage=storage,
            gateway=gateway,
            supervisor=supervisor,
            services=services,
            commands=Commands(services),
            posters=posters,
            simulated_fal=simulated,
            metrics=metrics,
        )


async def _open_gateway(
    settings: Settings, stack: AsyncExitStack, options: SimulatedFalOptions, *, logged: bool
) -> tuple[Gateway, SimulatedFal | None]:
    from bot.fal.gateway import FalGateway

    if not settings.use_simulated_fal:
        gateway = FalGateway.from_settings(settings)
        stack.push_async_callback(gateway.aclose)
        return gateway, None
    from bot.fal.on_simulated import gateway_on_simulated
    from bot.fal.simulated import SimulatedFal

    base: SimulatedFalOptions = {"data_dir": settings.data_dir / "simulated-fal"}
    fal = await stack.enter_async_context(SimulatedFal(**(base | options)))
    # A server logs it; a terminal command tells its user once itself.
    level = logging.WARNING if logged else logging.INFO
    log.log(level, "No FAL_KEY: using the SIMULATED fal at %s; nothing is charged", fal.base_url)
    gateway = gateway_on_simulated(settings, fal)
    stack.push_async_callback(gateway.aclose)
    return gateway, fal


class OfflineGateway:
    """Stands in for fal in read-only commands; any use of it is a wiring bug."""

    def __init__(self, simulated: bool):
        self.simulated = simulated

    def __getattr__(self, name: str) -> NoReturn:  # stands in for every Gateway member
        raise ConfigurationError(f"fal is not connected in this command (wanted {name})")


def _webhook_url(settings: Settings) -> str | None:
    if not settings.public_base_url:
        return None
    return settings.public_base_url.rstrip("/") + "/fal/webhook"


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    poll_interval: float = 2.0,
    simulated_fal_options: SimulatedFalOptions | None = None,
    on_started: Callable[[Core], Awaitable[object]] | None = None,
) -> None:
    """`ltxbot run`: resume the unfinished jobs no other live replica drives, serve every
    configured platform until `stop`, and take over the jobs of replicas that died.

    The keywords are for tests: a faster runner and simulated fal, and `on_started(core)`
    awaited once every adapter is started."""
    from adapters.app.http import serve_http

    require_a_platform(settings)
    async with (
        build_core(
            settings, poll_interval=poll_interval, simulated_fal_options=simulated_fal_options
        ) as core,
        AsyncExitStack() as stack,
    ):
        adapters = core.adapters = configured_adapters(settings, core.commands, core.storage)
        for adapter in adapters:
            core.posters[adapter.platform] = adapter.poster
            adapter.on_ack = core.metrics.ack(adapter.platform.value)
        logging.getLogger().addHandler(core.metrics.handler)
        stack.callback(logging.getLogger().removeHandler, core.metrics.handler)
        # Always served (Discord-only too): the health checks, metrics, and fal's webhooks.
        core.http_port = await serve_http(settings, core, adapters, stack)
        await core.supervisor.resume(core.posters)
        for adapter in adapters:
            await adapter.start()
            stack.push_async_callback(adapter.close)
            log.info("%s adapter started", adapter.platform.value)
        if on_started is not None:
            await on_started(core)
        takeover = partial(core.supervisor.take_over, core.posters)
        async with periodic_work(
            core.supervisor.sweep, core.services.retention.sweep, takeover, settings
        ):
            await stop.wait()
            # Stopping (SIGTERM): no new command from here (each is told to try again in a
            # moment; /readyz says so to the load balancer); then the adapters close, the
            # jobs' submits and posts under way finish, their leases are handed back.
            log.info("stopping: taking no new commands, handing the jobs over")
            core.commands.stop_taking()
