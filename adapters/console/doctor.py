"""`ltxbot doctor`: one line per check, green or red with the fix; exit 1 if any fails.

Each check is cheap and safe: fal's key is tried on fal storage's token endpoint (authenticated,
free, and served by the simulated fal too), the admin key on the platform API's price list,
Discord's token on `/users/@me`. No secret is printed: only whether it was accepted.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.console.exit_codes import EXIT_FAILED, EXIT_OK
from adapters.console.output import Output
from bot.errors import LtxbotError
from bot.settings import Settings, load_settings

MIN_FREE_BYTES = 1 << 30  # a few hundred videos of a few MB, and the database
TIMEOUT = httpx.Timeout(10.0)
GREEN, RED, DIM, RESET = "\033[32m", "\033[31m", "\033[2m", "\033[0m"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not set up, and nothing needs it (a platform the bot does not use)
    detail: str
    fix: str = ""


async def doctor(output: Output) -> int:
    try:
        settings = load_settings()
    except LtxbotError as problem:
        _show(output, Check("settings", False, str(problem), "correct the setting named"))
        return EXIT_FAILED
    _show(output, Check("settings", True, "read from the environment and .env"))
    checks: list[Callable[[Settings], Awaitable[Check]]] = [
        _data_dir,
        _database,
        _fal_key,
        _admin_key,
        _discord,
        _slack,
    ]
    failed = False
    for check in checks:
        result = await check(settings)
        failed |= result.ok is False
        _show(output, result)
    return EXIT_FAILED if failed else EXIT_OK


def _show(output: Output, check: Check) -> None:
    output.data({"check": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix})
    mark = {True: f"{GREEN}✓", False: f"{RED}✗", None: f"{DIM}-"}[check.ok]
    fix = f" — {check.fix}" if check.fix and check.ok is False else ""
    line = f"{mark} {check.name}{RESET}: {check.detail}{fix}"
    output.say(line if output.out.isatty() else _plain(line))


def _plain(line: str) -> str:
    for code in (GREEN, RED, DIM, RESET):
        line = line.replace(code, "")
    return line


async def _data_dir(settings: Settings) -> Check:
    where = settings.data_dir
    try:
        free = await asyncio.to_thread(_writable_free_bytes, where)
    except OSError as problem:
        why = problem.strerror or type(problem).__name__
        return Check("data dir", False, f"{where}: not writable ({why})",
                     "set LTXBOT_DATA_DIR to a directory you can write")  # fmt: skip
    room = f"{free / (1 << 30):.1f} GiB free"
    if free < MIN_FREE_BYTES:
        return Check("data dir", False, f"{where}: {room}", "free some space (1 GiB or more)")
    return Check("data dir", True, f"{where}: writable, {room}")


def _writable_free_bytes(where: Path) -> int:
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=where, prefix=".doctor-"):
        pass
    return shutil.disk_usage(where).free


async def _database(settings: Settings) -> Check:
    from adapters.app.health import database_ready

    try:
        return Check("database", True, await database_ready(settings))
    except LtxbotError as problem:
        return Check("database", False, str(problem), "correct LTXBOT_DATABASE_URL or start it")


async def _fal_key(settings: Settings) -> Check:
    if settings.use_simulated_fal:
        return Check("fal", True, "no FAL_KEY: the simulated fal makes the videos, nothing is "
                     "charged (set FAL_KEY for real videos)")  # fmt: skip
    key = settings.fal_key.get_secret_value() if settings.fal_key else ""
    url = f"{settings.fal_rest_url.rstrip('/')}/storage/auth/token?storage_type=fal-cdn-v3"
    return await _authenticated(
        "fal", "POST", url, {"Authorization": f"Key {key}"}, "FAL_KEY",
        "make a key at https://fal.ai/dashboard/keys and set FAL_KEY",
    )  # fmt: skip


async def _admin_key(settings: Settings) -> Check:
    if settings.fal_admin_key is None or not settings.fal_admin_key.get_secret_value():
        return Check("fal admin key", None, "LTXBOT_FAL_ADMIN_KEY not set (only `admin "
                     "reconcile` needs it)")  # fmt: skip
    key = settings.fal_admin_key.get_secret_value()
    url = f"{settings.fal_api_url.rstrip('/')}/models/pricing?endpoint_id={settings.fal_model}"
    return await _authenticated(
        "fal admin key", "GET", url, {"Authorization": f"Key {key}"}, "LTXBOT_FAL_ADMIN_KEY",
        "set an ADMIN-scoped key from https://fal.ai/dashboard/keys",
    )  # fmt: skip


async def _discord(settings: Settings) -> Check:
    if settings.discord_token is None:
        return Check("discord", None, "LTXBOT_DISCORD_TOKEN not set (Discord is not served)")
    url = f"{settings.discord_api_url.rstrip('/')}/users/@me"
    token = settings.discord_token.get_secret_value()
    return await _authenticated(
        "discord", "GET", url, {"Authorization": f"Bot {token}"}, "LTXBOT_DISCORD_TOKEN",
        "reset the token under Bot at https://discord.com/developers/applications",
    )  # fmt: skip


async def _slack(settings: Settings) -> Check:
    if settings.slack_bot_token is None and settings.slack_client_id is None:
        return Check("slack", None, "LTXBOT_SLACK_BOT_TOKEN not set (Slack is not served)")
    if settings.slack_app_token is not None:
        return Check("slack", True, "bot token and app token set (Socket Mode)")
    if settings.slack_signing_secret is None:
        return Check("slack", False, "HTTP mode (no LTXBOT_SLACK_APP_TOKEN) without a signing "
                     "secret", "set LTXBOT_SLACK_SIGNING_SECRET (Basic Information -> Signing "
                     "Secret), or LTXBOT_SLACK_APP_TOKEN for Socket Mode")  # fmt: skip
    return Check("slack", True, "HTTP mode: bot token and signing secret set")


async def _authenticated(
    name: str, method: str, url: str, headers: dict[str, str], setting: str, fix: str
) -> Check:
    """One authenticated request: accepted (2xx), refused (401/403), or unreachable."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.request(method, url, headers=headers)
    except httpx.HTTPError as problem:
        host = httpx.URL(url).host
        return Check(name, False, f"cannot reach {host} ({type(problem).__name__})",
                     "check the network, and SSL_CERT_FILE if set")  # fmt: skip
    if response.status_code in (401, 403):
        return Check(name, False, f"{setting} refused ({response.status_code})", fix)
    if response.is_success:
        return Check(name, True, f"{setting} accepted by {httpx.URL(url).host}")
    return Check(name, False, f"{httpx.URL(url).host} answered {response.status_code}",
                 "try again later")  # fmt: skip
