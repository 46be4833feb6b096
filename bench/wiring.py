"""What both bench bots share: the simulated fal seen from another process, the request they
send, and the clock."""

from __future__ import annotations

import math
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "examples" / "chef-sheet.png"
PROMPT = (
    "Reference sheet: a chef in a white jacket, a copper pan, fresh basil, and a bright studio "
    "kitchen. Generated video: the chef tosses pasta in the copper pan, steam rising."
)
now = time.monotonic  # CLOCK_MONOTONIC: one clock for every process on the machine


@dataclass(frozen=True)
class FalView:
    """A SimulatedFal running in the harness process, as `gateway_on_simulated` and
    `point_fal_client_at` read it (URLs, TLS and its CA file)."""

    queue_url: str
    rest_url: str
    cdn_url: str
    jwks_url: str
    ca_file: Path
    tls: bool = True

    @classmethod
    def of(cls, endpoints: dict[str, Any]) -> FalView:
        return cls(
            queue_url=endpoints["queue_url"],
            rest_url=endpoints["rest_url"],
            cdn_url=endpoints["cdn_url"],
            jwks_url=endpoints["jwks_url"],
            ca_file=Path(endpoints["ca_file"]),
        )

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def options(params: dict[str, Any]) -> dict[str, Any]:
    """The generate options every job of the run uses (the shape of the pre-rendered MP4)."""
    return {
        "prompt": PROMPT,
        "resolution": params["resolution"],
        "num_frames": params["num_frames"],
    }


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(round(share * len(ordered), 9))))
    return ordered[rank - 1]
