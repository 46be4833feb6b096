"""Run one measured process against a fresh simulated fal and join both sides' records."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from bench.config import Config
from bench.falside import BenchFal
from bench.wiring import ROOT


def scratch_root() -> Path:
    """tmpfs when there is one: 500 downloaded MP4s should cost memory, not disk seeks."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


Between = Callable[[dict[str, Any]], Awaitable[None]]
STOP_GRACE_S = 60.0  # after a child's own timeout, for its shutdown


async def run_child(
    kind: str, params: dict[str, Any], work: Path, between: Between | None = None
) -> dict[str, Any]:
    """`python -m bench.child` in a process of its own; its CPU and memory are the bot's.

    With `between`: once the child says it is ready (bench.ours.READY on its stdout), run
    `between(what it said)` here, then tell the child to finish (a line on its stdin)."""
    name = f"{kind}-{params.get('mode', 'x')}-{uuid.uuid4().hex[:6]}"
    params_path, out_path = work / f"{name}.params.json", work / f"{name}.out.json"
    params_path.write_text(json.dumps(params))
    pipe = asyncio.subprocess.PIPE if between else asyncio.subprocess.DEVNULL
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.child", kind, str(params_path), str(out_path),
        cwd=ROOT, stdin=pipe, stdout=pipe, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    errors = asyncio.ensure_future(process.stderr.read())  # read all along: a full pipe blocks
    try:
        # A bot that cannot finish its jobs ends at its own timeout, which counts from the
        # end of its burst; one stuck past that (shutting down, say) is stopped here, so that
        # one scenario cannot stall the run. Its start and burst get a timeout's time too.
        async with asyncio.timeout(2 * float(params.get("timeout", 200.0)) + STOP_GRACE_S):
            if between is not None:
                await _handshake(process, between)
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
        tail = (await errors).decode(errors="replace")[-3000:]
        raise RuntimeError(
            f"bench child {kind} stopped: still running after twice its own timeout "
            f"({params.get('timeout')} s) and {STOP_GRACE_S:.0f} s:\n{tail}"
        ) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = await errors
    if process.returncode != 0 or not out_path.exists():
        tail = stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"bench child {kind} failed ({process.returncode}):\n{tail}")
    return json.loads(out_path.read_text())


async def _handshake(process: asyncio.subprocess.Process, between: Between) -> None:
    from bench.ours import READY

    assert process.stdout is not None and process.stdin is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            return  # the child ended before it was ready: its stderr says why
        if line.startswith(READY):
            break
    try:
        await between(json.loads(line.removeprefix(READY)))
    finally:
        process.stdin.write(b"done\n")
        await process.stdin.drain()
        process.stdin.close()


@asynccontextmanager
async def fresh_fal(config: Config, work: Path, warm_ups: int = 1):  # type: ignore[no-untyped-def]
    """A new simulated fal for one scenario, so no counter or queue carries over; its first
    `warm_ups` jobs (the bots' warm-ups, one per process) complete at once."""
    fal_dir = work / f"fal-{uuid.uuid4().hex[:6]}"
    async with BenchFal(
        warm_ups=warm_ups,
        generation_seconds=config.generation_seconds,
        queue_seconds=config.queue_seconds,
        data_dir=fal_dir,
        seed=0,
    ) as fal:
        yield fal


async def bot_scenario(
    config: Config, work: Path, bot: str, mode: str, jobs: int
) -> dict[str, Any]:
    """`bot` (ours|naive) with `jobs` commands at once; `mode` poll, webhook, ack, waiting
    (polled, on a fal that renders long enough for every job to be in flight at once),
    discord or slack."""
    if mode == "waiting":
        config = dataclasses.replace(config, generation_seconds=config.waiting_generation_seconds)
    async with fresh_fal(config, work) as fal:
        data_dir = work / f"bot-{uuid.uuid4().hex[:6]}"
        params: dict[str, Any] = {
            "fal": fal.endpoints(), "mode": mode, "jobs": jobs, "data_dir": str(data_dir),
            "resolution": config.video.resolution, "num_frames": config.video.num_frames,
            "poll_interval": config.poll_interval, "timeout": config.timeout,
        }  # fmt: skip
        if config.profile and bot == "ours" and mode == "poll" and jobs == max(config.scales):
            params["profile"] = str(
                Path(tempfile.gettempdir()) / f"ltxbot-bench-ours-poll-{jobs}.prof"
            )
        if config.memory and bot == "ours" and mode == "poll" and jobs == max(config.scales):
            report = Path(tempfile.gettempdir()) / f"ltxbot-bench-ours-poll-{jobs}.memory.txt"
            report.unlink(missing_ok=True)
            params["memory"] = str(report)
        if mode in ("discord", "slack"):
            return await _platform_run(params, work, mode, jobs)
        result = await run_child(bot, params, work)
        join_fal_side(result, fal)
        return result


async def _platform_run(params: dict[str, Any], work: Path, mode: str, jobs: int) -> dict[str, Any]:
    """Our bot on a platform whose fake runs here, as Discord and Slack run elsewhere."""
    from bench.discord_path import DiscordSide
    from bench.slack_path import SlackSide

    records: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        side = DiscordSide(stack) if mode == "discord" else SlackSide(stack)
        params.update(await side.prepare(params, jobs))

        async def burst(ready: dict[str, Any]) -> None:
            if isinstance(side, DiscordSide):
                records.extend(await side.burst(params["timeout"]))
            else:
                records.extend(await side.burst(int(ready["port"]), params["timeout"]))

        result = await run_child("ours", params, work, between=burst)
    result["records"] = records
    return result


def join_fal_side(result: dict[str, Any], fal: BenchFal) -> None:
    """Add what fal saw to each job record: its own time, status requests, poll gaps."""
    for record in result["records"]:
        request_id = record.get("request_id")
        if not request_id:
            continue
        record["fal_s"] = fal.fal_seconds(request_id)
        record["status_requests"] = len(fal.status_times.get(request_id, ()))
        gaps = fal.poll_gaps(request_id)
        record["min_poll_gap_s"] = min(gaps) if gaps else None
        received = fal.received.get(request_id)
        fetched = fal.result_times.get(request_id)
        job = fal.jobs.get(request_id)
        record["followed_s"] = fetched - received if received and fetched else None
        # The job's timeline, from the command's arrival, on the one monotonic clock.
        arrived = record["arrived"]
        for key, at in (("submitted", received), ("completed", job.finished if job else None),
                        ("fetched", fetched)):  # fmt: skip
            record[f"{key}_at_s"] = at - arrived if at is not None else None
