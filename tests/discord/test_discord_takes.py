"""Takes on Discord, the whole way (a real core, SQLite, the simulated fal, discord.py on a
fake Discord): `/ltx generate takes:3` shows one status message, renders three seeds, and posts
the finished takes in one message with every MP4 attached, each numbered with its seed and with
its own Reroll; a take that fails is released and told in take 1's thread, the others still
come together (the failed one's line with its reason and refund)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discordkit import ALICE, CHANNEL, GUILD, SMALL, settings_for

from adapters.app.core import Core, build_core
from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.fal.simulated.faults import Faults
from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.money import Money
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord

SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"


def labels(body: dict[str, Any]) -> list[str]:
    return [item["label"] for row in body.get("components", []) for item in row["components"]]


async def run_takes(tmp_path: Path, faults: Faults | None = None) -> tuple[FakeDiscord, list[Job]]:
    """`/ltx generate takes:3 seed:10`, until every take has ended; the fake and the takes."""
    fast = {"generation_seconds": 0.1, "queue_seconds": 0.05, "faults": faults}
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        async with build_core(settings, poll_interval=0.05, simulated_fal_options=fast) as core:
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                     throttle=EditThrottle(0), gateway=False)  # fmt: skip
            core.posters[Platform.DISCORD] = adapter.poster
            await adapter.start()
            try:
                takes = await _generate(fake, adapter, core)
            finally:
                await adapter.close()
    return fake, takes


async def _generate(fake: FakeDiscord, adapter: DiscordAdapter, core: Core) -> list[Job]:
    data = SHEET.read_bytes()
    sheet = o.attachment(o.snowflake(), "chef-sheet.png", len(data),
                         fake.host("chef-sheet.png", data, "image/png"), "image/png")  # fmt: skip
    options = {**SMALL, "takes": 3, "seed": 10}
    payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                               ix.slash_data("ltx", "generate", options,
                                             attachments={"sheet": sheet}))  # fmt: skip
    adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await fake.wait_for(lambda: [c for c in fake.calls if c.files and c.status == 200], timeout=30)
    first = [job for job in await core.storage.jobs.in_states(list(JobState)) if job.take == 1]
    ids = first[0].take_ids
    for job_id in ids:
        await core.supervisor.wait(job_id)
    return [job for job_id in ids if (job := await core.storage.jobs.get(job_id)) is not None]


async def test_three_takes_come_in_one_message_each_numbered_with_its_seed(tmp_path: Path) -> None:
    fake, takes = await run_takes(tmp_path)
    assert [job.request.seed for job in takes] == [10, 11, 12]
    assert [job.result.seed for job in takes if job.result] == [10, 11, 12]
    assert all(job.state is JobState.DELIVERED for job in takes)
    uploads = [c for c in fake.calls if c.files and c.status == 200]
    assert len(uploads) == 1 and len(uploads[0].files) == 3  # one message, three MP4s
    assert [f.filename for f in uploads[0].files] == [f"ltx-{job.id}.mp4" for job in takes]
    assert all(f.data[4:8] == b"ftyp" for f in uploads[0].files)
    leader = takes[0]
    assert uploads[0].path == f"/channels/{leader.origin.status_message_id}/messages"  # its thread
    assert {job.origin.result_message_id for job in takes} == {leader.origin.result_message_id}
    body = uploads[0].body
    for k, seed in enumerate((10, 11, 12), 1):
        assert f"Take {k}/3 · seed {seed}" in body["content"]
    assert [label.split(" (")[0] for label in labels(body)] == ["Reroll 1", "Reroll 2", "Reroll 3"]
    assert len(fake.messages_to(CHANNEL)) == 1  # one status message (take 1's) for the three


async def test_a_failed_take_is_released_and_the_others_still_come_together(
    tmp_path: Path,
) -> None:
    fake, takes = await run_takes(tmp_path, Faults(run_error_seeds=frozenset({11})))
    assert [job.state for job in takes] == [JobState.DELIVERED, JobState.FAILED, JobState.DELIVERED]
    uploads = [c for c in fake.calls if c.files and c.status == 200]
    assert len(uploads) == 1 and len(uploads[0].files) == 2
    content = uploads[0].body["content"]
    assert "2 of your 3 takes are ready" in content
    assert "Take 1/3 · seed 10" in content and "Take 3/3 · seed 12" in content
    # The failed take has its line too: its reason and what went back to the budget.
    [failed_line] = [line for line in content.splitlines() if "Take 2/3" in line]
    assert failed_line.startswith("❌ **Take 2/3 · seed 11** · failed: ")
    assert f"{Money(takes[1].quoted_nanos)} released back to your budget" in failed_line
    told = [c for c in fake.calls if c.method == "POST" and "could not be made" in str(c.body)]
    assert told, "the failed take is told to the requester"
    # In take 1's thread, where the takes message is: no message or thread of its own.
    leader, failed = takes[0], takes[1]
    thread = f"/channels/{leader.origin.status_message_id}/messages"
    assert [c.path for c in told] == [thread]
    notice = told[0].body["content"]
    assert notice.startswith(f"❌ <@{ALICE['user']['id']}> **Take 2/3 · seed 11** could not be")
    assert f"{Money(failed.quoted_nanos)} released back to your budget." in notice
    assert len(fake.messages_to(CHANNEL)) == 1  # take 1's status message only
    assert not [c for c in fake.calls if c.path.endswith("/threads")][1:]  # one thread
    assert failed.origin.status_message_id is None
