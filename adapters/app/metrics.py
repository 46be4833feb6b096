"""Prometheus metrics for `ltxbot run` (prometheus-client), fed by the core's `JobObserver`.

Each Core has its own `CollectorRegistry` (never the library's global one), so several cores in
one process (tests) never clash. Labels are only ever states, outcomes, entry kinds, delivery
routes, platforms and exception or module names: never a user id, a prompt or a scope.

Money is counted in exact integer nano-dollars here and turned into dollars only in the
exposition, whose sample values are floats by Prometheus's own format.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.jobs.record import FINAL, Job, JobState
from bot.money import NANOS_PER_USD, Money
from bot.ports import EntryKind

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
QUEUE_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
RENDER_BUCKETS = (5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200)
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


class _Ledger(Collector):
    """Holds, captures and releases in dollars, summed exactly in nanos until the scrape."""

    def __init__(self) -> None:
        self.nanos: Tally[EntryKind] = Tally()

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "ltxbot_ledger_usd",
            "Money written to the ledger by this process, in US dollars, by entry kind",
            labels=["kind"],
        )
        for kind in (EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE):
            dollars = Decimal(self.nanos[kind]) / NANOS_PER_USD
            family.add_metric([kind.value], float(dollars))
        yield family


class _JobsByState(Collector):
    """Jobs in each state, as the database counted them at the last scrape (every replica's)."""

    def __init__(self) -> None:
        self.counts: dict[JobState, int] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "ltxbot_jobs", "Jobs in the database in each state", labels=["state"]
        )
        for state in JobState:
            family.add_metric([state.value], self.counts.get(state, 0))
        yield family


class Metrics:
    """The bot's metrics: a `JobObserver` for the core, `ack` for the adapters, and a logging
    handler counting errors. `exposition()` refreshes what is read from storage and renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.started = Counter("ltxbot_jobs_started", "Jobs whose money was held", registry=r)
        self.ended = Counter(
            "ltxbot_jobs_ended", "Jobs that ended, by outcome", ["outcome"], registry=r
        )
        self.queue_wait = Histogram(
            "ltxbot_fal_queue_wait_seconds",
            "From fal accepting a job to fal starting it",
            buckets=QUEUE_BUCKETS,
            registry=r,
        )
        self.render = Histogram(
            "ltxbot_fal_render_seconds",
            "From fal starting a job to its video being downloaded and probed",
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self.acks = Histogram(
            "ltxbot_ack_seconds",
            "From an interaction arriving to the platform having its acknowledgement",
            ["platform"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "ltxbot_jobs_in_flight", "Jobs this process is driving now", registry=r
        )
        self.deliveries = Counter(
            "ltxbot_deliveries", "Videos delivered, by route", ["route"], registry=r
        )
        self.errors = Counter(
            "ltxbot_errors", "Errors logged, by module and kind", ["module", "kind"], registry=r
        )
        self.ledger = _Ledger()
        self.jobs = _JobsByState()
        r.register(self.ledger)
        r.register(self.jobs)
        for outcome in FINAL:  # every outcome shows from the start, at 0
            self.ended.labels(outcome.value)
        self.handler = ErrorCounter(self)

    # --- the core's JobObserver -------------------------------------------------------------

    def job_changed(self, job: Job, before: JobState | None) -> None:
        if job.state is JobState.HELD:
            self.started.inc()
        elif job.state is JobState.RUNNING:
            waited = _seconds(job.submitted_at, job.started_at)
            if waited is not None:
                self.queue_wait.observe(waited)
        elif job.state is JobState.SUCCEEDED:
            rendered = _seconds(job.started_at or job.submitted_at, job.finished_at)
            if rendered is not None:
                self.render.observe(rendered)
        if job.state in FINAL:
            self.ended.labels(job.state.value).inc()
        if job.state is JobState.DELIVERED and job.origin.delivered_via:
            self.deliveries.labels(job.origin.delivered_via).inc()

    def money_moved(self, kind: EntryKind, amount: Money) -> None:
        self.ledger.nanos[kind] += amount.nanos

    # --- the rest ---------------------------------------------------------------------------

    def ack(self, platform: str) -> Callable[[float], None]:
        """What an adapter calls with each acknowledgement's seconds."""
        return self.acks.labels(platform).observe

    async def exposition(
        self,
        *,
        count_jobs: Callable[[], Awaitable[dict[JobState, int]]],
        in_flight: int,
    ) -> bytes:
        """The text format, with the jobs by state read now (the last counts if that fails)."""
        self.in_flight.set(in_flight)
        try:
            self.jobs.counts = await count_jobs()
        except Exception as error:  # the database may be down: /readyz says so
            log.warning("metrics: could not count jobs by state (%s)", type(error).__name__)
        return generate_latest(self.registry)


class ErrorCounter(logging.Handler):
    """Counts ERROR and CRITICAL log records: by the module's package (`bot.jobs`) and the
    exception's class (`TimeoutError`), or "logged" for an error without one."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        module = ".".join(record.name.split(".")[:2])
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "logged"
        self.metrics.errors.labels(module, kind).inc()
