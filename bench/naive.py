"""The baseline: what fal-client's quick-start shows, as a bot would naturally wrap it.

Per command: read the attachment, then one thread per job that calls `fal_client.upload`,
then the blocking `fal_client.subscribe(..., with_logs=True, on_queue_update=...)` (default
0.1 s polling, fal_client's own retries), then `httpx.get(url).content`: the whole video in
memory. The ack is sent once the thread is started. Same simulated fal, same sheet, same video.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.procstats import InFlightMemory, cpu_seconds, peak_rss_kib, reset_peak, rss_kib
from bench.wiring import SHEET, FalView, now, options

MODEL = "fal-ai/ltx-2.3-quality/ingredient"


def naive_job(data: bytes, arguments: dict[str, Any]) -> dict[str, Any]:
    """The quick-start, verbatim in spirit; runs in its own thread."""
    import fal_client
    import httpx

    started = now()
    url = fal_client.upload(data, "image/png", "sheet.png")
    transfer = now() - started
    request_ids: list[str] = []
    lines: list[str] = []

    def on_queue_update(update: Any) -> None:
        if isinstance(update, fal_client.InProgress):
            for log in update.logs:  # the quick-start prints these
                lines.append(log["message"])

    result = fal_client.subscribe(
        MODEL,
        arguments={**arguments, "image_url": url},
        with_logs=True,
        on_enqueue=request_ids.append,
        on_queue_update=on_queue_update,
    )
    fetch = now()
    video = httpx.get(result["video"]["url"]).content
    transfer += now() - fetch
    return {"request_id": request_ids[0], "transfer_s": transfer, "bytes": len(video),
            "ended": now()}  # fmt: skip


async def _burst(
    pool: ThreadPoolExecutor, params: dict[str, Any], count: int, running: list[int] | None = None
) -> tuple[list[dict[str, Any]], list[asyncio.Future[dict[str, Any]]]]:
    loop = asyncio.get_running_loop()
    arguments = options(params)
    width, height = (int(n) for n in params["resolution"].split("x"))
    arguments["resolution"] = {"width": width, "height": height}
    start = now()
    records: list[dict[str, Any]] = []
    futures: list[asyncio.Future[dict[str, Any]]] = []

    def ended(_: Any) -> None:
        if running is not None:
            running[0] -= 1

    async def one() -> None:
        data = await asyncio.to_thread(SHEET.read_bytes)
        future = loop.run_in_executor(pool, naive_job, data, arguments)
        if running is not None:
            running[0] += 1
        future.add_done_callback(ended)
        futures.append(future)
        records.append({"ack_s": now() - start, "arrived": start})

    await asyncio.gather(*(one() for _ in range(count)))
    return records, futures


async def run(params: dict[str, Any]) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    from bot.fal.simulated.client_setup import point_fal_client_at

    os.environ["FAL_KEY"] = "simulated"  # the simulator accepts any key
    point_fal_client_at(FalView.of(params["fal"]), FalView.of(params["fal"]).ca_file)
    mode, jobs = params["mode"], int(params["jobs"])
    pool = ThreadPoolExecutor(max_workers=max(jobs, 1))  # one thread per job in flight
    _, warm = await _burst(pool, params, 1)
    await asyncio.wait_for(asyncio.gather(*warm), params["timeout"])
    rss_base, peak_reset = rss_kib(), reset_peak()
    cpu_before, started = cpu_seconds(), now()
    running = [0]  # jobs started and not ended: the naive bot's in-flight jobs
    sampler = InFlightMemory(lambda: running[0], rss_base)
    sampler.start()
    records, futures = await _burst(pool, params, jobs, running)
    acked = now()
    outcomes = await asyncio.wait_for(
        asyncio.gather(*futures, return_exceptions=True), params["timeout"]
    )
    for record, outcome in zip(records, outcomes, strict=True):
        arrived = record["arrived"]
        if isinstance(outcome, BaseException):
            record.update(request_id=None, failure=repr(outcome), e2e_s=None, transfer_s=0)
        else:
            ended = outcome.pop("ended")
            record.update(outcome, e2e_s=ended - arrived, failure="")
    cpu, wall, peak = cpu_seconds() - cpu_before, now() - started, peak_rss_kib()
    in_flight = sampler.stop()
    return {
        "bot": "naive", "mode": mode, "jobs": jobs, "records": records, "cpu_s": cpu,
        "wall_s": wall, "burst_s": acked - started, "rss_base_kib": rss_base,
        "peak_rss_kib": peak, "peak_reset": peak_reset,
        **in_flight,
    }  # fmt: skip
