"""`SimulatedFal`'s keywords as one type, for callers that pass them along (the app's root)."""

from __future__ import annotations

import ssl
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

from bot.fal.simulated.faults import Faults


class SimulatedFalOptions(TypedDict, total=False):
    generation_seconds: float
    queue_seconds: float
    tls: bool
    host: str
    port: int
    faults: Faults | None
    public_url: str | None
    data_dir: Path | None
    api_key: str | None
    honour_running_cancel: bool
    webhook_attempts: int
    webhook_first_delay: float
    webhook_ssl_context: ssl.SSLContext | None
    seed: int | None
    admin_key: str | None
    unit_price: Decimal
