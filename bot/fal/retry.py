"""How the gateway retries fal: bounded, exponential backoff with jitter, honouring Retry-After.

fal_client's own loop (10 tries, 429 without Retry-After, 500 never) is switched off by the
gateway; every retry decision is made here, with tenacity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from bot.errors import FalUnavailable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` counts the first try; waits grow from `initial_wait` to `max_wait` seconds."""

    attempts: int = 6
    initial_wait: float = 1.0
    max_wait: float = 30.0
    max_retry_after: float = 120.0  # a Retry-After longer than this is capped, not obeyed


def _is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, FalUnavailable)


async def with_retries(
    policy: RetryPolicy,
    call: Callable[[], Awaitable[T]],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call` until it succeeds, raises something other than FalUnavailable, or the
    attempts run out (then the last FalUnavailable is raised, its sentence saying so)."""
    # Exponential from initial_wait up to max_wait, plus up to initial_wait of jitter (spelled
    # with the two waits every tenacity >= 8.2 has; wait_exponential_jitter renamed its args).
    backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
        0, policy.initial_wait
    )

    def wait(state: RetryCallState) -> float:
        delay = backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, min(retry_after, policy.max_retry_after))
        return delay

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception(_is_unavailable),
        reraise=True,
        sleep=sleep,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await call()
    except FalUnavailable as exc:
        if policy.attempts > 1:
            exc.reason = f"{exc.reason}, and it did not recover after {policy.attempts} tries"
            exc.args = (exc.reason,)
        raise
    raise AssertionError("unreachable")  # pragma: no cover
