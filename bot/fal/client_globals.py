"""fal_client's module globals, aimed at the fal the gateway talks to (real or simulated)."""

from __future__ import annotations

import fal_client.client as fal_http


def point_fal_client(*, queue_url: str, rest_url: str, cdn_url: str) -> None:
    """Aim fal_client's module globals at the given fal (real or simulated).

    fal_client reads its queue host when imported and keeps the storage and CDN URLs as module
    globals, so the gateway sets them here. It also turns fal_client's own retry loop off.
    """
    fal_http.QUEUE_URL_FORMAT = queue_url.rstrip("/") + "/"
    fal_http.REST_URL = rest_url.rstrip("/")
    fal_http.CDN_URL = cdn_url.rstrip("/")
    fal_http.MAX_ATTEMPTS = 1
