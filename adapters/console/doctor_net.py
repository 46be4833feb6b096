"""`ltxbot doctor`'s network checks: the public webhook URL answers from here, and this
machine's clock agrees with fal's (the HTTP Date of its answer) within `MAX_SKEW`."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import httpx

from adapters.console.doctor_base import TIMEOUT, Check
from bot.settings import Settings

MAX_SKEW = 30.0  # seconds; Date has whole seconds, so less would flag a good clock


async def webhook_check(settings: Settings) -> Check:
    """fal posts results to LTXBOT_PUBLIC_BASE_URL/fal/webhook: a GET there reaches the
    route when it answers anything but 404 (the bot's POST-only route says 405); no answer,
    or a 404, is the failure."""
    if not settings.public_base_url:
        return Check("webhook", None, "LTXBOT_PUBLIC_BASE_URL not set: jobs are followed by "
                     "fal's status stream and polling")  # fmt: skip
    url = settings.public_base_url.rstrip("/") + "/fal/webhook"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.get(url)
    except httpx.HTTPError as problem:
        fix = "start `ltxbot run` where LTXBOT_PUBLIC_BASE_URL points, or unset it"
        return Check("webhook", False, f"{url} cannot be reached ({type(problem).__name__})", fix)
    if answer.status_code == 404:  # a server, but not one serving the bot's webhook route
        return Check("webhook", False, f"{url} answers 404: not ltxbot's webhook",
                     "point LTXBOT_PUBLIC_BASE_URL at the server `ltxbot run` serves, or "
                     "unset it")  # fmt: skip
    return Check("webhook", True, f"{url} answers (HTTP {answer.status_code})")


async def clock_check(settings: Settings) -> Check:
    if settings.use_simulated_fal:
        return Check("clock", None, "not compared (no FAL_KEY: fal is not asked)")
    url = settings.fal_rest_url.rstrip("/") + "/"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            sent = time.time()
            answer = await client.get(url)
            here = (sent + time.time()) / 2  # the moment fal most likely stamped it
    except httpx.HTTPError as problem:
        return Check("clock", False, f"cannot reach {httpx.URL(url).host} "
                     f"({type(problem).__name__})", "check the network")  # fmt: skip
    stamp = answer.headers.get("date")
    if stamp is None:
        return Check("clock", None, f"{httpx.URL(url).host} sent no Date to compare with")
    skew = here - parsedate_to_datetime(stamp).timestamp()
    shown = f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} fal's"
    if abs(skew) > MAX_SKEW:
        return Check("clock", False, f"{shown} (more than {MAX_SKEW:.0f} s)",
                     "sync the clock (NTP: `timedatectl set-ntp true`); caps reset and "
                     "Slack's signatures expire by it", warning=True)  # fmt: skip
    return Check("clock", True, f"within {MAX_SKEW:.0f} s of fal's ({shown})")
