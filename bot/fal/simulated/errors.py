"""fal's two error shapes, as its docs describe them.

Model errors (validation, content policy, unreadable inputs): HTTP 422 with
`{"detail": [{"loc", "msg", "type", "url", "ctx"?, "input"?}]}` and `X-Fal-Retryable`.
Request errors (infrastructure): `{"detail": "<sentence>", "error_type": "<category>"}` with the
same category in the `X-Fal-Error-Type` header.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.fal.simulated.wire import JSON, JSONObject

ERRORS_DOC = "https://docs.fal.ai/errors"

# error_type -> (typical HTTP status, sentence), from fal's "Request Error Types" page.
REQUEST_ERRORS: dict[str, tuple[int, str]] = {
    "request_timeout": (504, "Request timed out"),
    "startup_timeout": (504, "Runner did not start in time"),
    "runner_scheduling_failure": (503, "No runner could be allocated for the request"),
    "runner_connection_timeout": (503, "Connection to the runner timed out"),
    "runner_disconnected": (503, "Runner disconnected unexpectedly"),
    "runner_connection_refused": (503, "Runner refused the connection"),
    "runner_connection_error": (503, "Connection error with the runner"),
    "runner_incomplete_response": (502, "Runner sent an incomplete response"),
    "runner_server_error": (500, "Runner encountered an internal server error"),
    "client_disconnected": (499, "Client closed the connection"),
    "client_cancelled": (499, "Request was cancelled by the client"),
    "bad_request": (400, "Bad request"),
    "internal_error": (500, "Internal server error"),
}


def model_error_item(
    loc: Sequence[str | int], msg: str, error_type: str, **extra: JSON
) -> JSONObject:
    """One entry of a model error's `detail` list."""
    return {
        "loc": [*loc],
        "msg": msg,
        "type": error_type,
        "url": f"{ERRORS_DOC}#{error_type}",
        **extra,
    }


def model_error_body(items: Sequence[JSONObject]) -> JSONObject:
    return {"detail": [*items]}


def model_error_response(
    items: Sequence[JSONObject], *, status: int = 422, retryable: bool = False
) -> web.Response:
    return web.json_response(
        model_error_body(items),
        status=status,
        headers={"X-Fal-Retryable": "true" if retryable else "false"},
    )


def request_error_status(error_type: str) -> tuple[int, str]:
    return REQUEST_ERRORS.get(error_type, (500, error_type.replace("_", " ").capitalize()))


def request_error_response(
    error_type: str, *, detail: str | None = None, status: int | None = None
) -> web.Response:
    typical_status, sentence = request_error_status(error_type)
    return web.json_response(
        {"detail": detail or sentence, "error_type": error_type},
        status=status or typical_status,
        headers={"X-Fal-Error-Type": error_type},
    )


def detail_response(detail: str, *, status: int) -> web.Response:
    """fal's plain `{"detail": "..."}` answer (401, 404, still in progress)."""
    return web.json_response({"detail": detail}, status=status)
