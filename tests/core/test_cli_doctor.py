"""`ltxbot doctor` as a user runs it, against the simulated fal and a local fake Discord: one
line per check, the fix beside each failure, exit 1 if any fails, no secret printed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import pytest
from aiohttp import web

from adapters.console.doctor_platforms import intents_check, manifest_scopes
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.fal.simulated.platform_api import api_url
from tests.fakes.discord_api.server import FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI

LTXBOT = str(Path(sys.executable).with_name("ltxbot"))
KEY, ADMIN_KEY, TOKEN = "right-fal-key", "right-admin-key", "right-discord-token"
SLACK_TOKEN = "xoxb-right-slack-token"


@dataclass
class Machine:
    env: dict[str, str]
    discord: FakeDiscord
    slack: FakeSlackAPI


@pytest.fixture
async def machine(tmp_path: Path) -> AsyncIterator[Machine]:
    """A machine whose settings are all right: fal, Discord and Slack know these keys, and the
    Slack token has every scope of the manifest."""
    async with (
        SimulatedFal(api_key=KEY, admin_key=ADMIN_KEY) as fal,
        FakeDiscord(token=TOKEN) as discord,
        FakeSlackAPI(bot_token=SLACK_TOKEN) as slack,
    ):
        slack.scopes = manifest_scopes()
        bundle = trust_bundle(fal.ca_file)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
        yield Machine({
            **clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_BACKEND": "fal",
            "FAL_KEY": KEY, "LTXBOT_FAL_REST_URL": fal.rest_url,
            "LTXBOT_FAL_ADMIN_KEY": ADMIN_KEY, "LTXBOT_FAL_API_URL": api_url(fal),
            "LTXBOT_DISCORD_TOKEN": TOKEN, "LTXBOT_DISCORD_API_URL": discord.api_url,
            "LTXBOT_SLACK_BOT_TOKEN": SLACK_TOKEN, "LTXBOT_SLACK_API_URL": slack.api_url,
            "SSL_CERT_FILE": str(bundle),
        }, discord, slack)  # fmt: skip
        bundle.unlink()


@pytest.fixture
def env(machine: Machine) -> dict[str, str]:
    return machine.env


async def doctor(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LTXBOT, "doctor", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def lines_by_check(out: str) -> dict[str, str]:
    return {line[2:].split(":", 1)[0]: line for line in out.splitlines()}


async def test_every_check_passes_on_a_machine_set_up_right(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await doctor(env, tmp_path)
    lines = lines_by_check(out)
    assert list(lines) == [
        "settings", "data dir", "database", "fal", "fal admin key", "discord",
        "discord intents", "slack", "slack mode", "webhook", "clock",
    ]  # fmt: skip
    assert code == 1, out + err  # Slack without an app token is HTTP mode: no signing secret
    assert lines["fal"].startswith("✓") and "FAL_KEY accepted" in lines["fal"]
    assert lines["fal admin key"].startswith("✓") and lines["discord"].startswith("✓")
    assert "GiB free" in lines["data dir"] and "schema up to date" in lines["database"]
    assert lines["discord"] == "✓ discord: LTXBOT_DISCORD_TOKEN accepted: the bot is LTX"
    assert lines["discord intents"] == "✓ discord intents: none privileged needed (guilds only)"
    assert lines["slack"].startswith("✓ slack: LTXBOT_SLACK_BOT_TOKEN accepted by Fake, every")
    mode = lines["slack mode"]
    assert mode.startswith("✗") and "set LTXBOT_SLACK_SIGNING_SECRET" in mode
    assert lines["webhook"].startswith("- webhook: LTXBOT_PUBLIC_BASE_URL not set")
    assert lines["clock"].startswith("✓ clock: within 30 s of fal's")
    async with webhook_server() as base_url:
        env = {**env, "LTXBOT_SLACK_SIGNING_SECRET": "a-secret", "LTXBOT_PUBLIC_BASE_URL": base_url}
        code, out, err = await doctor(env, tmp_path, "--json")
    assert code == 0, out + err
    checks = {check["check"]: check for check in map(json.loads, out.splitlines())}
    assert all(check["ok"] for check in checks.values()), checks
    assert checks["webhook"]["detail"] == f"{base_url}/fal/webhook answers (HTTP 405)"
    secrets = (KEY, ADMIN_KEY, TOKEN, SLACK_TOKEN, "a-secret")
    assert not any(secret in out for secret in secrets)


async def test_refused_keys_and_an_unusable_database_are_red_with_the_fix(
    env: dict[str, str], tmp_path: Path
) -> None:
    wrong = {**env, "FAL_KEY": "wrong-fal-key", "LTXBOT_FAL_ADMIN_KEY": "wrong-admin-key",
             "LTXBOT_DISCORD_TOKEN": "wrong-token", "LTXBOT_DATABASE_URL": "nonsense"}  # fmt: skip
    code, out, err = await doctor(wrong, tmp_path)
    assert code == 1 and "Traceback" not in err
    lines = lines_by_check(out)
    assert lines["fal"] == (
        "✗ fal: FAL_KEY refused (401) — make a key at https://fal.ai/dashboard/keys and set FAL_KEY"
    )
    assert lines["fal admin key"].startswith("✗ fal admin key: LTXBOT_FAL_ADMIN_KEY refused")
    assert lines["discord"].startswith("✗ discord: LTXBOT_DISCORD_TOKEN refused (401)")
    assert lines["database"].startswith("✗ database: setting LTXBOT_DATABASE_URL: cannot be read")
    assert "wrong-" not in out


async def test_a_bad_setting_is_one_red_line(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
    env = {**clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_LOG_LEVEL": "loud"}
    code, out, _ = await doctor(env, tmp_path)
    assert code == 1
    assert out.startswith("✗ settings: setting LTXBOT_LOG_LEVEL: 'loud' is not a log level")


@asynccontextmanager
async def webhook_server(
    behind: float | None = None, status: int | None = None
) -> AsyncIterator[str]:
    """A local server with ltxbot's webhook route (POST only: a GET is 405); its Date header
    `behind` seconds behind this clock when given; or answering `status` to everything."""

    async def webhook(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    @web.middleware
    async def stamp(request: web.Request, handler):  # type: ignore[no-untyped-def]
        if status is not None:
            return web.Response(status=status)
        try:
            response = await handler(request)
        except web.HTTPException as error:
            response = web.Response(status=error.status)
        if behind is not None:
            response.headers["Date"] = formatdate(time.time() - behind, usegmt=True)
        return response

    app = web.Application(middlewares=[stamp])
    app.router.add_post("/fal/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_token_without_a_manifest_scope_names_it(machine: Machine, tmp_path: Path) -> None:
    machine.slack.scopes = [s for s in manifest_scopes() if s != "files:write"]
    _, out, _ = await doctor(machine.env, tmp_path)
    assert lines_by_check(out)["slack"] == (
        "✗ slack: token of Fake lacks files:write — add them from adapters/slack/manifest.yaml "
        "(OAuth & Permissions -> Bot Token Scopes) and reinstall the app"
    )
    # Without the *:history scopes only a link's read-back after a crash suffers: a warning.
    machine.slack.scopes = [s for s in manifest_scopes() if not s.endswith(":history")]
    _, out, _ = await doctor(machine.env, tmp_path)
    warned = lines_by_check(out)["slack"]
    assert "lacks channels:history, groups:history, im:history, mpim:history" in warned
    assert "may be posted twice" in warned and not warned.startswith("✗")
    refused = {**machine.env, "LTXBOT_SLACK_BOT_TOKEN": "xoxb-wrong"}
    _, out, _ = await doctor(refused, tmp_path)
    assert lines_by_check(out)["slack"].startswith(
        "✗ slack: LTXBOT_SLACK_BOT_TOKEN refused (invalid_auth)"
    )
    assert "xoxb-wrong" not in out


def test_a_privileged_intent_the_application_does_not_allow_is_named() -> None:
    refused = intents_check(["message_content"], flags=0)
    assert (refused.ok, refused.detail) == (False, "not allowed: Message Content Intent")
    assert "Privileged Gateway Intents" in refused.fix
    assert intents_check(["message_content"], flags=1 << 19).ok  # the "limited" bit will do
    assert intents_check(["members", "message_content"], flags=1 << 18).detail == (
        "not allowed: Server Members Intent"
    )


async def test_a_clock_off_fals_is_a_warning_and_a_dead_webhook_a_failure(
    env: dict[str, str], tmp_path: Path
) -> None:
    async with webhook_server(behind=300) as skewed, webhook_server(status=404) as gone:
        env = {**env, "LTXBOT_FAL_REST_URL": skewed, "LTXBOT_PUBLIC_BASE_URL": gone}
        code, out, _ = await doctor(env, tmp_path)
    lines = lines_by_check(out)
    said = re.fullmatch(r"! clock: (\d+) s ahead of fal's \(more than 30 s\) — sync the .*",
                        lines["clock"])  # fmt: skip
    assert said and 299 <= int(said[1]) <= 301, lines["clock"]  # Date has whole seconds
    assert lines["webhook"] == (
        f"✗ webhook: {gone}/fal/webhook answers 404: not ltxbot's webhook — point "
        "LTXBOT_PUBLIC_BASE_URL at the server `ltxbot run` serves, or unset it"
    )
    assert code == 1  # the webhook (and fal, on a server that is not fal) failed
