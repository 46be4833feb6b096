"""`ltxbot doctor`: one line per check, green or red with the fix; exit 1 if any fails (a
yellow warning, the clock, leaves the exit code alone).

Each check is cheap and safe: fal's key is tried on fal storage's token endpoint (authenticated,
free, and served by the simulated fal too), the admin key on the platform API's price list;
Discord's token and intents, Slack's token, scopes and mode (`doctor_platforms`); the webhook
URL and the clock (`doctor_net`). No secret is printed: only whether it was accepted.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.console.doctor_base import Check, authenticated
from adapters.console.doctor_net import clock_check, webhook_check
from adapters.console.doctor_platforms import discord_checks, slack_checks
from adapters.console.exit_codes import EXIT_FAILED, EXIT_OK
from adapters.console.output import Output
from bot.errors import LtxbotError
from bot.settings import Settings, load_settings

MIN_FREE_BYTES = 1 << 30  # a few hundred videos of a few MB, and the database
GREEN, RED, YELLOW, DIM, RESET = "\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"


async def doctor(output: Output) -> int:
    try:
        settings = load_settings()
    except LtxbotError as problem:
        _show(output, Check("settings", False, str(problem), "correct the setting named"))
        return EXIT_FAILED
    _show(output, Check("settings", True, "read from the environment and .env"))
    checks: list[Callable[[Settings], Awaitable[Check | list[Check]]]] = [
        _data_dir,
        _database,
        _fal_key,
        _admin_key,
        discord_checks,
        slack_checks,
        webhook_check,
        clock_check,
    ]
    failed = False
    for check in checks:
        made = await check(settings)
        for result in made if isinstance(made, list) else [made]:
            failed |= result.ok is False and not result.warning
            _show(output, result)
    return EXIT_FAILED if failed else EXIT_OK


def _show(output: Output, check: Check) -> None:
    output.data({"check": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix,
                 "warning": check.warning})  # fmt: skip
    mark = {True: f"{GREEN}✓", False: f"{RED}✗", None: f"{DIM}-"}[check.ok]
    if check.warning:
        mark = f"{YELLOW}!"
    fix = f" — {check.fix}" if check.fix and (check.ok is False or check.warning) else ""
    line = f"{mark} {check.name}{RESET}: {check.detail}{fix}"
    output.say(line if output.out.isatty() else _plain(line))


def _plain(line: str) -> str:
    for code in (GREEN, RED, YELLOW, DIM, RESET):
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

    if not settings.database_url:  # the SQLite file in the data dir: its problem is that one
        try:
            await asyncio.to_thread(_writable_free_bytes, settings.data_dir)
        except OSError:
            return Check("database", False, f"{settings.database}: not opened, its folder is "
                         "the data dir above", "fix LTXBOT_DATA_DIR first")  # fmt: skip
    try:
        reached, drift = await database_ready(settings)
    except LtxbotError as problem:
        return Check("database", False, str(problem), "correct LTXBOT_DATABASE_URL or start it")
    if drift:
        detail = f"{reached}; {len(drift)} running balance(s) differ from the ledger: {drift[0]}"
        fix = "delete those admission_balances rows: admission re-adds them from the entries"
        return Check("database", False, detail, fix)
    return Check("database", True, f"{reached}, balances agree with the ledger")


async def _fal_key(settings: Settings) -> Check:
    if settings.use_simulated_fal:
        return Check("fal", True, "no FAL_KEY: the simulated fal makes the videos, nothing is "
                     "charged (set FAL_KEY for real videos)")  # fmt: skip
    key = settings.fal_key.get_secret_value() if settings.fal_key else ""
    url = f"{settings.fal_rest_url.rstrip('/')}/storage/auth/token?storage_type=fal-cdn-v3"
    check, _ = await authenticated(
        "fal", "POST", url, {"Authorization": f"Key {key}"}, "FAL_KEY",
        "make a key at https://fal.ai/dashboard/keys and set FAL_KEY",
    )  # fmt: skip
    return check


async def _admin_key(settings: Settings) -> Check:
    if settings.fal_admin_key is None or not settings.fal_admin_key.get_secret_value():
        return Check("fal admin key", None, "LTXBOT_FAL_ADMIN_KEY not set (only `admin "
                     "reconcile` needs it)")  # fmt: skip
    key = settings.fal_admin_key.get_secret_value()
    url = f"{settings.fal_api_url.rstrip('/')}/models/pricing?endpoint_id={settings.fal_model}"
    check, _ = await authenticated(
        "fal admin key", "GET", url, {"Authorization": f"Key {key}"}, "LTXBOT_FAL_ADMIN_KEY",
        "set an ADMIN-scoped key from https://fal.ai/dashboard/keys",
    )  # fmt: skip
    return check
