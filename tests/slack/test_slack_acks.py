"""Nothing on the way to a Slack ack waits for the database or a Web API call."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest
from slackkit import SECRET, Driver, SlackKit, services_for
from test_slack_persistent import INSTALLED_TOKEN, RETRY, Replica, install

from adapters.slack import SlackAdapter
from adapters.slack.keyvalue import MemoryKeyValueStore
from bot.errors import ConfigurationError
from bot.settings import Settings
from commands import Commands
from storage import open_storage
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


async def test_one_bot_token_is_checked_once_at_start_not_per_request_of_a_burst(
    kit: SlackKit,
) -> None:
    # bolt alone asks auth.test for every request that arrives before its first answer.
    assert len(kit.slack.calls_to("auth.test")) == 1  # at start
    answers = await asyncio.gather(*(
        kit.driver.command("help", trigger=f"t{n}", response_url=f"{kit.slack.base_url}/response/r")
        for n in range(20)
    ))  # fmt: skip
    assert [status for status, _ in answers] == [200] * 20
    await kit.adapter.tasks.wait_idle()
    assert len(kit.slack.calls_to("auth.test")) == 1


async def test_a_refused_bot_token_stops_the_start_with_a_clear_message(
    tmp_path: Path, slack: FakeSlackAPI
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token="xoxb-revoked",
        slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    adapter = SlackAdapter(settings, Commands(services_for(settings, storage)), host="127.0.0.1")
    try:
        with pytest.raises(ConfigurationError, match="invalid_auth") as refused:
            await adapter.start()
        assert "xoxb-revoked" not in str(refused.value)
    finally:
        await adapter.close()
        await storage.close()


async def test_every_web_api_call_shares_one_session(kit: SlackKit) -> None:
    # slack_sdk opens a new session (a new connection) per call unless its client has one.
    session = kit.adapter.client.session
    assert session is not None and not session.closed
    assert kit.adapter.poster.client.session is session
    status, _ = await kit.driver.command("", trigger="t-form")  # opens the form: views.open
    assert status == 200
    await kit.adapter.tasks.wait_idle()
    assert kit.slack.calls_to("views.open")
    assert kit.adapter.client.session is session and not session.closed


def test_slack_sdk_formats_no_debug_lines_unless_debug_logging_is_on(tmp_path: Path) -> None:
    # slack_sdk builds its debug line of each request (the whole form) whenever its logger's
    # own level is NOTSET or DEBUG; the adapter's clients carry a logger with a real level.
    from adapters.slack.adapter import web_client

    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    root = logging.getLogger()
    before = root.level
    try:
        root.setLevel(logging.WARNING)
        assert web_client(settings).logger.level == logging.INFO
        root.setLevel(logging.DEBUG)
        assert web_client(settings).logger.level == logging.DEBUG
    finally:
        root.setLevel(before)


async def test_work_after_an_ack_starts_once_bolt_has_had_its_look_for_the_ack() -> None:
    # bolt sends the answer at its next 10 ms look: work that started at once would take
    # those turns from the acks of a burst's later requests.
    from adapters.slack.tasks import ACK_HEAD_START, BackgroundTasks

    tasks, started = BackgroundTasks(), []

    async def work(name: str) -> None:
        started.append((name, time.monotonic()))

    spawned = time.monotonic()
    tasks.spawn(work("form"), name="form")
    tasks.spawn(work("claim"), name="claim", after_the_ack=False)
    await asyncio.sleep(0)
    assert [name for name, _ in started] == ["claim"]  # the repeat check starts at once
    await tasks.wait_idle()
    ((_, at),) = [s for s in started if s[0] == "form"]
    assert at - spawned >= ACK_HEAD_START


class AwaySaves(MemoryKeyValueStore):
    """A store whose writes fail as a database that cannot be reached does."""

    async def save(self, *, key: str, value: str, ttl_seconds: float | None = None) -> None:
        from bot.errors import StorageUnavailable

        raise StorageUnavailable("refused")


async def test_a_form_that_cannot_be_stored_stays_open_with_try_again(kit: SlackKit) -> None:
    import json

    from slackkit import png_bytes, view_submission
    from test_slack_submit import form, values

    from bot.errors import DATABASE_AWAY

    assert kit.adapter.runtime.inbox is not None
    kit.adapter.runtime.inbox.store = AwaySaves()
    file = kit.slack.add_file("sheet.png", png_bytes())
    status, body = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200 and kit.driver.elapsed[-1] < 3
    assert json.loads(body) == {"response_action": "errors", "errors": {"prompt": DATABASE_AWAY}}
    await kit.settle()
    assert kit.runner.started == []  # nothing acked as taken, nothing held


async def test_a_taken_in_form_leaves_no_entry_and_is_not_taken_over(kit: SlackKit) -> None:
    from slackkit import png_bytes, view_submission
    from test_slack_submit import form, values

    from adapters.slack.inbox import PREFIX

    inbox = kit.adapter.runtime.inbox
    assert inbox is not None
    file = kit.slack.add_file("sheet.png", png_bytes())
    status, _ = await kit.driver.interactive(view_submission(form(), values(file)))
    assert status == 200
    await kit.until(lambda: kit.runner.started)
    await kit.settle()
    assert await inbox.store.items(prefix=PREFIX) == []

    async def never(_form: object) -> None:
        raise AssertionError("taken in twice")

    assert await inbox.take_over(never) == 0
    assert len(kit.runner.started) == 1
