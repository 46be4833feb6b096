"""HTTP mode with OAuth: install into a second workspace, then serve it with its own token."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from slackkit import SECRET, Driver, services_for

from adapters.slack import SlackAdapter
from bot.settings import Settings
from commands import Commands
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI

GRANT = {
    "access_token": "xoxb-installed-elsewhere", "token_type": "bot",
    "scope": "app_mentions:read,chat:write,commands,files:read,files:write,users:read",
    "bot_user_id": "U0BOT2", "app_id": "A0APP", "team": {"id": "T0NEW", "name": "New"},
    "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "U9"},
}  # fmt: skip


async def test_install_then_commands_and_posts_use_that_workspaces_token(
    tmp_path: Path, slack: FakeSlackAPI
) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_signing_secret=SECRET,
        slack_client_id="111.222", slack_client_secret="oauth-secret",
        slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    services = services_for(settings, storage)
    adapter = SlackAdapter(settings, Commands(services), host="127.0.0.1")
    await adapter.start()
    base = f"http://127.0.0.1:{adapter.port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/slack/install") as page:
                assert page.status == 200
                html, cookie = await page.text(), page.headers["Set-Cookie"]
            state = re.search(r"state=([\w-]+)", html)
            assert state and "client_id=111.222" in html and "files:read" in html
            slack.oauth_codes["code-1"] = GRANT
            headers = {"Cookie": cookie.split(";")[0]}
            url = f"{base}/slack/oauth_redirect?code=code-1&state={state[1]}"
            async with session.get(url, headers=headers) as done:
                assert done.status == 200
            bot = await adapter.poster.tokens.bot_token("T0NEW")
            assert bot == "xoxb-installed-elsewhere"

            driver = Driver(f"{base}/slack/events", session)
            form = {"team_id": "T0NEW", "channel_id": "C9", "user_id": "U9",
                    "user_name": "u9", "command": "/ltx", "text": "", "trigger_id": "t9",
                    "api_app_id": "A0APP", "response_url": ""}  # fmt: skip
            body = "&".join(f"{k}={v}" for k, v in form.items()).replace("/", "%2F")
            status, _ = await driver.post(body, "application/x-www-form-urlencoded")
            assert status == 200
            await slack.wait_for(lambda: slack.calls_to("views.open"))
            assert slack.calls_to("views.open")[0].token == "xoxb-installed-elsewhere"
    finally:
        await adapter.close()
        await storage.close()
