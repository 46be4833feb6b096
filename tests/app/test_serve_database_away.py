"""`serve` on PostgreSQL whose database goes away for a while (a TCP proxy cut, then restored):
Slack's requests are still acknowledged and answered "try again in a minute" (not an
apology), /readyz says the database is the problem, and all works again once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import DATABASE_AWAY
from bot.settings import Settings
from tests.app.serving import get, running
from tests.app.test_serve import APP_TOKEN, BOT_TOKEN, TEAM, slack_slash
from tests.fakes.slack_api import FakeSlackAPI
from tests.storage.storage_testkit import proxied_schema, require_postgres

pytestmark = pytest.mark.postgres


async def test_slack_is_answered_try_again_in_a_minute_while_the_database_is_away(
    tmp_path: Path,
) -> None:
    await require_postgres()
    async with (
        proxied_schema() as (url, proxy),
        FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack,
    ):
        slack.add_user("U1", name="Alice")
        slack.app_tokens.add(APP_TOKEN)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, database_url=url, backend="simulated",
            slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=slack.api_url,
            webhook_port=0,
        )  # fmt: skip
        async with running(settings) as core:
            await slack.wait_for(lambda: slack.sockets)
            await proxy.cut()
            sent = await slack.send_envelope(
                "slash_commands", slack_slash("budget", f"{slack.base_url}/response/away")
            )
            await slack.wait_for(lambda: slack.responses)
            assert sent in slack.acks  # acknowledged
            assert slack.responses[0]["text"] == DATABASE_AWAY
            status, reason = await get(core, "/readyz")
            assert status == 503 and url not in reason
            await proxy.restore()
            await slack.send_envelope(
                "slash_commands", slack_slash("budget", f"{slack.base_url}/response/back")
            )
            await slack.wait_for(lambda: len(slack.responses) == 2)
            assert "$" in slack.responses[1]["text"]
            assert await get(core, "/readyz") == (200, "ready\n")
