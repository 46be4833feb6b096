"""A cancel while fal renders, the whole way on Slack: a real core holding real money on the
simulated fal, slack_sdk and bolt on the fake Slack. The status message and `/ltx budget` say
what the ledger holds at every step: held after the cancel, then released or charged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, block_actions, png_bytes, view_submission
from test_slack_buttons import button
from test_slack_submit import form, values

from adapters.slack import SlackAdapter
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.model import Platform
from bot.money import Money
from bot.ports import EntryKind
from bot.settings import Settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.paid import paid_core_on


class OnSlack:
    """Alice's side of C1: the form, slash commands and buttons, and what she reads back."""

    def __init__(self, slack: FakeSlackAPI, driver: Driver) -> None:
        self.slack, self.driver, self._asked = slack, driver, 0

    async def answered(self, send: Callable[[str, str], Awaitable[object]]) -> str:
        """The response_url answer to one interaction (`send(response_url, trigger)`)."""
        self._asked += 1
        url = f"{self.slack.base_url}/response/r{self._asked}"
        before = len(self.slack.responses)
        await send(url, f"trig-{self._asked}")
        await self.slack.wait_for(lambda: len(self.slack.responses) > before, 10)
        return str(self.slack.responses[before]["text"])

    async def press_cancel(self, job_id: str) -> str:
        return await self.answered(
            lambda url, trigger: self.driver.interactive(
                block_actions(button("cancel", job_id), response_url=url, trigger=trigger)
            )
        )

    async def budget(self) -> str:
        return await self.answered(
            lambda url, trigger: self.driver.command("budget", response_url=url, trigger=trigger)
        )

    def status(self, job_id: str) -> str:
        """The job's status message in C1 ("" until it is posted)."""
        mine = f"job `{job_id}`"
        texts = (
            str(m["text"]) for (channel, _), m in self.slack.messages.items() if channel == "C1"
        )
        return next((text for text in texts if mine in text), "")

    def status_buttons(self, job_id: str) -> list[str]:
        [message] = [m for m in self.slack.messages.values() if f"job `{job_id}`" in m["text"]]
        return [b["action_id"] for block in message["blocks"] for b in block.get("elements", [])]

    async def status_saying(self, job_id: str, words: str, timeout: float = 20) -> str:
        await self.slack.wait_for(lambda: words in self.status(job_id), timeout)
        return self.status(job_id)


@pytest.mark.parametrize("fal_stops", [True, False], ids=["fal-stops", "fal-finishes-anyway"])
async def test_a_cancel_while_fal_renders_shows_the_hold_until_fal_ends_it(
    tmp_path: Path, fal_stops: bool
) -> None:
    async with (
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        # A long render, so the cancel surely comes while fal renders; `finish` ends it.
        SimulatedFal(generation_seconds=60, queue_seconds=0.05,
                     honour_running_cancel=fal_stops) as fal,
        aiohttp.ClientSession() as session,
    ):  # fmt: skip
        slack.add_user("U1", name="Alice")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
        )  # fmt: skip
        async with paid_core_on(settings, fal) as core:
            adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
            core.posters[Platform.SLACK] = adapter.poster
            await adapter.start()
            driver = Driver(f"http://127.0.0.1:{adapter.port}/slack/events", session)
            alice = OnSlack(slack, driver)
            try:
                file = slack.add_file("chef.png", png_bytes(384, 224))
                state = values(file, num_frames={"type": "number_input", "value": "9"})
                await driver.interactive(view_submission(form(), state))
                await slack.wait_for(lambda: slack.calls_to("chat.postEphemeral"), 10)
                [job] = await core.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                         user_id="U1")  # fmt: skip
                hold = Money(job.quoted_nanos)
                await alice.status_saying(job.id, "rendering")

                answer = await alice.press_cancel(job.id)
                assert answer == (
                    f"Job `{job.id}`: Asked fal to stop. If fal finishes anyway, the video is "
                    f"posted and up to {hold} charged."
                )
                status = await alice.status_saying(job.id, "Asked fal to stop")
                assert f"{hold} held" in status and "released" not in status
                assert alice.status_buttons(job.id) == []  # asked: no second Cancel
                assert f"$0.00 spent · {hold.used_text()} in flight" in await alice.budget()
                assert "released" not in alice.status(job.id)  # still true after the look

                job = await core.storage.jobs.get(job.id)
                assert job is not None and job.fal_request_id is not None
                fal.finish(job.fal_request_id)
                if fal_stops:
                    status = await alice.status_saying(job.id, "Cancelled.")
                    assert f"{hold} released · job" in status
                    assert f"{hold} released back to your budget." in status
                    assert "$0.00 spent · $0.00 in flight" in await alice.budget()
                else:
                    status = await alice.status_saying(job.id, "done")
                    assert f"{hold} charged · job" in status and "held" not in status
                    assert f"fal finished before it could stop · {hold} charged" in status
                    assert f"{hold.used_text()} spent · $0.00 in flight" in await alice.budget()
                await core.supervisor.wait(job.id)
                job = await core.storage.jobs.get(job.id)
                entries = await core.storage.ledger.entries(scope=f"slack:{TEAM}")
            finally:
                await adapter.close()
    assert job is not None
    kinds = [e.kind for e in entries if e.ref == job.id]
    uploads = slack.calls_to("files.completeUploadExternal")
    if fal_stops:
        assert job.state is JobState.CANCELLED and kinds == [EntryKind.HOLD, EntryKind.RELEASE]
        assert uploads == []
    else:
        assert job.state is JobState.DELIVERED and kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert job.captured_nanos == hold.nanos and len(uploads) == 1
