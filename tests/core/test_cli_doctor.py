"""`ltxbot doctor` as a user runs it, against the simulated fal and a local fake Discord: one
line per check, the fix beside each failure, exit 1 if any fails, no secret printed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.fal.simulated.platform_api import api_url
from tests.fakes.discord_api.server import FakeDiscord

LTXBOT = str(Path(sys.executable).with_name("ltxbot"))
KEY, ADMIN_KEY, TOKEN = "right-fal-key", "right-admin-key", "right-discord-token"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """A machine whose settings are all right: fal and Discord know these keys."""
    async with (
        SimulatedFal(api_key=KEY, admin_key=ADMIN_KEY) as fal,
        FakeDiscord(token=TOKEN) as discord,
    ):
        bundle = trust_bundle(fal.ca_file)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
        yield {
            **clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_BACKEND": "fal",
            "FAL_KEY": KEY, "LTXBOT_FAL_REST_URL": fal.rest_url,
            "LTXBOT_FAL_ADMIN_KEY": ADMIN_KEY, "LTXBOT_FAL_API_URL": api_url(fal),
            "LTXBOT_DISCORD_TOKEN": TOKEN, "LTXBOT_DISCORD_API_URL": discord.api_url,
            "LTXBOT_SLACK_BOT_TOKEN": "xoxb-not-real", "SSL_CERT_FILE": str(bundle),
        }  # fmt: skip
        bundle.unlink()


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
        "settings", "data dir", "database", "fal", "fal admin key", "discord", "slack",
    ]  # fmt: skip
    assert code == 1, out + err  # Slack without an app token is HTTP mode: no signing secret
    assert lines["fal"].startswith("✓") and "FAL_KEY accepted" in lines["fal"]
    assert lines["fal admin key"].startswith("✓") and lines["discord"].startswith("✓")
    assert "GiB free" in lines["data dir"] and "schema up to date" in lines["database"]
    assert lines["slack"].startswith("✗") and "set LTXBOT_SLACK_SIGNING_SECRET" in lines["slack"]
    env = {**env, "LTXBOT_SLACK_SIGNING_SECRET": "a-secret"}
    code, out, err = await doctor(env, tmp_path, "--json")
    assert code == 0, out + err
    checks = [json.loads(line) for line in out.splitlines()]
    assert all(check["ok"] for check in checks)
    assert not any(secret in out for secret in (KEY, ADMIN_KEY, TOKEN, "a-secret"))


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
