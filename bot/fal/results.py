"""Fetch a finished request's result: the JSON and fal's `x-fal-billable-units` header (which
fal_client's `get()` drops), through the gateway's pooled aiohttp session for the queue, which
costs a fraction of an httpx request's CPU per job."""

from __future__ import annotations

import json

import aiohttp

from bot.errors import FalUnavailable, GenerationFailed, ResultExpired
from bot.fal.answers import error_from_response
from bot.fal.translate import EXPIRED
from bot.ports import FalResult

DURING = "fetching the result"


async def fetch_result(
    session: aiohttp.ClientSession, url: str, *, timeout: float, start_timeout: float | None = None
) -> FalResult:
    """One GET of the result; raises our errors (FalUnavailable for what a retry may cure).
    `start_timeout`: the submit's, named when fal says it could not start the request."""
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            status, headers, body = response.status, response.headers, await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FalUnavailable(f"could not reach fal while {DURING} ({type(exc).__name__})") from exc
    if status in (404, 410):
        raise ResultExpired(EXPIRED)
    if status >= 400:
        raise error_from_response(status, headers, body, during=DURING, start_timeout=start_timeout)
    try:
        payload = json.loads(body)
    except ValueError:
        raise GenerationFailed("fal returned a result that is not valid JSON") from None
    if not isinstance(payload, dict):
        raise GenerationFailed("fal returned a result that is not a JSON object")
    return FalResult(payload, headers.get("x-fal-billable-units"))
