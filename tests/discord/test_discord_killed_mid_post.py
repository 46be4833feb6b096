"""SIGKILL `ltxbot run` after Discord took the video's upload but before the bot heard back
(DELIVERED not stored), start it again: one copy in the thread, one capture. Inside Discord's
nonce window the resend is deduplicated; past it, the bot finds its message in the thread."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import pytest

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.ports import EntryKind
from storage import open_storage
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord
from tests.runner.clikit import bot_env, read_until, start

GUILD, CHANNEL = "920000000000000001", "920000000000000002"
ALICE = o.member("820000000000000001", "alice")
SMALL = {"prompt": "the chef tosses pasta", "resolution": "256x160", "num_frames": 9}
SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def stopped(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 20)


async def generate(fake: FakeDiscord) -> None:
    data = SHEET.read_bytes()
    url = fake.host("chef.png", data, "image/png")
    sheet = o.attachment(o.snowflake(), "chef.png", len(data), url, "image/png")
    options = ix.slash_data("ltx", "generate", SMALL, attachments={"sheet": sheet})
    payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, options)
    await fake.gateway.dispatch("INTERACTION_CREATE", payload)


def videos(fake: FakeDiscord) -> list[dict]:
    return [m for m in fake.messages.values()
            if any(a["filename"].startswith("ltx-") for a in m["attachments"])]  # fmt: skip


@pytest.mark.parametrize("nonce_window", [300.0, 0.0])
async def test_a_bot_killed_after_discord_took_the_video_posts_it_once(
    tmp_path: Path, nonce_window: float
) -> None:
    async with (
        SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal,
        FakeDiscord() as fake,
    ):
        fake.add_channel(CHANNEL, GUILD)
        bundle = trust_bundle(fal.ca_file)
        env = {**bot_env(tmp_path, fal, bundle), "LTXBOT_REPLICA_ID": "replica-1",
               "LTXBOT_DISCORD_TOKEN": fake.token, "LTXBOT_DISCORD_API_URL": fake.api_url,
               "LTXBOT_DISCORD_GUILD_IDS": GUILD,
               "LTXBOT_WEBHOOK_PORT": str(free_port())}  # fmt: skip
        fake.stall_uploads = True
        first = await start(env, "run")
        second = None
        try:
            await fake.wait_for(fake.gateway.live_sessions, 30)
            await generate(fake)
            await fake.wait_for(lambda: videos(fake), 30)  # Discord has it; no answer yet
            first.send_signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
            fake.unstall()
            fake.nonce_window = nonce_window

            second = await start(env, "run")
            assert second.stdout is not None
            await read_until(second.stdout, "-> delivered", 30)
        finally:
            await stopped(first)
            if second is not None:
                assert await stopped(second) == 0
            bundle.unlink()
        [video] = videos(fake)

    storage = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        [job] = await storage.jobs.in_states(list(JobState))
        assert job.state is JobState.DELIVERED and job.origin.result_message_id == video["id"]
        assert video["channel_id"] == job.origin.status_message_id  # in the job's thread
        entries = await storage.ledger.entries(scope=f"discord:{GUILD}")
        assert [e.kind for e in entries] == [EntryKind.HOLD, EntryKind.CAPTURE]
    finally:
        await storage.close()
