"""Turn the joined records into figures, judge them against the issue's targets, print them.

Overhead is the bot's share of a job's time: end to end (the command arrived -> the poster
had the video) minus fal's time (submit received -> COMPLETED) minus transfer (sheet upload
and video download, timed around the transfers themselves). It therefore includes the ack,
the wait between fal finishing and the bot noticing, the ledger and the probe.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.config import Config
from bench.wiring import percentile

KIB_PER_MIB = 1024


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Figures for one scenario (one bot, one mode, one burst size)."""
    records = result["records"]
    jobs = result["jobs"]
    acks = [r["ack_s"] for r in records if r.get("ack_s") is not None]
    summary: dict[str, Any] = {
        "bot": result["bot"], "mode": result["mode"], "jobs": jobs,
        "ack_p50_ms": 1000 * (percentile(acks, 0.5) or 0),
        "ack_p99_ms": 1000 * (percentile(acks, 0.99) or 0),
        "burst_s": result["burst_s"], "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
        "rss_base_mib": result["rss_base_kib"] / KIB_PER_MIB,
        "peak_rss_mib": result["peak_rss_kib"] / KIB_PER_MIB,
        "peak_reset": result["peak_reset"],
    }  # fmt: skip
    answers = [r["answer_s"] for r in records if r.get("answer_s") is not None]
    if answers:
        summary["answer_p50_ms"] = 1000 * (percentile(answers, 0.5) or 0)
        summary["answer_p99_ms"] = 1000 * (percentile(answers, 0.99) or 0)
    if result["mode"] in ("discord", "slack"):
        summary["refused"] = sum(1 for r in records if r.get("refusal"))
        return summary
    done = [r for r in records if r.get("e2e_s") is not None and not r.get("failure")]
    timed = [r for r in done if r.get("fal_s") is not None]
    e2e = [r["e2e_s"] for r in timed]
    overhead = [r["e2e_s"] - r["fal_s"] - r["transfer_s"] for r in timed]
    status = [r.get("status_requests", 0) for r in done]
    followed = [r["followed_s"] for r in done if r.get("followed_s")]
    gaps = [r["min_poll_gap_s"] for r in done if r.get("min_poll_gap_s") is not None]
    noticed = [r["fetched_at_s"] - r["completed_at_s"] for r in timed if r.get("fetched_at_s")]
    growth_kib = max(0, result["peak_rss_kib"] - result["rss_base_kib"])
    summary.update(
        delivered=len(done),
        failed=jobs - len(done),
        failures=sorted({str(r.get("failure") or r.get("refusal") or "") for r in records} - {""}),
        e2e_mean_s=_mean(e2e),
        fal_mean_s=_mean([r["fal_s"] for r in timed]),
        transfer_mean_s=_mean([r["transfer_s"] for r in timed]),
        overhead_mean_s=_mean(overhead),
        overhead_p99_s=percentile(overhead, 0.99),
        overhead_pct=100 * sum(overhead) / sum(e2e) if e2e else None,
        noticed_after_s=_mean(noticed),
        cpu_per_job_s=result["cpu_s"] / max(1, len(done)),
        jobs_per_cpu_s=len(done) / result["cpu_s"] if result["cpu_s"] else None,
        rss_growth_mib=growth_kib / KIB_PER_MIB,
        rss_per_inflight_kib=growth_kib / max(1, jobs),
        most_in_flight=result.get("most_in_flight"),
        rss_per_waiting_job_kib=result.get("rss_per_waiting_job_kib"),
        rss_per_job_kib=growth_kib / max(1, len(done)),
        status_requests=sum(status),
        status_per_job=_mean([float(s) for s in status]),
        status_per_2s=2 * sum(status) / sum(followed) if followed else None,
        min_poll_gap_s=min(gaps) if gaps else None,
    )
    return summary


def find(summaries: list[dict[str, Any]], bot: str, mode: str, jobs: int) -> dict[str, Any] | None:
    for summary in summaries:
        if (summary["bot"], summary["mode"], summary["jobs"]) == (bot, mode, jobs):
            return summary
    return None


def ratio(ours: float | None, base: float | None) -> float | None:
    if ours is None or base is None or base == 0:
        return None
    return ours / base


METRICS = (
    ("ack_p50_ms", "ack p50 (ms)"),
    ("ack_p99_ms", "ack p99 (ms)"),
    ("e2e_mean_s", "end to end, mean (s)"),
    ("fal_mean_s", "  of which fal (s)"),
    ("transfer_mean_s", "  of which transfer (s)"),
    ("overhead_mean_s", "  bot overhead, mean (s)"),
    ("overhead_pct", "  bot overhead (% of e2e)"),
    ("noticed_after_s", "fal done -> bot fetched (s)"),
    ("cpu_per_job_s", "CPU per job (s)"),
    ("jobs_per_cpu_s", "jobs per CPU-second"),
    ("peak_rss_mib", "peak RSS (MiB)"),
    ("rss_per_inflight_kib", "peak RSS growth / jobs (KiB)"),
    ("most_in_flight", "most jobs in flight at once"),
    ("rss_per_waiting_job_kib", "RSS per job in flight (KiB)"),
    ("status_per_job", "status requests per job"),
    ("status_per_2s", "status requests per 2 s"),
    ("min_poll_gap_s", "closest two polls (s)"),
    ("failed", "jobs failed"),
)


def waiting_text(summaries: list[dict[str, Any]], config: Config) -> str:
    """The memory of jobs in flight: every job of a burst waiting at fal at once."""
    jobs = config.waiting_scale
    ours = find(summaries, "ours", "waiting", jobs) or {}
    base = find(summaries, "naive", "poll", max(config.scales)) or {}
    if not ours:
        return "memory in flight: not measured"
    share = ratio(ours.get("rss_per_waiting_job_kib"), base.get("rss_per_waiting_job_kib"))
    return (
        f"memory in flight ({jobs} jobs, fal renders each {config.waiting_generation_seconds:g} "
        f"s): ours {fmt(ours.get('rss_per_waiting_job_kib'))} KiB per job with "
        f"{ours.get('most_in_flight') or '-'} in flight at once, baseline "
        f"{fmt(base.get('rss_per_waiting_job_kib'))} KiB with {base.get('most_in_flight') or '-'} "
        f"(ours/base {fmt(share)}); {ours.get('failed', '-')} and {base.get('failed', '-')} failed"
    )


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"


def table(summaries: list[dict[str, Any]], scales: tuple[int, ...], webhooks: bool) -> str:
    head = ["metric", "jobs", "ours(poll)"] + (["ours(hook)"] if webhooks else [])
    head += ["baseline", "poll/base"] + (["hook/base"] if webhooks else [])
    rows = [head]
    for key, label in METRICS:
        for jobs in scales:
            poll = find(summaries, "ours", "poll", jobs) or {}
            hook = find(summaries, "ours", "webhook", jobs) or {}
            base = find(summaries, "naive", "poll", jobs) or {}
            row = [label, str(jobs), fmt(poll.get(key))]
            if webhooks:
                row.append(fmt(hook.get(key)))
            row += [fmt(base.get(key)), fmt(ratio(poll.get(key), base.get(key)))]
            if webhooks:
                row.append(fmt(ratio(hook.get(key), base.get(key))))
            rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
