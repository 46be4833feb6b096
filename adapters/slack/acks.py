"""Timing Slack's acknowledgements, for the ack histogram of the metrics.

bolt hands a request through its middleware to the listener and returns from the chain as soon
as the listener has called `ack()` (the rest of the listener runs on), so the time spent in the
chain, measured from our first middleware, is the time to the ack (signature checks and
authorization, which run before it, are not counted).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

AckReport = Callable[[float], None]


def time_acks(app: AsyncApp, report: Callable[[], AckReport | None]) -> None:
    """Register, first, the middleware that calls `report()` (when set) with each ack's
    seconds; `report` is read at each request, so it may be set after the app is built."""

    @app.middleware
    async def ack_timer(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        started = time.perf_counter()
        response = await next()
        on_ack = report()
        if on_ack is not None:
            on_ack(time.perf_counter() - started)
        return response
