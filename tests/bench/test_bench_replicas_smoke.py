"""The replicas benchmark runs end to end (--quick) on PostgreSQL and reports both sizes.

No timing is asserted (a shared machine); what must hold is that both runs delivered every job,
each submitted once and followed by one replica (one status request per job here).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.storage.storage_testkit import require_postgres

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_quick_run_reports_one_and_two_replicas(tmp_path: Path) -> None:
    asyncio.run(require_postgres())  # skips (or fails in CI) without PostgreSQL
    out = tmp_path / "replicas.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.replicas", "--quick", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    document = json.loads(out.read_text())
    runs = {r["replicas"]: r for r in document["runs"]}
    assert set(runs) == {1, 2}
    for figures in runs.values():
        assert figures["delivered"] == figures["jobs"] == document["jobs"]
        assert figures["failed"] == 0 and figures["burst_submissions"] == figures["jobs"]
        assert figures["jobs_per_s"] > 0 and figures["most_status_for_a_job"] <= 1
    assert "jobs/s" in run.stdout and "replicas" in run.stdout
