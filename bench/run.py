"""The benchmark: `python -m bench.run [--quick] [--no-postgres] [--scales 1,50,500] [--out F]`
(`./scripts/bench` runs it from .venv; `--help` lists the rest).

Every bot runs in a child process (bench.child) so its CPU and memory are its own; the simulated
fal runs here, fresh for each scenario. Prints the table (ours beside the naive baseline) and
the targets, and writes everything as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import logging
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import replicas, report, targets
from bench.config import FULL, QUICK, Config
from bench.falside import prerendered, use_prerendered
from bench.pg import postgres_problem, throwaway_schema
from bench.procstats import machine
from bench.scenarios import bot_scenario, run_child, scratch_root
from bench.wiring import ROOT, SHEET

RESULTS = ROOT / "bench" / "results"
PLATFORM_PATHS = {
    "console": "measured: Commands.dispatch, as adapters/console and the CLI call it",
    "discord": "measured: DiscordAdapter on tests/fakes' Discord REST, interactions fed as its "
    "gateway delivers them (ack = the deferral reached Discord)",
    "slack": "measured: SlackAdapter (bolt, HTTP mode) on tests/fakes' Slack Web API, signed "
    "`/ltx` slash commands as Slack posts them (ack = bolt's HTTP 200)",
}


def say(text: str) -> None:
    print(text, flush=True)


async def ledger_holds(config: Config, work: Path) -> dict[str, Any]:
    params = {"contenders": config.contenders, "holds_each": config.holds_each}
    out: dict[str, Any] = {}
    say(f"  ledger holds, sqlite, {config.contenders} contenders")
    sqlite = f"sqlite:///{work / 'holds' / 'ledger.sqlite3'}"
    out["sqlite"] = await run_child("holds", {**params, "url": sqlite}, work)
    # The same after `prefill` entries in the period, on a database of its own.
    filled = {**params, "prefill": config.prefill}
    say(f"  ledger holds, sqlite, after {config.prefill} entries in the period")
    sqlite = f"sqlite:///{work / 'holds-filled' / 'ledger.sqlite3'}"
    out["sqlite_prefilled"] = await run_child("holds", {**filled, "url": sqlite}, work)
    if not config.postgres:
        out["postgresql_skipped"] = "--no-postgres"
        return out
    problem = await postgres_problem()
    if problem is not None:
        out["postgresql_skipped"] = f"PostgreSQL unreachable ({problem})"
        say(f"  ledger holds, postgresql: SKIPPED, {out['postgresql_skipped']}")
        return out
    say(f"  ledger holds, postgresql, {config.contenders} contenders")
    async with throwaway_schema() as url:
        out["postgresql"] = await run_child("holds", {**params, "url": url}, work)
    say(f"  ledger holds, postgresql, after {config.prefill} entries in the period")
    async with throwaway_schema() as url:
        out["postgresql_prefilled"] = await run_child("holds", {**filled, "url": url}, work)
    return out


async def replica_step(config: Config, work: Path) -> dict[str, Any]:
    """bench.replicas' burst on 1 and on 2 replicas, as a step of this run ({}: not run)."""
    if not config.replicas_jobs:
        return {}
    if not config.postgres:
        return {"jobs": config.replicas_jobs, "skipped": "--no-postgres"}
    try:
        return await replicas.runs(config, work, config.replicas_jobs)
    except RuntimeError as failure:
        say(f"  ours  replicas      FAILED: {str(failure).splitlines()[0]}")
        return {"jobs": config.replicas_jobs, "error": str(failure)}


def machine_line(info: dict[str, Any]) -> str:
    """The last line of the output: what the figures above were measured on."""
    memory = info.get("mem_total_mib")
    size = f"{memory / 1024:.0f} GiB" if memory else "memory unknown"
    return (
        f"machine: nproc {info['nproc']} x {info['cpu_model']}, {size}, "
        f"Python {info['python']}, kernel {info['kernel']}"
    )


async def bots(config: Config, work: Path) -> list[dict[str, Any]]:
    # The acks first, while this process (which runs the platforms' fakes) is still small.
    plan = [("ours", "discord", config.ack_burst), ("ours", "slack", config.ack_burst)]
    for jobs in config.scales:
        plan.append(("ours", "poll", jobs))
        if jobs in config.webhook_scales:
            plan.append(("ours", "webhook", jobs))
        plan.append(("naive", "poll", jobs))
    if config.waiting_scale:
        # The baseline's in-flight memory comes from its own largest burst: its threads all
        # start at once, so all of its jobs are in flight together there.
        plan.append(("ours", "waiting", config.waiting_scale))
    summaries = []
    # Where the waiting run would repeat a polling run exactly (the same burst on a fal that
    # renders as long: --quick), that run's figures are its own.
    repeats = (
        config.waiting_scale in config.scales
        and config.waiting_generation_seconds == config.generation_seconds
    )
    for bot, mode, jobs in plan:
        if (bot, mode) == ("ours", "waiting") and repeats:
            same = report.find(summaries, "ours", "poll", jobs)
            if same is not None and not same.get("error"):
                summaries.append({**same, "mode": "waiting", "same_run_as": "ours poll"})
                say(f"  ours  waiting {jobs:4} jobs  (the same run as ours poll {jobs})")
                continue
        gc.collect()  # the last scenario's garbage is not collected during this one
        started = time.monotonic()
        try:
            result = await bot_scenario(config, work, bot, mode, jobs)
        except RuntimeError as failure:  # the rest of the run still measures and judges
            error = str(failure)
            say(f"  {bot:5} {mode:7} {jobs:4} jobs  FAILED: {error.splitlines()[0]}")
            print(error, file=sys.stderr, flush=True)
            summaries.append({"bot": bot, "mode": mode, "jobs": jobs, "error": error,
                              "records": []})  # fmt: skip
            continue
        summary = report.summarise(result)
        summary["records"] = result["records"]
        summaries.append(summary)
        say(f"  {bot:5} {mode:7} {jobs:4} jobs  {time.monotonic() - started:5.1f} s")
    return summaries


