"""A cancel while fal renders, the whole way on Discord: a real core holding real money on the
simulated fal, discord.py on the fake Discord. The status message and `/ltx budget` say what the
ledger holds at every step: held after the cancel, then released or charged as fal ends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from discordkit import ALICE, CHANNEL, GUILD, SMALL, png, settings_for

from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.model import Platform
from bot.money import Money
from bot.ports import EntryKind
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord
from tests.paid import paid_core_on

HOLD = Money.usd("0.0024075")  # 256x160, 9 frames: 1 MP


class OnDiscord:
    """Alice's side of one channel: commands and button presses, and what she reads back."""

    def __init__(self, fake: FakeDiscord, adapter: DiscordAdapter) -> None:
        self.fake, self.adapter = fake, adapter

    async def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        calls = await self.fake.wait_for(
            lambda: [c for c in self.fake.webhook_calls(payload) if c.method == "PATCH"], 10
        )
        body: dict[str, Any] = calls[-1].body
        return body

    async def slash(self, sub: str, **options: object) -> dict[str, Any]:
        sheet = None
        if sub == "generate":
            data = png()
            url = self.fake.host("sheet.png", data, "image/png")
            sheet = {"sheet": o.attachment(o.snowflake(), "sheet.png", len(data), url, "image/png")}
        data = ix.slash_data("ltx", sub, options, attachments=sheet)
        return await self.answer(
            self.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
        )

    async def press_cancel(self, job_id: str) -> str:
        data = ix.button_data(f"ltx:cancel:{job_id}")
        message = self.status_message(job_id)
        payload = self.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, ALICE, data, message=message)
        return str((await self.answer(payload))["content"])

    def status_message(self, job_id: str) -> dict[str, Any]:
        """The job's status message in the channel ({} until it is posted)."""
        mine = f"job `{job_id}`"
        found = (m for m in self.fake.messages.values() if m["channel_id"] == CHANNEL)
        return next((m for m in found if mine in m["content"]), {})

    def status(self, job_id: str) -> str:
        return str(self.status_message(job_id).get("content", ""))

    async def status_saying(self, job_id: str, words: str, timeout: float = 20) -> str:
        await self.fake.wait_for(lambda: words in self.status(job_id), timeout)
        return self.status(job_id)

    async def budget(self) -> str:
        body = await self.slash("budget")
        return str(body["embeds"][0]["fields"][0]["value"])


@pytest.mark.parametrize("fal_stops", [True, False], ids=["fal-stops", "fal-finishes-anyway"])
async def test_a_cancel_while_fal_renders_shows_the_hold_until_fal_ends_it(
    tmp_path: Path, fal_stops: bool
) -> None:
    async with (
        FakeDiscord() as fake,
        # A long render, so the cancel surely comes while fal renders; `finish` ends it.
        SimulatedFal(generation_seconds=60, queue_seconds=0.05,
                     honour_running_cancel=fal_stops) as fal,
    ):  # fmt: skip
        fake.add_channel(CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        async with paid_core_on(settings, fal) as core:
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                     throttle=EditThrottle(0), gateway=False)  # fmt: skip
            core.posters[Platform.DISCORD] = adapter.poster
            await adapter.start()
            alice = OnDiscord(fake, adapter)
            try:
                held = await alice.slash("generate", **SMALL)
                assert held["content"].startswith(f"Held {HOLD} for job")
                job_id = held["content"].split("`")[1]
                await alice.status_saying(job_id, "rendering")

                answer = await alice.press_cancel(job_id)
                assert answer == (
                    f"Job `{job_id}`: Asked fal to stop. If fal finishes anyway, the video is "
                    f"posted and up to {HOLD} charged."
                )
                status = await alice.status_saying(job_id, "Asked fal to stop")
                assert f"{HOLD} held" in status and "released" not in status
                assert alice.status_message(job_id)["components"] == []  # asked: no 2nd Cancel
                assert f"$0.00 spent · {HOLD} in flight" in await alice.budget()
                assert "released" not in alice.status(job_id)  # still true after the look

                job = await core.storage.jobs.get(job_id)
                assert job is not None and job.fal_request_id is not None
                fal.finish(job.fal_request_id)
                if fal_stops:
                    status = await alice.status_saying(job_id, "Cancelled.")
                    assert f"{HOLD} released · job" in status
                    assert f"{HOLD} released back to your budget." in status
                    assert "$0.00 spent · $0.00 in flight" in await alice.budget()
                else:
                    status = await alice.status_saying(job_id, "done")
                    assert f"{HOLD} charged · job" in status and "held" not in status
                    assert f"fal finished before it could stop · {HOLD} charged" in status
                    assert f"{HOLD} spent · $0.00 in flight" in await alice.budget()
                await core.supervisor.wait(job_id)
                job = await core.storage.jobs.get(job_id)
                entries = await core.storage.ledger.entries(scope=f"discord:{GUILD}")
            finally:
                await adapter.close()
    assert job is not None
    kinds = [e.kind for e in entries if e.ref == job_id]
    uploads = [c for c in fake.calls if c.files and c.status == 200]
    if fal_stops:
        assert job.state is JobState.CANCELLED and kinds == [EntryKind.HOLD, EntryKind.RELEASE]
        assert uploads == []
    else:
        assert job.state is JobState.DELIVERED and kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert job.captured_nanos == HOLD.nanos
        assert len(uploads) == 1 and uploads[0].files[0].data[4:8] == b"ftyp"
