"""A FalGateway on a running SimulatedFal: fal_client aimed at its URLs, its throw-away CA
trusted, `simulated=True` (the runner captures nothing); `aclose()` undoes the pointing.

fal_client builds a fresh httpx client for every upload and token refresh, and httpx reads
SSL_CERT_FILE each time, so the CA is trusted through that variable (a bundle of certifi's
roots, any bundle already named there, and the simulator's CA).
"""

from __future__ import annotations

from typing import Unpack

from bot.fal.gateway import FalGateway, GatewayTuning
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import point_fal_client_at
from bot.settings import Settings


def gateway_on_simulated(
    settings: Settings, fal: SimulatedFal, **options: Unpack[GatewayTuning]
) -> FalGateway:
    """The gateway the app uses without a FAL_KEY, and the tests use everywhere."""
    undo = point_fal_client_at(fal, fal.ca_file if fal.tls else None)
    try:
        return FalGateway(
            # The simulator accepts any key: never hand it a real FAL_KEY.
            key="simulated",
            model=settings.fal_model,
            queue_url=fal.queue_url,
            rest_url=fal.rest_url,
            cdn_url=fal.cdn_url,
            max_video_bytes=settings.max_video_bytes,
            simulated=True,
            start_timeout=settings.fal_start_timeout_s,
            ssl_context=fal.ssl_context() if fal.tls else None,
            on_close=undo,
            **options,
        )
    except BaseException:
        undo()
        raise