async def main(config: Config, out: Path | None) -> dict[str, Any]:
    started = time.monotonic()
    # The naive bot's ack run exits with downloads half-sent (its threads cannot be stopped):
    # the simulated fal's server would print a traceback for each cut connection.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    # On a loaded machine the baseline's clients drop TLS connections the fal still writes
    # to: asyncio warns "SSL connection is closed" for each (the failures are counted anyway).
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    info = machine()
    say(f"ltxbot bench ({config.name}) on {info['nproc']} x {info['cpu_model']}")
    work = Path(tempfile.mkdtemp(prefix="ltxbot-bench-", dir=scratch_root()))
    try:
        video = prerendered(SHEET, config.video, RESULTS / "cache")
        local = work / video.name  # same file system as the fal's files: hard links
        shutil.copyfile(video, local)
        undo = use_prerendered(local)
        try:
            holds = await ledger_holds(config, work)
            summaries = await bots(config, work)
            several = await replica_step(config, work)
        finally:
            undo()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = [{k: v for k, v in s.items() if k != "records"} for s in summaries]
    checks = targets.judge(targets.Results(config, figures, holds, several))
    say("\n" + report.table(figures, config.scales, bool(config.webhook_scales)))
    for backend in ("sqlite", "sqlite_prefilled", "postgresql", "postgresql_prefilled"):
        if backend in holds:
            h = holds[backend]
            say(
                f"ledger holds {backend}: {h['holds_per_s']:.0f}/s ({h['holds']} by "
                f"{h['contenders']} contenders; p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} "
                f"ms; {h['cpu_ms_per_hold']:.2f} ms CPU per hold)"
            )
        else:
            skipped = holds.get(backend.removesuffix("_prefilled") + "_skipped")
            say(f"ledger holds {backend}: skipped ({skipped})")
    say(report.waiting_text(figures, config))
    discord = report.find(figures, "ours", "discord", config.ack_burst)
    if discord is not None:
        answered = (
            f"answer p50 {discord['answer_p50_ms']:.0f} ms, p99 {discord['answer_p99_ms']:.0f} ms"
            if "answer_p50_ms" in discord
            else "answers not awaited at this size"
        )
        say(
            f"discord path, {config.ack_burst} at once: ack (deferral) p50 "
            f"{discord['ack_p50_ms']:.0f} ms, p99 {discord['ack_p99_ms']:.0f} ms; {answered}"
        )
    slack = report.find(figures, "ours", "slack", config.ack_burst)
    if slack is not None:
        say(
            f"slack path, {config.ack_burst} at once: ack (HTTP 200) p50 "
            f"{slack['ack_p50_ms']:.0f} ms, p99 {slack['ack_p99_ms']:.0f} ms"
        )
    for path, note in PLATFORM_PATHS.items():
        say(f"ack path {path}: {note}")
    if several:
        say(f"\nreplicas of one PostgreSQL database, one burst of {several['jobs']} jobs:")
        say(replicas.text(several))
    say("\n" + targets.text(checks))
    elapsed = time.monotonic() - started
    say(f"\nfinished in {elapsed:.0f} s ({config.name} run)")
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "config": dataclasses.asdict(config),
        "elapsed_s": elapsed,
        "scenarios": summaries,
        "holds": holds,
        "replicas": several,
        "platform_paths": PLATFORM_PATHS,
        "targets": checks,
    }
    if out is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{config.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, default=str))
    say(f"results: {out}")
    say(machine_line(info))
    return document


def parse(argv: list[str]) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (< 20 s)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite ledger only")
    parser.add_argument("--webhook-scales", help="bursts also run with webhooks (default 50)")
    parser.add_argument("--scales", help="jobs in flight, comma-separated (default 1,50,500)")
    parser.add_argument("--ack-burst", type=int, help="commands at once for the ack target")
    parser.add_argument("--generation-seconds", type=float, help="fal's render time per job")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile our largest polling run into $TMPDIR")  # fmt: skip
    parser.add_argument("--memory", action="store_true",
                        help="tracemalloc our largest polling run into $TMPDIR")  # fmt: skip
    parser.add_argument("--replica-jobs", type=int,
                        help="the burst on 1 and 2 replicas (default 500; 0: not run)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="where to write the JSON")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    changes: dict[str, Any] = {"profile": args.profile, "memory": args.memory}
    if args.no_postgres:
        changes["postgres"] = False
    if args.webhook_scales is not None:
        changes["webhook_scales"] = tuple(int(n) for n in args.webhook_scales.split(",") if n)
    if args.scales:
        changes["scales"] = tuple(int(n) for n in args.scales.split(","))
    if args.ack_burst:
        changes["ack_burst"] = args.ack_burst
    if args.replica_jobs is not None:
        changes["replicas_jobs"] = args.replica_jobs
    if args.generation_seconds:
        changes["generation_seconds"] = args.generation_seconds
    return dataclasses.replace(config, **changes), args.out


if __name__ == "__main__":
    asyncio.run(main(*parse(sys.argv[1:])))
