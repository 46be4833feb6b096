"""The benchmark harness runs end to end (--quick, SQLite only) and reports every figure.

No timing is asserted: on a shared CI machine the numbers mean nothing. What must hold is that
every scenario ran, every job was delivered, and the JSON carries each metric and target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_METRICS = {
    "ack_p50_ms", "ack_p99_ms", "e2e_mean_s", "fal_mean_s", "transfer_mean_s",
    "overhead_mean_s", "overhead_pct", "cpu_s", "cpu_per_job_s", "jobs_per_cpu_s",
    "peak_rss_mib", "rss_per_inflight_kib", "rss_per_job_kib", "status_requests",
    "status_per_job", "status_per_2s",
}  # fmt: skip


def test_quick_run_reports_every_metric_for_ours_and_the_baseline(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--no-postgres", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    document = json.loads(out.read_text())
    assert document["machine"]["nproc"] >= 1 and document["machine"]["cpu_model"]
    scenarios = {(s["bot"], s["mode"]): s for s in document["scenarios"]}
    assert set(scenarios) == {
        ("ours", "poll"), ("ours", "webhook"), ("naive", "poll"), ("ours", "discord"),
        ("ours", "slack"), ("ours", "waiting"),
    }  # fmt: skip
    discord = scenarios.pop(("ours", "discord"))
    assert discord["refused"] == 0 and discord["ack_p99_ms"] <= discord["answer_p99_ms"]
    slack = scenarios.pop(("ours", "slack"))
    assert slack["refused"] == 0 and slack["ack_p99_ms"] > 0  # every /ltx answered 200
    for summary in scenarios.values():
        assert summary.keys() >= SCENARIO_METRICS, SCENARIO_METRICS - summary.keys()
        assert summary["failed"] == 0, summary["failures"]
        assert summary["delivered"] == summary["jobs"] == len(summary["records"])
        assert all(r["fal_s"] > 0 and r["request_id"] for r in summary["records"])
    assert scenarios[("naive", "poll")]["status_per_job"] > 0  # it polls; we can count it
    for waiting in scenarios[("ours", "waiting")], scenarios[("naive", "poll")]:
        # the in-flight memory was sampled with jobs in flight
        assert 1 <= waiting["most_in_flight"] <= 3 and waiting["rss_per_waiting_job_kib"] >= 0
    assert document["holds"]["sqlite"]["holds_per_s"] > 0
    assert document["holds"]["postgresql_skipped"] == "--no-postgres"
    verdicts = {t["target"]: t["verdict"] for t in document["targets"]}
    families = {name.split("]")[0] + "]" for name in verdicts}
    assert families == {
        "[console]", "[discord]", "[slack]", "[poll]", "[webhook]", "[waiting]", "[replicas]",
        "[ledger]", "[run]",
    }  # fmt: skip
    overheads = [name for name in verdicts if "overhead, ours / naive" in name]
    assert len(overheads) == 2  # polling and webhooks, at 3 jobs each
    assert set(verdicts.values()) <= {"PASS", "MISS", "SKIP", "INFO"}
    assert [v for name, v in verdicts.items() if "[console]" in name] == ["INFO"]
    assert [v for name, v in verdicts.items() if "postgresql" in name] == ["SKIP", "SKIP"]
    assert [v for name, v in verdicts.items() if "[replicas]" in name] == ["SKIP"]
    assert verdicts["[run] scenarios that failed"] == "PASS"
    assert document["replicas"] == {"jobs": 6, "skipped": "--no-postgres"}
    # The table and the verdicts are printed, not only written.
    assert "baseline" in run.stdout and "ours(poll)" in run.stdout
    assert "PASS" in run.stdout or "MISS" in run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith("machine: nproc ")
