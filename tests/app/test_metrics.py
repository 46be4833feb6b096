"""`adapters.app.metrics` on its own: a registry per instance, errors counted by kind, money
summed exactly until it is shown in dollars."""

from __future__ import annotations

import logging

from prometheus_client.parser import text_string_to_metric_families

from adapters.app.metrics import Metrics
from bot.jobs.record import JobState
from bot.money import Money
from bot.ports import EntryKind


def page(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def no_jobs() -> dict[JobState, int]:
    return {JobState.RUNNING: 2}


async def test_two_instances_never_share_a_number() -> None:
    one, two = Metrics(), Metrics()
    one.started.inc()
    one.ack("discord")(0.2)
    first = page((await one.exposition(count_jobs=no_jobs, in_flight=2)).decode())
    second = page((await two.exposition(count_jobs=no_jobs, in_flight=0)).decode())
    assert first[("ltxbot_jobs_started_total", ())] == 1
    assert second[("ltxbot_jobs_started_total", ())] == 0
    assert first[("ltxbot_ack_seconds_count", (("platform", "discord"),))] == 1
    assert first[("ltxbot_jobs", (("state", "running"),))] == 2
    assert first[("ltxbot_jobs_in_flight", ())] == 2


async def test_money_is_summed_in_nanos_and_shown_in_dollars() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.money_moved(EntryKind.HOLD, Money(100_000_001))  # $0.100000001
    assert metrics.ledger.nanos[EntryKind.HOLD] == 300_000_003
    shown = page((await metrics.exposition(count_jobs=no_jobs, in_flight=0)).decode())
    assert shown[("ltxbot_ledger_usd_total", (("kind", "hold"),))] == 0.300000003


async def test_errors_are_counted_by_module_and_exception_class() -> None:
    metrics = Metrics()
    logger = logging.getLogger("bot.jobs.supervisor")
    logger.addHandler(metrics.handler)
    try:
        try:
            raise TimeoutError("fal")
        except TimeoutError:
            logger.exception("job x: unexpected error")
        logger.error("job y: could not record")
        logger.warning("not an error")
    finally:
        logger.removeHandler(metrics.handler)
    shown = page((await metrics.exposition(count_jobs=no_jobs, in_flight=0)).decode())
    errors = {k[1]: v for k, v in shown.items() if k[0] == "ltxbot_errors_total"}
    assert errors == {
        (("kind", "TimeoutError"), ("module", "bot.jobs")): 1,
        (("kind", "logged"), ("module", "bot.jobs")): 1,
    }
