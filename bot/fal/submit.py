"""Submitting a paid request so that it is never sent twice.

A submit is retried only when fal certainly did not queue it: the connection was never made,
or fal answered 429 / 500 / 503. When the request may have reached fal but its answer was lost
(read timeout, connection dropped mid-answer, a proxy's 502/504, an unreadable answer),
`submit_once` raises `SubmitOutcomeUnknown`, which no retry resends: one lost video is cheaper
and more honest than a silent double charge at fal. The runner marks the job before the POST
and names it in the webhook URL, so a lost submission that fal did run is still recognised when
its webhook arrives, and a crash mid-submit is never resubmitted.
"""

from __future__ import annotations

import fal_client
import fal_client.client as fal_http
import httpx

from bot.errors import FalUnavailable
from bot.fal.translate import from_http, unknown_outcome
from bot.model import JSONObject

# Transport errors after which fal certainly did not get the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Submit answers that mean fal did not queue it, so sending again cannot double-bill.
_SAFE_SUBMIT_STATUSES = frozenset({429, 500, 503})


async def submit_once(
    fal: fal_client.AsyncClient,
    model: str,
    arguments: JSONObject,
    *,
    webhook_url: str | None,
    start_timeout: float | None = None,
) -> fal_client.AsyncRequestHandle:
    """One POST to fal's queue. Raises `FalUnavailable` only when fal certainly did not queue
    the request (so a retry is safe), `SubmitOutcomeUnknown` when it may have. `start_timeout`
    (seconds): fal_client sends it as `X-Fal-Request-Timeout`, fal's deadline for a machine to
    start the request (queue wait included; none once it runs)."""
    try:
        return await fal.submit(
            model, arguments, webhook_url=webhook_url, start_timeout=start_timeout
        )
    except fal_http.FalClientHTTPError as exc:
        error = from_http(exc, "submitting")
        if isinstance(error, FalUnavailable) and exc.status_code not in _SAFE_SUBMIT_STATUSES:
            raise unknown_outcome(f"fal answered HTTP {exc.status_code}") from exc
        raise error from exc
    except _NOT_SENT as exc:
        raise FalUnavailable(f"could not reach fal ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise unknown_outcome(f"the connection failed ({type(exc).__name__})") from exc
    except (KeyError, ValueError) as exc:
        raise unknown_outcome("fal's answer could not be read") from exc
