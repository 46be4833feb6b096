"""No secret in any log line: `ltxbot run` (`serve`) with every secret configured, at DEBUG,
runs a video on Discord and one on Slack and an admin reconcile (the admin key at work),
while every record is written in both log formats; no secret appears in either."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path

import pytest

from adapters.console.logs import formatter
from bot.model import Platform
from bot.settings import LogFormat, Settings
from tests.app.serving import running
from tests.app.test_serve import (
    ALICE,
    CHANNEL,
    GUILD,
    SMALL,
    TEAM,
    png,
    slack_form,
    slack_slash,
)
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI

FAL_KEY_ID, FAL_KEY_SECRET = "0fa1-key-id-7e3", "fal-s3cr3t-5d9c2b"
SECRETS = {
    "FAL_KEY": f"{FAL_KEY_ID}:{FAL_KEY_SECRET}",
    "LTXBOT_FAL_ADMIN_KEY": "fal-admin-s3cr3t-a81f",
    "LTXBOT_DISCORD_TOKEN": "MTA5.discord-s3cr3t.b72e",
    "LTXBOT_SLACK_BOT_TOKEN": "xoxb-1-s3cr3t-bot-c4d1",
    "LTXBOT_SLACK_APP_TOKEN": "xapp-1-A0APP-1-s3cr3t-e5f0",
    "LTXBOT_SLACK_SIGNING_SECRET": "s3cr3t-signing-9abc",
    "LTXBOT_SLACK_CLIENT_SECRET": "s3cr3t-client-def0",
}


async def test_no_secret_in_any_log_line_of_a_full_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, secret in SECRETS.items():
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv("LTXBOT_SLACK_CLIENT_ID", "111.222")
    caplog.set_level(logging.DEBUG)
    streams = {form: io.StringIO() for form in LogFormat}
    handlers = []
    for form, stream in streams.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter(form))
        handlers.append(handler)
        logging.getLogger().addHandler(handler)
    try:
        await _a_full_run(tmp_path)
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)

    text, lines = streams[LogFormat.TEXT].getvalue(), streams[LogFormat.JSON].getvalue()
    records = [json.loads(line) for line in lines.splitlines()]  # one object per line
    assert len(records) > 100  # DEBUG: the libraries' lines are in too
    for secret in [*SECRETS.values(), FAL_KEY_SECRET]:
        assert secret not in text and secret not in lines
    moves = [r for r in records if r["logger"] == "bot.jobs.transitions"]
    delivered = [r for r in moves if r["state"] == "delivered"]
    assert len(delivered) == 2 and {r["level"] for r in moves} == {"INFO"}
    assert delivered[0]["job_id"] in delivered[0]["message"]
    assert delivered[0]["quoted_usd"] == "0.0024075"


async def _a_full_run(tmp_path: Path) -> None:
    token = SECRETS["LTXBOT_DISCORD_TOKEN"]
    bot_token, app_token = SECRETS["LTXBOT_SLACK_BOT_TOKEN"], SECRETS["LTXBOT_SLACK_APP_TOKEN"]
    async with (
        FakeDiscord(token=token) as discord,
        FakeSlackAPI(bot_token=bot_token, team_id=TEAM) as slack,
    ):
        discord.add_channel(CHANNEL, GUILD)
        slack.add_user("U1", name="Alice", is_admin=True)
        slack.app_tokens.add(app_token)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated",
            discord_api_url=discord.api_url, discord_guild_ids=GUILD,
            slack_api_url=slack.api_url, webhook_port=0,
        )  # fmt: skip
        async with running(settings) as core:
            await discord.wait_for(discord.gateway.live_sessions)
            await slack.wait_for(lambda: slack.sockets)
            data = png()
            url = discord.host("chef.png", data, "image/png")
            sheet = o.attachment(o.snowflake(), "chef.png", len(data), url, "image/png")
            options = ix.slash_data("ltx", "generate", SMALL, attachments={"sheet": sheet})
            payload = discord.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, options)
            await discord.gateway.dispatch("INTERACTION_CREATE", payload)
            await slack.send_envelope("interactive", slack_form(slack.add_file("chef.png", data)))
            await discord.wait_for(
                lambda: [c for c in discord.calls if c.files and c.status == 200], timeout=30
            )
            await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 30)
            jobs = [
                *await core.storage.jobs.for_user(
                    platform=Platform.DISCORD, scope=GUILD, user_id=ALICE["user"]["id"]
                ),
                *await core.storage.jobs.for_user(
                    platform=Platform.SLACK, scope=TEAM, user_id="U1"
                ),
            ]
            assert len(jobs) == 2
            await asyncio.wait_for(core.supervisor.wait(*(job.id for job in jobs)), 10)
            reconcile = slack_slash("admin reconcile", f"{slack.base_url}/response/r1")
            await slack.send_envelope("slash_commands", reconcile)
            await slack.wait_for(lambda: slack.responses, 20)
            assert "Ledger beside fal" in slack.responses[0]["text"]  # fal's bill was read
