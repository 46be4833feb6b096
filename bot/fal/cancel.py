"""Asking fal to cancel a request, and reading its answer as accepted or not.

fal answers 202 CANCELLATION_REQUESTED to a running request too, but then the run may still
finish (and be billed), so the gateway confirms a cancel only for a request that was still
queued when it looked (`FalGateway.cancel`); this module reads fal's answer to the PUT.
"""

from __future__ import annotations

import fal_client

from bot.fal.answers import error_from_response
from bot.fal.translate import translated


async def ask_to_cancel(handle: fal_client.AsyncRequestHandle, *, timeout: float) -> bool:
    """One PUT of the request's cancel URL: False when fal says it is already completed or
    unknown; on 429 and 5xx raises fal's error (`FalUnavailable` when a retry may cure it)."""
    with translated("cancelling"):
        response = await handle.client.put(handle.cancel_url, timeout=timeout)
    if response.status_code == 429 or response.status_code >= 500:
        raise error_from_response(
            response.status_code, response.headers, response.content, during="cancelling"
        )
    if response.status_code >= 300:
        return False  # ALREADY_COMPLETED (400) or NOT_FOUND (404)
    try:
        answer: object = response.json().get("status")
    except (ValueError, AttributeError):
        answer = None
    return answer != "ALREADY_COMPLETED"
