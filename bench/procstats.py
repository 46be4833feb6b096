"""What this process costs, read from the kernel: CPU seconds, resident and peak memory, and
the machine it runs on. No psutil: `resource` and /proc are enough on Linux."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
from collections.abc import Callable
from pathlib import Path
from statistics import median

STATUS = Path("/proc/self/status")


def cpu_seconds() -> float:
    """User + system CPU of this process, all its threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_kib(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_kib() -> int:
    """Resident memory now (VmRSS), in KiB."""
    return _status_kib("VmRSS") or 0


def peak_rss_kib() -> int:
    """Peak resident memory since start or the last `reset_peak()` (VmHWM), in KiB."""
    peak = _status_kib("VmHWM")
    if peak is None:  # no /proc: ru_maxrss is KiB on Linux and never resets
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak


def reset_peak() -> bool:
    """Make VmHWM start again from the current RSS (Linux >= 4.0); False when not possible,
    in which case the peak includes everything before (the figures say so)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def machine() -> dict[str, object]:
    """nproc, CPU model, memory and Python: printed beside every result."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mib": mem_kib // 1024 if mem_kib else None,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class InFlightMemory:
    """Resident memory beside the number of jobs in flight, looked at every `every` seconds.

    While the most jobs are in flight (the plateau), the median of (RSS - base) / jobs is the
    cost of a job in flight. The median, because the look at which the first job ends may
    still count them all while its download and probe begin."""

    def __init__(self, in_flight: Callable[[], int], base_kib: int, every: float = 0.25) -> None:
        self.in_flight, self.base_kib, self.every = in_flight, base_kib, every
        self.looks: list[tuple[int, int]] = []  # (jobs in flight, KiB above the base)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            self.looks.append((self.in_flight(), max(0, rss_kib() - self.base_kib)))
            await asyncio.sleep(self.every)

    def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
        most = max((count for count, _ in self.looks), default=0)
        if not most:
            return {"most_in_flight": 0, "rss_per_waiting_job_kib": 0.0}
        plateau = [kib for count, kib in self.looks if count == most]
        return {"most_in_flight": most, "rss_per_waiting_job_kib": median(plateau) / most}
