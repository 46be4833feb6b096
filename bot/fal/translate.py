"""fal_client's and httpx's exceptions and statuses turned into ours (used by the gateway).

`translated` is a context manager: inside it, fal_client's HTTP errors become the sentence of
`bot.fal.answers.error_from_response`, transport trouble becomes `FalUnavailable`, and a 404 on a
request's URLs (when asked) becomes `ResultExpired`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Literal

import fal_client
import fal_client.client as fal_http
import httpx

from bot.errors import FalUnavailable, GenerationFailed, ResultExpired, SubmitOutcomeUnknown
from bot.fal.answers import error_from_response
from bot.ports import FalStatus

EXPIRED = (
    "fal no longer keeps the result of this job (it keeps finished results for an hour, "
    "large ones only 6 minutes), so the video could not be fetched"
)


class translated:
    """Turn fal_client and httpx exceptions raised inside the block into our error tree."""

    def __init__(
        self, during: str, *, expired_on_404: bool = False, start_timeout: float | None = None
    ) -> None:
        self.during = during
        self.expired_on_404 = expired_on_404
        self.start_timeout = start_timeout  # the submit's, named if fal could not start it

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:  # never swallows: raises ours in place of theirs, or lets it pass
        if exc is None or isinstance(exc, GenerationFailed):
            return False
        if isinstance(exc, fal_http.FalClientHTTPError | httpx.HTTPStatusError):
            status = exc.status_code if isinstance(exc, fal_http.FalClientHTTPError) else None
            status = status or exc.response.status_code
            if self.expired_on_404 and status in (404, 410):
                raise ResultExpired(EXPIRED) from exc
            raise from_http(exc, self.during, start_timeout=self.start_timeout) from exc
        if isinstance(exc, httpx.TransportError):
            name = type(exc).__name__
            raise FalUnavailable(f"could not reach fal while {self.during} ({name})") from exc
        if isinstance(exc, KeyError | ValueError):
            raise FalUnavailable(f"fal's answer could not be read while {self.during}") from exc
        return False


def from_http(
    exc: fal_http.FalClientHTTPError | httpx.HTTPStatusError,
    during: str,
    *,
    start_timeout: float | None = None,
) -> GenerationFailed:
    response = exc.response
    return error_from_response(
        response.status_code,
        response.headers,
        response.content,
        during=during,
        start_timeout=start_timeout,
    )


def unknown_outcome(what: str) -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown(
        f"fal may have received this request, but {what} before it answered; to make sure it "
        "is not paid twice the bot did not send it again. You were not charged; please try again."
    )


def as_fal_status(status: fal_client.Status) -> FalStatus:
    if isinstance(status, fal_client.Queued):
        return FalStatus("IN_QUEUE", queue_position=status.position)
    if isinstance(status, fal_client.InProgress):
        return FalStatus("IN_PROGRESS", logs=messages(status.logs))
    if isinstance(status, fal_client.Completed):
        return FalStatus("COMPLETED", logs=messages(status.logs), error=status.error)
    raise FalUnavailable(f"fal sent an unknown status {status!r}")


def messages(logs: Sequence[Mapping[str, object]] | None) -> tuple[str, ...]:
    return tuple(str(entry.get("message", "")) for entry in logs or () if isinstance(entry, dict))
