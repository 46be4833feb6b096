"""Our bot under load, in a process of its own: `build_core` on the simulated fal, the console
path's `Commands.dispatch`, and the Supervisor driving every job through the real fal_client.

A burst of `jobs` generate commands arrives at once (one user each, one team). Recorded per
job: the ack (dispatch returned its Reply), the end (the poster got the video), and transfer
time (sheet upload + video download, timed around the gateway). With `webhook`, fal calls the
bot back (bot.fal.webhooks on a loopback port) instead of being polled. With `profile` (a path), the
measured part is profiled with cProfile (the event-loop thread only) and dumped there; with
`memory` (a path), tracemalloc's top allocation sites are written there.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging
import sys
import tracemalloc
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.app.core import build_core
from adapters.app.process import limit_malloc_arenas
from bench.discord_path import start_discord
from bench.procstats import InFlightMemory, cpu_seconds, peak_rss_kib, reset_peak, rss_kib
from bench.slack_path import start_slack
from bench.wiring import SHEET, FalView, now, options
from bot.events import Cancelled, Failed, JobEvent
from bot.fal.gateway import FalGateway
from bot.fal.on_simulated import gateway_on_simulated
from bot.jobs.record import Job
from bot.model import Actor, Attachment, Invocation, Place, Platform
from bot.ports import Delivery
from bot.settings import Settings

SCOPE = "bench"
READY = "bench-ready "  # the line bench.scenarios.run_child waits for


class TimedGateway:
    """The real FalGateway, with the time spent moving files recorded per job."""

    def __init__(self, inner: FalGateway) -> None:
        self.inner = inner
        self.simulated = False  # as if paid: the capture path runs, like production
        self.transfer: dict[str, float] = defaultdict(float)

    async def upload(self, data: bytes, *, content_type: str, file_name: str) -> str:
        start = now()
        try:
            return await self.inner.upload(data, content_type=content_type, file_name=file_name)
        finally:
            self.transfer[Path(file_name).stem] += now() - start

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        start = now()
        try:
            return await self.inner.download(url, dest, max_bytes=max_bytes)
        finally:
            self.transfer[dest.stem] += now() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BenchPoster:
    """Records when each job ended (delivered, failed or cancelled); shows nothing."""

    def __init__(self) -> None:
        self.ended: dict[str, float] = {}
        self.failures: dict[str, str] = {}
        self._changed = asyncio.Event()

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        if isinstance(event, Failed | Cancelled):
            self.failures[job.id] = getattr(event, "reason", type(event).__name__)
            self._end(job.id)
        return f"status-{job.id}"

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: object = None
    ) -> Delivery:
        self._end(job.id)
        return Delivery(f"result-{job.id}")

    def _end(self, job_id: str) -> None:
        self.ended.setdefault(job_id, now())
        self._changed.set()

    async def wait_for(self, job_ids: set[str], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not job_ids <= self.ended.keys():
                self._changed.clear()
                await self._changed.wait()


class Forward:
    """The webhook app needs its sink before the core (which needs the app's URL) exists."""

    target: Any = None

    async def on_webhook(self, request_id: str, body: dict[str, Any], **hints: Any) -> None:
        await self.target.on_webhook(request_id, body, **hints)


async def _serve_webhooks(stack: AsyncExitStack, view: FalView, forward: Forward) -> str:
    from bot.fal.webhooks import webhook_app

    probe = Settings(_env_file=None, fal_jwks_url=view.jwks_url)  # type: ignore[call-arg]
    runner = web.AppRunner(
        webhook_app(probe, forward, ssl_context=view.ssl_context()), access_log=None
    )
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{port}"


async def _burst(core: Any, params: dict[str, Any], count: int, tag: str) -> list[dict[str, Any]]:
    """`count` generate commands at once; each record has the ack time and the job id."""
    attachment = Attachment.from_path(SHEET)
    start = now()

    async def one(number: int) -> dict[str, Any]:
        actor = Actor(Platform.CONSOLE, SCOPE, f"{tag}-{number}", f"User {number}")
        place = Place(Platform.CONSOLE, SCOPE, "bench")
        invocation = Invocation("generate", actor, place, options(params), attachment)
        reply = await core.commands.dispatch(invocation)
        return {"job_id": reply.job_id, "ack_s": now() - start, "arrived": start,
                "refusal": None if reply.job_id else reply.text}  # fmt: skip

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def _burst_from_harness(ready: dict[str, Any]) -> list[dict[str, Any]]:
    """Tell the harness we are ready (a line on stdout), serve its burst until it says the
    burst is over (a line on stdin). Its records are the run's; this side has none."""
    print(READY + json.dumps(ready), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    return []


class PeakSnapshots:
    """tracemalloc's snapshot at the most memory seen, looked at every `every` seconds: the
    allocation sites of the peak, not of whatever happens to be left at the end."""

    def __init__(self, every: float = 0.5) -> None:
        self.every, self.top = every, 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            current, _ = tracemalloc.get_traced_memory()
            if current > self.top:
                self.top, self.snapshot = current, tracemalloc.take_snapshot()
            await asyncio.sleep(self.every)

    async def stop(self, path: Path) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.snapshot is not None:
            _memory_report(path, f"at the highest look ({self.top >> 10} KiB)", self.snapshot)


def _memory_report(path: Path, moment: str, snapshot: tracemalloc.Snapshot | None = None) -> None:
    """The allocation sites holding the most memory (tracemalloc), appended to `path`."""
    current, peak = tracemalloc.get_traced_memory()
    top = (snapshot or tracemalloc.take_snapshot()).statistics("lineno")[:25]
    lines = [f"== {moment}: traced {current >> 10} KiB now, peak {peak >> 10} KiB"]
    lines += [
        f"{stat.size >> 10:>8} KiB {stat.count:>7} blocks  {stat.traceback[0]}" for stat in top
    ]
    with path.open("a") as out:
        out.write("\n".join(lines) + "\n")


async def run(params: dict[str, Any]) -> dict[str, Any]:
    """One scenario; `params`: fal endpoints, data_dir, jobs, mode: poll, webhook, waiting
    (polled; fal renders long), discord or slack (the adapter serves a burst the harness
    sends through its fake platform in another process)."""
    logging.basicConfig(level=logging.WARNING)
    limit_malloc_arenas()  # as `ltxbot run` starts
    view = FalView.of(params["fal"])
    mode, jobs = params["mode"], int(params["jobs"])
    async with AsyncExitStack() as stack:
        overrides: dict[str, Any] = {"data_dir": Path(params["data_dir"])}
        if params.get("database_url"):  # bench.replicas: one of several on one database
            overrides.update(database_url=params["database_url"], replica_id=params["replica"])
        forward = Forward()
        if mode == "webhook":
            overrides["public_base_url"] = await _serve_webhooks(stack, view, forward)
            overrides["fal_jwks_url"] = view.jwks_url
        settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
        inner = gateway_on_simulated(settings, view)  # type: ignore[arg-type]
        stack.push_async_callback(inner.aclose)
        gateway = TimedGateway(inner)
        core = await stack.enter_async_context(
            build_core(settings, gateway=gateway, poll_interval=float(params["poll_interval"]))  # type: ignore[arg-type]
        )
        forward.target = core.supervisor
        poster = BenchPoster()
        core.posters[Platform.CONSOLE] = poster
        # Warm up: imports, TLS sessions, the first SQLite pages; not measured.
        warm = await _burst(core, params, 1, f"warm-{params.get('replica', '')}")
        await poster.wait_for({r["job_id"] for r in warm if r["job_id"]}, params["timeout"])
        # The platform runs: log in and connect first (not measured); the burst comes from
        # the harness, which records the acks itself.
        ready: dict[str, Any] | None = None
        if mode == "discord":
            await start_discord(core, params, stack)
            ready = {}
        elif mode == "slack":
            ready = {"port": await start_slack(core, params, stack)}
        rss_base, peak_reset = rss_kib(), reset_peak()
        cpu_before, started = cpu_seconds(), now()
        profiler = cProfile.Profile() if params.get("profile") else None
        if profiler is not None:
            profiler.enable()
        sampler = InFlightMemory(lambda: core.supervisor.driving, rss_base)
        sampler.start()
        peaks = PeakSnapshots()
        if params.get("memory"):
            tracemalloc.start(8)
            peaks.start()
        if ready is not None:
            records = await _burst_from_harness(ready)
        else:
            if params.get("replica"):  # every replica starts its share at the harness's word
                await _burst_from_harness({})
            records = await _burst(core, params, jobs, params.get("replica", "user"))
        acked = now()
        if params.get("memory"):
            _memory_report(Path(params["memory"]), "after the burst's acks")
        wanted = {r["job_id"] for r in records if r["job_id"]}
        if mode not in ("discord", "slack"):  # poll, webhook, waiting: to the end
            await poster.wait_for(wanted, params["timeout"])
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(params["profile"])
        if params.get("memory"):
            _memory_report(Path(params["memory"]), "when every job had ended")
            await peaks.stop(Path(params["memory"]))
            tracemalloc.stop()
        cpu, wall, peak = cpu_seconds() - cpu_before, now() - started, peak_rss_kib()
        in_flight = sampler.stop()
        for record in records:
            job_id = record["job_id"]
            stored = await core.storage.jobs.get(job_id) if job_id else None
            record["request_id"] = stored.fal_request_id if stored else None
            record["transfer_s"] = gateway.transfer.get(job_id or "", 0.0)
            ended = poster.ended.get(job_id or "")
            record["e2e_s"] = ended - record["arrived"] if ended else None
            record["failure"] = poster.failures.get(job_id or "")
    return {
        "bot": "ours", "mode": mode, "jobs": jobs, "records": records,
        "cpu_s": cpu, "wall_s": wall, "burst_s": acked - started,
        "rss_base_kib": rss_base, "peak_rss_kib": peak, "peak_reset": peak_reset,
        **in_flight,
    }  # fmt: skip
