"""The bot's HTTP port under `ltxbot run` (`serve`, on the local Slack and Discord fakes and
the simulated fal): /healthz, /readyz and /metrics, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from adapters.app.core import serve
from adapters.app.http import health_routes
from bot.errors import ConfigurationError
from bot.jobs.record import JobState
from bot.model import Platform
from bot.settings import Settings
from tests.app.serving import get, running
from tests.app.test_serve import (
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL,
    GUILD,
    SMALL,
    TEAM,
    discord_answer,
    png,
    slack_form,
)
from tests.fakes.discord_api.server import FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI

PRICE = 0.0024075  # 256x160 x 9 frames: 1 MP


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Each sample of a /metrics page by (name, labels), read by prometheus-client's parser."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return page[(name, frozenset(labels.items()))]


async def test_health_ready_and_metrics_around_a_slack_job(tmp_path: Path) -> None:
    database = tmp_path / "db" / "ltxbot.sqlite3"
    async with FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        slack.add_user("U1", name="Alice")
        slack.app_tokens.add(APP_TOKEN)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path / "data", database_url=f"sqlite:///{database}",
            backend="simulated", slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN,
            slack_api_url=slack.api_url, webhook_port=0,
        )  # fmt: skip
        async with running(settings) as core:
            await slack.wait_for(lambda: slack.sockets)
            assert await get(core, "/healthz") == (200, "ok\n")
            assert await get(core, "/readyz") == (200, "ready\n")

            envelope = slack_form(slack.add_file("chef.png", png()))
            await slack.send_envelope("interactive", envelope)
            await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 30)
            [job] = await core.storage.jobs.for_user(
                platform=Platform.SLACK, scope=TEAM, user_id="U1"
            )
            await asyncio.wait_for(core.supervisor.wait(job.id), 10)
            assert (await core.storage.jobs.get(job.id)).state is JobState.DELIVERED  # type: ignore[union-attr]

            status, text = await get(core, "/metrics")
            assert status == 200
            page = samples(text)
            assert value(page, "ltxbot_jobs_started_total") == 1
            assert value(page, "ltxbot_jobs_ended_total", outcome="delivered") == 1
            assert value(page, "ltxbot_jobs_ended_total", outcome="failed") == 0
            assert value(page, "ltxbot_jobs", state="delivered") == 1
            assert value(page, "ltxbot_jobs", state="running") == 0
            assert value(page, "ltxbot_jobs_in_flight") == 0
            assert value(page, "ltxbot_deliveries_total", route="thread") == 1
            # Simulated: held, then released; nothing captured.
            assert value(page, "ltxbot_ledger_usd_total", kind="hold") == pytest.approx(PRICE)
            assert value(page, "ltxbot_ledger_usd_total", kind="release") == pytest.approx(PRICE)
            assert value(page, "ltxbot_ledger_usd_total", kind="capture") == 0
            assert value(page, "ltxbot_fal_render_seconds_count") == 1
            assert value(page, "ltxbot_ack_seconds_count", platform="slack") >= 1
            for private in ("U1", "Alice", "alice", TEAM, "C1", SMALL["prompt"], job.id):
                assert private not in text

            # The database goes away (its folder moved, pooled connections closed): not ready,
            # with a reason that names no path; back again: ready.
            database.parent.rename(tmp_path / "moved")
            await core.storage.engine.dispose()
            status, reason = await get(core, "/readyz")
            assert (status, reason) == (503, "database unreachable\n")
            assert await get(core, "/healthz") == (200, "ok\n")  # alive all the same
            (tmp_path / "moved").rename(database.parent)
            assert await get(core, "/readyz") == (200, "ready\n")


async def test_discord_only_serves_health_too(tmp_path: Path) -> None:
    async with FakeDiscord() as discord:
        discord.add_channel(CHANNEL, GUILD)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated", discord_guild_ids=GUILD,
            discord_token=discord.token, discord_api_url=discord.api_url, webhook_port=0,
        )  # fmt: skip
        async with running(settings) as core:
            assert await get(core, "/healthz") == (200, "ok\n")
            [adapter] = core.adapters
            await asyncio.wait_for(adapter.client.wait_until_ready(), 10)  # type: ignore[attr-defined]
            assert await get(core, "/readyz") == (200, "ready\n")
            assert "$" in await discord_answer(discord, "budget")
            status, text = await get(core, "/metrics")
            assert status == 200
            page = samples(text)
            assert value(page, "ltxbot_jobs_started_total") == 0
            assert value(page, "ltxbot_ack_seconds_count", platform="discord") == 1


async def test_fal_webhooks_arrive_on_the_same_port_as_health(tmp_path: Path) -> None:
    """With LTXBOT_PUBLIC_BASE_URL set, fal's webhook is one more route of the bot's HTTP port.
    The public URL is a local forwarder (as a load balancer would be) to the port serve bound."""
    target: list[int] = []

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-fal-")}
        headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
        url = f"http://127.0.0.1:{target[0]}{request.path_qs}"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=await request.read(), headers=headers) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())

    proxy = web.Application()
    proxy.router.add_post("/fal/webhook", forward)
    async with (
        TestServer(proxy) as public,
        FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack,
    ):
        slack.add_user("U1", name="Alice")
        slack.app_tokens.add(APP_TOKEN)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated", slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN, slack_api_url=slack.api_url, webhook_port=0,
            public_base_url=str(public.make_url("/")),
        )  # fmt: skip
        async with running(settings) as core:
            assert core.http_port is not None and core.simulated_fal is not None
            target.append(core.http_port)
            await slack.wait_for(lambda: slack.sockets)
            assert await get(core, "/healthz") == (200, "ok\n")
            envelope = slack_form(slack.add_file("chef.png", png()))
            await slack.send_envelope("interactive", envelope)
            await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 30)
            [job] = await core.storage.jobs.for_user(
                platform=Platform.SLACK, scope=TEAM, user_id="U1"
            )
            await asyncio.wait_for(core.supervisor.wait(job.id), 10)
            fal = core.simulated_fal
            assert [d.status for d in fal.webhook_deliveries] == [200]
            assert fal.status_requests == 0 and fal.stream_requests == 0  # the webhook did it


async def test_a_port_in_use_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeDiscord() as discord:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, data_dir=tmp_path, backend="simulated",
                discord_token=discord.token, discord_api_url=discord.api_url, webhook_port=port,
            )  # fmt: skip
            with pytest.raises(ConfigurationError) as refused:
                await serve(settings, asyncio.Event())
    assert str(refused.value) == (
        f"setting LTXBOT_WEBHOOK_PORT: cannot listen on port {port} (Address already in use)"
    )


class Adapter:
    def __init__(self, platform: Platform, connected: bool) -> None:
        self.platform, self._connected = platform, connected

    async def connected(self) -> bool:
        return self._connected


async def test_readyz_names_each_problem_in_a_short_line() -> None:
    async def not_migrated() -> str | None:
        return "database schema not migrated"

    async def page() -> bytes:
        return b""

    app = web.Application()
    adapters = [Adapter(Platform.DISCORD, True), Adapter(Platform.SLACK, False)]
    health_routes(app, database=not_migrated, adapters=adapters, exposition=page)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.text() == "database schema not migrated; slack not connected\n"


async def test_a_stopping_replica_is_not_ready(tmp_path: Path) -> None:
    """From SIGTERM on (`serve` calls `stop_taking`), /readyz tells the load balancer to send
    requests elsewhere while the replica finishes and hands its jobs over."""
    async with FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        slack.app_tokens.add(APP_TOKEN)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated", slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN, slack_api_url=slack.api_url, webhook_port=0,
        )  # fmt: skip
        async with running(settings) as core:
            await slack.wait_for(lambda: slack.sockets)
            assert await get(core, "/readyz") == (200, "ready\n")
            core.commands.stop_taking()
            assert await get(core, "/readyz") == (503, "stopping\n")
