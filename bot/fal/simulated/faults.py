"""Switches that make the simulated fal misbehave the way the real one sometimes does.

Counters (`*_next`) are consumed one per matching request; booleans and strings stay on until a
test turns them off. Each fault belongs to one route, named in its comment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    """Every switch is off by default; mutate the instance at run time (`fal.faults.x = ...`)."""

    # Every route: sleep this long before answering.
    latency_seconds: float = 0.0
    # Queue routes (submit, status, status stream, result, cancel): the next N requests get
    # 429 + Retry-After.
    rate_limit_next: int = 0
    retry_after_seconds: int = 1
    # Queue routes: the next N requests get 500 with fal's request-error body.
    server_error_next: int = 0
    # Queue routes: the next N requests see the socket closed without an answer.
    drop_connection_next: int = 0
    # Submit: accept and enqueue the next N submits, then close the socket before answering
    # (fal_client retries transport errors, so the job is submitted twice). True counts as 1.
    lose_submit_response: int = 0
    # Submit: answer 422 with a pydantic-style detail list (num_frames out of range).
    validation_error: bool = False
    # Queue: jobs count down to this position and stay there (a fal with no machine free).
    # One submitted with a start timeout ends unstarted when it passes (`finish()` skips to
    # that moment); one without waits until the fault is lowered or `finish()` starts it.
    hold_in_queue_at: int | None = None
    # Job end: the run fails as a content-policy rejection (422 detail on body.prompt).
    safety_rejection: bool = False
    # Job end: the run fails with this request error_type, e.g. "runner_disconnected".
    run_error: str | None = None
    # Job end: the run fails with "runner_disconnected" for requests with one of these seeds
    # (one take of several fails, the others render).
    run_error_seeds: frozenset[int] = frozenset()
    # Job end: render this width x height (or this many frames) instead of what was asked,
    # while x-fal-billable-units still bills what was asked, as fal may.
    render_size: tuple[int, int] | None = None
    render_frames: int | None = None
    # Result: send this x-fal-billable-units verbatim (more than asked, or malformed).
    billable_units: str | None = None
    # Result: send no x-fal-billable-units header at all.
    omit_billable_units: bool = False
    # Result: 200 with a body that is not JSON.
    bad_json_result: bool = False
    # Result: 200 JSON without the "video" key.
    missing_video: bool = False
    # Result: answer as fal does for a request it no longer knows.
    result_expired: bool = False
    # CDN file GET of a rendered video: 404.
    video_404: bool = False
    # CDN file GET of a rendered video: Content-Length larger than the bytes sent.
    truncated_video: bool = False
    # Status stream: the next N streams send their first event, then the socket is closed.
    drop_stream_next: int = 0
    # Status stream: answer 404 as a fal without the endpoint would (polling still works).
    stream_missing: bool = False
    # Storage uploads (CDN v3 upload and the token endpoint): the next N get 500.
    upload_error_next: int = 0

    def take(self, name: str) -> bool:
        """Consume one unit of the counter `name`; True when the fault fires."""
        remaining = int(getattr(self, name))
        if remaining <= 0:
            return False
        setattr(self, name, remaining - 1)
        return True
