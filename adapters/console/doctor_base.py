"""What every check of `ltxbot doctor` is made of: its one line, and one authenticated
request that says accepted, refused or unreachable without ever printing the secret."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not set up, and nothing needs it (a platform the bot does not use)
    detail: str
    fix: str = ""
    warning: bool = False  # shown as a warning (with its fix); the exit code stays 0


async def authenticated(
    name: str, method: str, url: str, headers: dict[str, str], setting: str, fix: str
) -> tuple[Check, httpx.Response | None]:
    """One authenticated request: accepted (2xx), refused (401/403), or unreachable; with the
    answer when there was one (for what else it tells: a body, scopes, the Date)."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.request(method, url, headers=headers)
    except httpx.HTTPError as problem:
        host = httpx.URL(url).host
        return Check(name, False, f"cannot reach {host} ({type(problem).__name__})",
                     "check the network, and SSL_CERT_FILE if set"), None  # fmt: skip
    if response.status_code in (401, 403):
        return Check(name, False, f"{setting} refused ({response.status_code})", fix), response
    if response.is_success:
        return Check(name, True, f"{setting} accepted by {httpx.URL(url).host}"), response
    return Check(name, False, f"{httpx.URL(url).host} answered {response.status_code}",
                 "try again later"), response  # fmt: skip
