"""One whole job: a real core (runner, SQLite, simulated fal) behind discord.py on a fake
Discord, from `/ltx generate` to the MP4 uploaded in the job's thread."""

from __future__ import annotations

from pathlib import Path

from discordkit import ALICE, CHANNEL, GUILD, SMALL, settings_for

from adapters.app.core import build_core
from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.jobs.record import JobState
from bot.model import Platform
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord

SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"
FAST_FAL = {"generation_seconds": 0.1, "queue_seconds": 0.05}


async def test_generate_to_video_in_the_thread(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        async with build_core(settings, poll_interval=0.05,
                              simulated_fal_options=FAST_FAL) as core:  # fmt: skip
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                     throttle=EditThrottle(0), gateway=False)  # fmt: skip
            core.posters[Platform.DISCORD] = adapter.poster
            await adapter.start()
            try:
                data = SHEET.read_bytes()
                sheet = o.attachment(
                    o.snowflake(),
                    "chef-sheet.png",
                    len(data),
                    fake.host("chef-sheet.png", data, "image/png"),
                    "image/png",
                )
                payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                           ix.slash_data("ltx", "generate", SMALL,
                                                         attachments={"sheet": sheet}))  # fmt: skip
                adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
                uploads = await fake.wait_for(
                    lambda: [c for c in fake.calls if c.files and c.status == 200], timeout=30
                )
                status = fake.messages_to(CHANNEL)[0]
                job_id = status.body["components"][0]["components"][0]["custom_id"].split(":")[2]
                await core.supervisor.wait(job_id)
                job = await core.storage.jobs.get(job_id)
            finally:
                await adapter.close()
    assert job is not None and job.state is JobState.DELIVERED
    assert uploads[0].path == f"/channels/{job.origin.status_message_id}/messages"  # the thread
    assert uploads[0].files[0].data[4:8] == b"ftyp"  # a real MP4 from the simulated fal
    assert job.origin.result_message_id in fake.messages
