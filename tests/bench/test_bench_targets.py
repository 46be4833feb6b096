"""The bench's targets are judged from one run's figures, as ratios against the naive bot: no
process runs here, the figures are written out by hand."""

from __future__ import annotations

from typing import Any

from bench.config import FULL
from bench.targets import Results, judge, text


def scenario(bot: str, mode: str, jobs: int, **figures: Any) -> dict[str, Any]:
    return {"bot": bot, "mode": mode, "jobs": jobs, **figures}


def full_run(*, in_flight: int = 500, two_replicas: float = 40.0) -> Results:
    scenarios = [
        scenario("ours", "discord", 1000, ack_p99_ms=120.0, refused=0),
        scenario("ours", "slack", 1000, ack_p99_ms=400.0, refused=0),
        scenario("ours", "waiting", 500, rss_per_waiting_job_kib=30.0, most_in_flight=in_flight,
                 min_poll_gap_s=2.0),
    ]  # fmt: skip
    for jobs in (1, 50, 500):
        scenarios += [
            scenario("ours", "poll", jobs, jobs_per_cpu_s=60.0, overhead_mean_s=0.2 * jobs,
                     ack_p99_ms=5.0, min_poll_gap_s=None),
            scenario("naive", "poll", jobs, jobs_per_cpu_s=5.0, overhead_mean_s=0.3 * jobs),
        ]  # fmt: skip
    scenarios.append(scenario("ours", "webhook", 500, jobs_per_cpu_s=40.0,
                              overhead_mean_s=50.0, status_per_job=0.0))  # fmt: skip
    replicas = {"jobs": 500, "runs": [
        {"replicas": 1, "jobs_per_s": 20.0, "failed": 0},
        {"replicas": 2, "jobs_per_s": two_replicas, "failed": 0},
    ]}  # fmt: skip
    holds = {"sqlite": {"holds_per_s": 9000.0, "contenders": 50},
             "sqlite_prefilled": {"holds_per_s": 6300.0, "contenders": 50, "prefilled": 100_000},
             "postgresql_skipped": "PostgreSQL unreachable"}  # fmt: skip
    return Results(FULL, scenarios, holds, replicas)


def verdicts(run: Results) -> dict[str, str]:
    return {check["target"]: check["verdict"] for check in judge(run)}


def test_every_target_of_the_issue_is_judged_as_a_ratio_against_the_naive_bot() -> None:
    got = verdicts(full_run())
    assert got == {
        "[run] scenarios that failed": "PASS",
        "[console] reply with the hold, p99, 500 at once (ms)": "INFO",
        "[discord] ack p99, 1000 commands at once (ms)": "PASS",
        "[slack] ack p99, 1000 commands at once (ms)": "MISS",  # 400 > 300
        "[poll] jobs per CPU-s, ours / naive, 500 jobs (x)": "PASS",  # 12x
        "[webhook] jobs per CPU-s, ours / naive, 500 jobs (x)": "MISS",  # 8x
        "[poll] bot overhead, ours / naive, 1 jobs (x)": "MISS",  # 0.67x
        "[poll] bot overhead, ours / naive, 50 jobs (x)": "MISS",
        "[poll] bot overhead, ours / naive, 500 jobs (x)": "MISS",
        "[webhook] bot overhead, ours / naive, 500 jobs (x)": "PASS",  # 50 / 150
        "[waiting] RSS per job in flight, 500 jobs (KiB)": "PASS",
        "[replicas] jobs/s, 2 / 1 replicas, 500 jobs (x)": "PASS",  # 2.0x
        "[poll] closest two status polls of a job (s)": "PASS",
        "[webhook] status requests per job, 500 jobs": "PASS",
        "[ledger] holds/s, sqlite, 50 contenders": "PASS",
        "[ledger] holds/s, postgresql, - contenders": "SKIP",
        "[ledger] admission holds/s at 100k entries / empty, sqlite (x)": "MISS",  # 0.7x
        "[ledger] admission holds/s at - entries / empty, postgresql (x)": "SKIP",
    }


def test_memory_per_job_misses_unless_every_job_was_in_flight_at_once() -> None:
    checks = judge(full_run(in_flight=366))
    memory = next(c for c in checks if c["target"].startswith("[waiting]"))
    assert memory["value"] == 30.0 and memory["verdict"] == "MISS"
    assert memory["note"] == "366 of 500 in flight at once"


def test_the_replicas_ratio_and_a_skipped_step_are_printed_with_the_reason() -> None:
    run = full_run(two_replicas=30.0)
    printed = text(judge(run)).splitlines()
    line = next(row for row in printed if "[replicas]" in row)
    assert line.startswith("MISS") and "1.50 >= 1.70" in line and "30.0 vs 20.0 jobs/s" in line
    skipped = Results(FULL, run.scenarios, run.holds, {"jobs": 500, "skipped": "--no-postgres"})
    line = next(row for row in text(judge(skipped)).splitlines() if "[replicas]" in row)
    assert line.startswith("SKIP") and line.endswith("skipped: --no-postgres")


def test_a_failed_scenario_is_a_miss_of_the_run_and_its_targets_skip() -> None:
    run = full_run()
    scenarios = [s for s in run.scenarios if (s["bot"], s["mode"]) != ("ours", "webhook")]
    scenarios.append(scenario("ours", "webhook", 500, error="bench child ours stopped: ..."))
    got = judge(Results(FULL, scenarios, run.holds, run.replicas))
    by_name = {c["target"]: c for c in got}
    assert by_name["[run] scenarios that failed"]["verdict"] == "MISS"
    assert by_name["[run] scenarios that failed"]["note"] == "ours webhook 500"
    assert by_name["[webhook] jobs per CPU-s, ours / naive, 500 jobs (x)"]["verdict"] == "SKIP"
