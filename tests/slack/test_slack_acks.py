"""Nothing on the way to a Slack ack waits for the database or a Web API call."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from slackkit import SECRET, Driver, SlackKit
from test_slack_persistent import INSTALLED_TOKEN, RETRY, Replica, install

from adapters.slack.keyvalue import MemoryKeyValueStore
from bot.settings import Settings
from tests.fakes.slack_api import FakeSlackAPI


class StuckClaims(MemoryKeyValueStore):
    """ "Already handled?" claims that hang until released, as a busy database would."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.release = asyncio.Event()

    async def claim(self, *, key: str, value: str = "", ttl_seconds: float | None = None) -> bool:
        self.asked.append(key)
        await self.release.wait()
        return await super().claim(key=key, value=value, ttl_seconds=ttl_seconds)


async def test_the_ack_does_not_wait_for_the_repeat_check(kit: SlackKit) -> None:
    stuck = StuckClaims()
    kit.adapter.runtime.store = stuck
    url = kit.response_url()
    status, body = await asyncio.wait_for(
        kit.driver.command("budget", response_url=url, trigger="t-1"), 10
    )
    assert (status, body) == (200, "")  # acked while the claim still hangs
    assert stuck.asked == ["slack:seen:trigger:t-1"] and kit.slack.responses == []
    stuck.release.set()
    await kit.until(lambda: kit.slack.responses)  # the work ran once the claim answered
    status, _ = await kit.driver.command("budget", response_url=url, trigger="t-1",
                                         headers=RETRY)  # fmt: skip
    assert status == 200
    await kit.settle()
    assert len(kit.slack.responses) == 1  # Slack's retry was still dropped


async def test_auth_test_is_asked_once_per_installed_token(
    tmp_path: Path, slack: FakeSlackAPI
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_signing_secret=SECRET,
        slack_client_id="111.222", slack_client_secret="oauth-secret",
        slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        replica = await Replica.start(settings, f"sqlite:///{tmp_path / 'db.sqlite3'}")
        try:
            await install(replica, slack, session)
            before = len(slack.calls_to("auth.test"))  # the install flow asks once itself
            driver = Driver(replica.url("/slack/events"), session)
            answers = f"{slack.base_url}/response/r"
            for number in range(3):
                status, _ = await driver.command("help", trigger=f"t{number}", response_url=answers)
                assert status == 200
            await replica.adapter.tasks.wait_idle()
        finally:
            await replica.stop()
    checks = slack.calls_to("auth.test")[before:]
    assert len(slack.responses) == 3
    assert [c.token for c in checks] == [INSTALLED_TOKEN]  # bolt's default: before every ack
