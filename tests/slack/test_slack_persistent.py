"""With the database's key-value store, a restart forgets neither an OAuth installation nor which
Slack events were handled: a retry that arrives after the restart starts no second job."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from slackkit import SECRET, TEAM, Driver, RecordingRunner, png_bytes, services_for

from adapters.slack import SlackAdapter
from bot.model import Platform
from bot.settings import Settings
from commands import Commands
from storage import Storage, open_storage
from tests.fakes.slack_api import FakeSlackAPI

INSTALLED_TOKEN = "xoxb-installed-before-the-restart"
GRANT = {
    "access_token": INSTALLED_TOKEN, "token_type": "bot",
    "scope": "app_mentions:read,chat:write,commands,files:read,files:write,users:read",
    "bot_user_id": "U0BOT", "app_id": "A0APP", "team": {"id": TEAM, "name": "Team"},
    "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "U1"},
}  # fmt: skip
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def mention(file: dict[str, object], ts: str) -> dict[str, object]:
    return {"type": "app_mention", "user": "U1", "text": "<@U0BOT> the chef tosses the pasta",
            "ts": ts, "channel": "C1", "event_ts": ts, "files": [file]}  # fmt: skip


class Replica:
    """One process of the bot: storage opened on the shared file, and a Slack adapter."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.storage = storage
        services = services_for(settings, storage)
        assert isinstance(services.runner, RecordingRunner)
        self.runner = services.runner
        self.adapter = SlackAdapter(settings, Commands(services), store=storage.keyvalue,
                                    host="127.0.0.1")  # fmt: skip

    @classmethod
    async def start(cls, settings: Settings, database: str) -> Replica:
        replica = cls(settings, await open_storage(database))
        await replica.adapter.start()
        return replica

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.adapter.port}{path}"

    async def stop(self) -> None:
        await self.adapter.close()
        await self.storage.close()


async def install(replica: Replica, slack: FakeSlackAPI, session: aiohttp.ClientSession) -> None:
    async with session.get(replica.url("/slack/install")) as page:
        html, cookie = await page.text(), page.headers["Set-Cookie"]
    state = re.search(r"state=([\w-]+)", html)
    assert state is not None
    slack.oauth_codes["code-1"] = GRANT
    url = replica.url(f"/slack/oauth_redirect?code=code-1&state={state[1]}")
    async with session.get(url, headers={"Cookie": cookie.split(";")[0]}) as done:
        assert done.status == 200


async def test_installation_and_handled_events_survive_a_restart(
    tmp_path: Path, slack: FakeSlackAPI
) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_signing_secret=SECRET,
        slack_client_id="111.222", slack_client_secret="oauth-secret",
        slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    file = slack.add_file("chef.png", png_bytes())
    async with aiohttp.ClientSession() as session:
        before = await Replica.start(settings, database)
        try:
            await install(before, slack, session)
            driver = Driver(before.url("/slack/events"), session)
            status, _ = await driver.event(mention(file, "1700000400.000100"), event_id="Ev1")
            assert status == 200
            [first] = await before.runner.wait_started()
            await before.adapter.tasks.wait_idle()
        finally:
            await before.stop()

        after = await Replica.start(settings, database)  # a new process: nothing in memory
        try:
            assert await after.adapter.poster.tokens.bot_token(TEAM) == INSTALLED_TOKEN
            driver = Driver(after.url("/slack/events"), session)
            # Slack retries Ev1 (the first ack was slow); the restarted bot drops it ...
            status, _ = await driver.event(mention(file, "1700000400.000100"), event_id="Ev1",
                                           headers=RETRY)  # fmt: skip
            assert status == 200
            # ... and still serves a new mention, with the token installed before the restart.
            await driver.event(mention(file, "1700000500.000100"), event_id="Ev2")
            [second] = await after.runner.wait_started()
            await after.adapter.tasks.wait_idle()
            assert second.origin.origin_message_id == "1700000500.000100"
            assert after.runner.started == [second]
            jobs = await after.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                     user_id="U1")  # fmt: skip
            assert sorted(job.id for job in jobs) == sorted([first.id, second.id])
            told = slack.calls_to("chat.postEphemeral")
            assert [call.token for call in told] == [INSTALLED_TOKEN, INSTALLED_TOKEN]
        finally:
            await after.stop()
