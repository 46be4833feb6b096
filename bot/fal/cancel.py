"""Asking fal to cancel a request, and reading its answer as accepted or not.

fal answers 202 CANCELLATION_REQUESTED to a running request too, but then the run may still
finish (and be billed), so a cancel is confirmed only for a request that was queued when it
looked before asking and had not started when it looked again after (`confirmed_cancel`, used
by `FalGateway.cancel`): a request that started in between would otherwise be released while
fal renders and bills it. `ask_to_cancel` reads fal's answer to the PUT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import fal_client

from bot.errors import GenerationFailed
from bot.fal.answers import error_from_response
from bot.fal.translate import translated
from bot.ports import FalStatus


async def confirmed_cancel(
    look: Callable[[], Awaitable[FalStatus]], ask: Callable[[], Awaitable[bool]]
) -> bool:
    """True only when fal accepted the cancel of a request that was queued before and after
    the ask; False when it may still render (running, completed, or unknown)."""
    try:
        before: FalStatus | None = await look()
    except GenerationFailed:
        before = None  # unknown: still ask fal to cancel, but confirm nothing
    if before is not None and before.state == "COMPLETED":
        return False
    try:
        accepted = await ask()
    except GenerationFailed:
        return False
    if not accepted or before is None or before.state != "IN_QUEUE":
        return False
    try:
        after = await look()
    except GenerationFailed:
        return False  # unknown: the caller follows the request to its end
    # COMPLETED here is the cancel taking effect (no render finishes that fast).
    return after.state != "IN_PROGRESS"


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
