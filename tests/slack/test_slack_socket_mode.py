"""Socket Mode: the same app over a WebSocket from the fake, acks as envelope replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slackkit import BOT_TOKEN, TEAM, RecordingRunner, png_bytes, services_for

from adapters.slack import SlackAdapter
from bot.errors import ConfigurationError
from bot.settings import Settings
from commands import Commands
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI

APP_TOKEN = "xapp-1-A0APP-1-socket"


@pytest.fixture
async def socket_app(
    tmp_path: Path, slack: FakeSlackAPI
) -> AsyncIterator[tuple[SlackAdapter, RecordingRunner]]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    slack.app_tokens.add(APP_TOKEN)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN, slack_api_url=slack.api_url,
    )  # fmt: skip
    services = services_for(settings, storage)
    adapter = SlackAdapter(settings, Commands(services))
    assert adapter.socket_mode
    await adapter.start()
    try:
        await slack.wait_for(lambda: slack.sockets)
        assert isinstance(services.runner, RecordingRunner)
        yield adapter, services.runner
    finally:
        await adapter.close()
        await storage.close()


async def test_slash_command_over_the_socket_is_acked_and_opens_the_form(
    socket_app: tuple[SlackAdapter, RecordingRunner], slack: FakeSlackAPI
) -> None:
    payload = {"team_id": TEAM, "channel_id": "C1", "user_id": "U1", "user_name": "alice",
               "command": "/ltx", "text": "", "trigger_id": "trig-socket",
               "api_app_id": "A0APP", "response_url": ""}  # fmt: skip
    envelope = await slack.send_envelope("slash_commands", payload)
    await slack.wait_for(lambda: envelope in slack.acks and slack.calls_to("views.open"))
    assert slack.calls_to("views.open")[0].params["trigger_id"] == "trig-socket"
    assert slack.calls_to("apps.connections.open")[0].token == APP_TOKEN


async def test_a_redelivered_event_starts_one_job(
    socket_app: tuple[SlackAdapter, RecordingRunner], slack: FakeSlackAPI
) -> None:
    adapter, runner = socket_app
    file = slack.add_file("chef.png", png_bytes())
    event = {"type": "app_mention", "user": "U1", "text": "<@U0BOT> the chef flips an egg",
             "ts": "1700000500.000100", "channel": "C1", "files": [file]}  # fmt: skip
    body = {"team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
            "event_id": "EvSock1", "event_time": 1, "event": event}  # fmt: skip
    first = await slack.send_envelope("events_api", body)
    again = await slack.send_envelope("events_api", body, retry_attempt=1)
    await slack.wait_for(lambda: {first, again} <= slack.acks.keys())
    await runner.wait_started()
    await slack.wait_for(lambda: slack.calls_to("chat.postEphemeral"))
    await adapter.tasks.wait_idle()
    assert len(runner.started) == 1 and runner.started[0].request.prompt == "the chef flips an egg"


async def test_a_refused_app_token_is_a_clear_configuration_error(
    tmp_path: Path, slack: FakeSlackAPI
) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN,
        slack_app_token="xapp-revoked", slack_api_url=slack.api_url,
    )  # fmt: skip
    adapter = SlackAdapter(settings, Commands(services_for(settings, storage)))
    try:
        with pytest.raises(ConfigurationError, match=r"LTXBOT_SLACK_APP_TOKEN.*invalid_auth") as e:
            await adapter.start()
        assert "xapp-revoked" not in str(e.value)  # never the secret itself
        assert slack.calls_to("apps.connections.open")[0].token == "xapp-revoked"
    finally:
        await adapter.close()
        await storage.close()
