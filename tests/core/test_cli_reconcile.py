"""`ltxbot admin reconcile` as a user runs it: the real `ltxbot` script in a subprocess, a video
made through the simulated fal, then fal's bill read back through its platform API; and the
Slack text form of the same command."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_cli_admin import ltxbot, sheet

from adapters.slack.textcmd import parse_text
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.fal.simulated.platform_api import api_url

TINY = ("--prompt", "a fox", "--resolution", "64x64", "--num-frames", "9")  # 1 MP
ADMIN_KEY = "admin-key-not-real"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05, admin_key=ADMIN_KEY) as fal:
        bundle = trust_bundle(fal.ca_file)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
        yield {
            **clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_BACKEND": "fal",
            "FAL_KEY": "test-key-not-real", "LTXBOT_FAL_QUEUE_URL": fal.queue_url,
            "LTXBOT_FAL_REST_URL": fal.rest_url, "LTXBOT_FAL_CDN_URL": fal.cdn_url,
            "LTXBOT_FAL_API_URL": api_url(fal), "SSL_CERT_FILE": str(bundle),
        }  # fmt: skip
        bundle.unlink()


async def test_the_terminal_reconciles_its_video_with_fal_as_json(env, tmp_path: Path) -> None:
    code, _, err = await ltxbot(
        env, tmp_path, "generate", "--sheet", str(sheet(tmp_path)), *TINY, "--out", "v.mp4"
    )
    assert code == 0, err
    code, out, err = await ltxbot(
        {**env, "LTXBOT_FAL_ADMIN_KEY": ADMIN_KEY}, tmp_path, "admin", "reconcile", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert [(m["fal_usd"], m["charged_usd"]) for m in body["matched"]] == [
        ("0.0024075", "0.0024075")
    ]
    assert body["clean"] is True and body["totals"]["fal_billed_usd"] == "0.0024075"
    assert ADMIN_KEY not in out + err


async def test_without_the_admin_key_the_terminal_says_what_it_needs(env, tmp_path: Path) -> None:
    code, out, err = await ltxbot(env, tmp_path, "admin", "reconcile", "--since", "2026-12-01")
    assert code == 1 and out == "", err  # a refusal: on stderr, exit 1
    assert err.startswith("ltxbot: Reconciling with fal needs") and "LTXBOT_FAL_ADMIN_KEY" in err


def test_slack_types_it_as_text() -> None:
    typed = parse_text("admin reconcile since=2026-11-01 until=2026-11-30 json=yes")
    assert typed.name == "admin reconcile"
    assert typed.options == {"since": "2026-11-01", "until": "2026-11-30", "json": True}
