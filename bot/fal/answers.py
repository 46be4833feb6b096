"""fal's error answers turned into `GenerationFailed` sentences a chat user can read.

fal speaks two error shapes (docs: "Model errors" and "Request errors"):
- model errors: HTTP 422 `{"detail": [{"loc", "msg", "type", ...}]}`; `type` is
  `content_policy_violation` for safety refusals. Never worth retrying.
- request errors: `{"detail": "<sentence>", "error_type": "<category>"}` plus the
  `X-Fal-Error-Type` header (runner_disconnected, request_timeout, ...).
- a request no machine started before the submit's start timeout (`X-Fal-Request-Timeout`):
  HTTP 504 with `X-Fal-Request-Timeout-Type: user` (docs: "Common parameters"; fal_client reads
  that header to tell the caller's own deadline from a gateway timeout). Nothing ran: not billed.

This module knows nothing of fal_client or httpx, so the webhook receiver (which gets the same
shapes inside its payload) and the gateway share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bot.errors import FalUnavailable, GenerationFailed
from bot.model import JSON, Payload

CONTENT_POLICY = "content_policy_violation"

# Request error types that describe how the run itself ended: asking again returns the same.
RUN_ERROR_TYPES = frozenset(
    {
        "request_timeout",
        "startup_timeout",
        "runner_scheduling_failure",
        "runner_connection_timeout",
        "runner_disconnected",
        "runner_connection_refused",
        "runner_connection_error",
        "runner_incomplete_response",
        "runner_server_error",
        "client_disconnected",
        "client_cancelled",
        "bad_request",
    }
)
_RUN_ERROR_SENTENCES = {
    "request_timeout": "the generation took longer than fal allows",
    "startup_timeout": "fal could not start a machine for it in time",
    "runner_scheduling_failure": "fal had no machine free to run it",
    "runner_disconnected": "fal's machine disconnected while rendering",
    "client_cancelled": "it was cancelled",
}
NOT_CHARGED = "Nothing was charged."
# fal's header on the 504 that ends a request whose start timeout passed ("user": ours).
TIMEOUT_TYPE_HEADER = "x-fal-request-timeout-type"


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (the delta form; dates are rare and ignored)."""
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    during: str,
    start_timeout: float | None = None,
) -> GenerationFailed:
    """The error for one non-2xx answer from fal; `during` names the step ("submitting"),
    `start_timeout` the seconds the submit gave fal to start the request (for the sentence)."""
    if status == 504 and _header(headers, TIMEOUT_TYPE_HEADER):
        return not_started(start_timeout, detail=_short(body))
    parsed = _json_or_none(body)
    detail = parsed.get("detail") if isinstance(parsed, dict) else None
    error_type = (parsed.get("error_type") if isinstance(parsed, dict) else None) or _header(
        headers, "x-fal-error-type"
    )
    raw = _short(body)
    if isinstance(detail, list) and detail:
        return model_error(detail, raw=raw)
    if status == 429:
        return FalUnavailable(
            f"fal is rate limiting us (HTTP 429) while {during}",
            retry_after=parse_retry_after(headers),
            detail=raw,
        )
    if isinstance(error_type, str) and error_type in RUN_ERROR_TYPES:
        return run_error(error_type, detail if isinstance(detail, str) else None)
    if status >= 500 or status == 408:
        return FalUnavailable(
            f"fal had a server problem (HTTP {status}{_typed(error_type)}) while {during}",
            retry_after=parse_retry_after(headers),
            detail=raw,
        )
    text = detail if isinstance(detail, str) else raw
    return GenerationFailed(
        f"fal refused the request while {during} (HTTP {status}): {text}", detail=raw
    )


def model_error(items: Sequence[object], *, raw: str | None = None) -> GenerationFailed:
    """A 422-style detail list: content policy first, else every field with its message."""
    dicts = [item for item in items if isinstance(item, dict)]
    if any(item.get("type") == CONTENT_POLICY for item in dicts):
        flagged = ", ".join(_field(item) for item in dicts if item.get("type") == CONTENT_POLICY)
        return GenerationFailed(
            f"fal's content checker refused this request ({flagged}). "
            f"Try a different prompt or reference sheet. {NOT_CHARGED}",
            detail=raw,
        )
    problems = [f"{_field(item)}: {item.get('msg', 'invalid')}" for item in dicts]
    if not problems:
        problems = [str(item) for item in items]
    return GenerationFailed(
        "fal did not accept the request: " + "; ".join(problems) + f". {NOT_CHARGED}",
        detail=raw,
    )


def run_error(error_type: str, detail: str | None = None) -> GenerationFailed:
    why = _RUN_ERROR_SENTENCES.get(error_type) or (detail or error_type.replace("_", " "))
    return GenerationFailed(
        f"fal could not finish the video: {why} ({error_type}). {NOT_CHARGED}", detail=detail
    )


def not_started(start_timeout: float | None, *, detail: str | None = None) -> GenerationFailed:
    """fal gave up on a request still waiting for a machine when its start timeout passed."""
    within = f"within {_duration(start_timeout)}" if start_timeout else "in the time allowed"
    return GenerationFailed(
        f"fal could not start this video {within}; nothing was charged.", detail=detail
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:.1f}".removesuffix(".0") + " min"


def error_from_webhook(body: Mapping[str, object]) -> GenerationFailed:
    """The failure carried by a webhook whose status is ERROR."""
    payload = body.get("payload")
    if isinstance(payload, dict):
        detail = payload.get("detail")
        if isinstance(detail, list) and detail:
            return model_error(detail, raw=_short(json.dumps(payload)))
        error_type = payload.get("error_type")
        if isinstance(error_type, str):
            return run_error(error_type, detail if isinstance(detail, str) else None)
    reason = body.get("error") or body.get("payload_error") or "unknown error"
    return GenerationFailed(f"fal could not finish the video: {reason}. {NOT_CHARGED}")


def _field(item: Payload) -> str:
    loc = [str(part) for part in item.get("loc") or [] if part != "body"]
    return ".".join(loc) or "request"


def _typed(error_type: object) -> str:
    return f", {error_type}" if error_type else ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _json_or_none(body: bytes | str) -> JSON:
    try:
        parsed: JSON = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed


def _short(body: bytes | str, limit: int = 500) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text if len(text) <= limit else text[:limit] + "..."
