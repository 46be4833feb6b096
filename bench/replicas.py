"""Jobs per second of one burst on 1 and on 2 replicas of the same PostgreSQL database:
`python -m bench.replicas [--quick] [--jobs N] [--out F]` (`./scripts/bench replicas`);
the full run (bench.run) runs it too, as one of its steps.

Each replica is our bot in a process of its own (bench.child, bench.ours with a database URL
and a replica id) on one throw-away PostgreSQL schema and one shared data dir, beside one
simulated fal in this process. Every replica warms up, says it is ready, and on one word from
here dispatches its share of the burst at once (N / replicas generate commands, one user each).
Jobs per second = N / (the last job's delivery - the word), on the one monotonic clock of the
machine. fal's status requests per job show that each job was followed by one replica.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import FULL, QUICK, Config
from bench.falside import BenchFal, prerendered, use_prerendered
from bench.ours import READY
from bench.pg import postgres_problem, throwaway_schema
from bench.procstats import machine
from bench.scenarios import fresh_fal, join_fal_side, scratch_root
from bench.wiring import ROOT, SHEET, now

RESULTS = ROOT / "bench" / "results"
REPLICAS = (1, 2)


async def burst_on(config: Config, work: Path, replicas: int, jobs: int) -> dict[str, Any]:
    """`jobs` commands split over `replicas` processes on one fresh database and fal."""
    async with fresh_fal(config, work, replicas) as fal, throwaway_schema() as url:
        data_dir = work / f"bots-{uuid.uuid4().hex[:6]}"  # shared, as the README asks
        shares = [jobs // replicas + (i < jobs % replicas) for i in range(replicas)]
        children = [
            await _spawn(config, work, fal, url, data_dir, f"replica-{i}", share)
            for i, share in enumerate(shares)
        ]
        try:
            for process, _ in children:
                await _ready(process)
            word = now()
            for process, _ in children:  # the same moment for all, within microseconds
                assert process.stdin is not None
                process.stdin.write(b"go\n")
            results = [await _result(process, out) for process, out in children]
        finally:
            for process, _ in children:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    records = [record for result in results for record in result["records"]]
    join_fal_side({"records": records}, fal)
    ended = [r["arrived"] + r["e2e_s"] for r in records if r.get("e2e_s") is not None]
    delivered = sum(1 for r in records if r.get("e2e_s") is not None and not r["failure"])
    wall = max(ended) - word if ended else None
    looks = [r.get("status_requests", 0) for r in records]
    return {
        "replicas": replicas, "jobs": jobs, "delivered": delivered,
        "failed": sum(1 for r in records if r["failure"]),
        "wall_s": wall, "jobs_per_s": jobs / wall if wall else None,
        "cpu_s": sum(result["cpu_s"] for result in results),
        "status_per_job": sum(looks) / len(looks) if looks else None,
        "most_status_for_a_job": max(looks, default=0),
        "burst_submissions": len(fal.received) - replicas,  # less each replica's warm-up
    }  # fmt: skip


async def _spawn(
    config: Config, work: Path, fal: BenchFal, url: str, data_dir: Path, name: str, share: int
) -> tuple[asyncio.subprocess.Process, Path]:
    params = {
        "fal": fal.endpoints(), "mode": "poll", "jobs": share, "data_dir": str(data_dir),
        "resolution": config.video.resolution, "num_frames": config.video.num_frames,
        "poll_interval": config.poll_interval, "timeout": config.timeout,
        "database_url": url, "replica": name,
    }  # fmt: skip
    params_path, out = work / f"{name}-{uuid.uuid4().hex[:6]}.json", work / f"{name}.out.json"
    out.unlink(missing_ok=True)
    params_path.write_text(json.dumps(params))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.child", "ours", str(params_path), str(out), cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return process, out


async def _ready(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise RuntimeError("a replica ended before it was ready (its stderr says why)")
        if line.startswith(READY):
            return


async def _result(process: asyncio.subprocess.Process, out: Path) -> dict[str, Any]:
    assert process.stdout is not None
    await process.stdout.read()  # drain, so a chatty child never blocks on a full pipe
    if await process.wait() != 0:
        raise RuntimeError(f"a replica failed ({process.returncode}; its stderr says why)")
    result: dict[str, Any] = json.loads(await asyncio.to_thread(out.read_text))
    return result


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "replicas  jobs  delivered  wall (s)  jobs/s  CPU (s)  status/job",
        "-" * 66,
    ]
    for row in rows:
        wall = f"{row['wall_s']:.2f}" if row["wall_s"] else "-"
        rate = f"{row['jobs_per_s']:.1f}" if row["jobs_per_s"] else "-"
        lines.append(
            f"{row['replicas']:>8}  {row['jobs']:>4}  {row['delivered']:>9}  {wall:>8}  "
            f"{rate:>6}  {row['cpu_s']:>7.1f}  {row['status_per_job'] or 0:>10.2f}"
        )
    return "\n".join(lines)


async def runs(config: Config, work: Path, jobs: int) -> dict[str, Any]:
    """The burst on 1 and on 2 replicas (the pre-rendered video already in use), or why not:
    {"jobs", "runs": [...]} or {"jobs", "skipped": reason}."""
    out: dict[str, Any] = {"jobs": jobs}
    problem = await postgres_problem()
    if problem is not None:
        out["skipped"] = f"PostgreSQL unreachable ({problem})"
        return out
    out["runs"] = []
    for replicas in REPLICAS:
        started = time.monotonic()
        out["runs"].append(await burst_on(config, work, replicas, jobs))
        print(f"  ours  replicas {replicas} {jobs:4} jobs  {time.monotonic() - started:5.1f} s",
              flush=True)  # fmt: skip
    return out


def text(document: dict[str, Any]) -> str:
    if "skipped" in document:
        return f"replicas: SKIPPED, {document['skipped']}"
    return table(document["runs"])


async def main(config: Config, jobs: int, out: Path | None) -> dict[str, Any]:
    info = machine()
    print(f"ltxbot replicas bench ({config.name}, {jobs} jobs) on {info['nproc']} cores",
          flush=True)  # fmt: skip
    document: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                                "machine": info, "config": dataclasses.asdict(config)}  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="ltxbot-replicas-", dir=scratch_root()))
    try:
        video = prerendered(SHEET, config.video, RESULTS / "cache")
        local = work / video.name
        shutil.copyfile(video, local)
        undo = use_prerendered(local)
        try:
            document.update(await runs(config, work, jobs))
        finally:
            undo()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(text(document), flush=True)
    if out is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"replicas-{config.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, default=str))
    print(f"results: {out}", flush=True)
    return document


def parse(argv: list[str]) -> tuple[Config, int, Path | None]:
    parser = argparse.ArgumentParser(prog="bench.replicas", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-test size (6 jobs)")
    parser.add_argument("--jobs", type=int, help="the burst (default 500; --quick 6)")
    parser.add_argument("--out", type=Path, help="where to write the JSON")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    return config, args.jobs or config.replicas_jobs, args.out


if __name__ == "__main__":
    asyncio.run(main(*parse(sys.argv[1:])))
