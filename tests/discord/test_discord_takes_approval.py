"""Takes above the approval threshold on Discord, the whole way (a real core, SQLite, the
simulated fal, discord.py on a fake Discord): one request in the admin channel for the group,
an admin's Approve holds and starts every take, and they come back as one takes message in
take 1's thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discordkit import ADMIN, ADMIN_CHANNEL, ALICE, CHANNEL, GUILD, SMALL, settings_for
from test_discord_takes import SHEET

from adapters.app.core import build_core
from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.jobs.record import JobState
from bot.model import Platform
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord


def buttons(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["label"], b["custom_id"]) for row in body.get("components", [])
            for b in row["components"]]  # fmt: skip


async def test_an_admin_approves_the_takes_as_one_group_and_they_post_together(
    tmp_path: Path,
) -> None:
    fast = {"generation_seconds": 0.1, "queue_seconds": 0.05}
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        fake.add_channel(ADMIN_CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        async with build_core(settings, poll_interval=0.05, simulated_fal_options=fast) as core:
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                     throttle=EditThrottle(0), gateway=False)  # fmt: skip
            core.posters[Platform.DISCORD] = adapter.poster
            await adapter.start()

            async def run(payload: dict[str, Any]) -> dict[str, Any]:
                adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
                calls = await fake.wait_for(
                    lambda: [c for c in fake.webhook_calls(payload) if c.method == "PATCH"]
                )
                return calls[-1].body

            def admin(sub: str, **options: object) -> dict[str, Any]:
                data = ix.slash_data("ltx-admin", sub, options)
                return fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ADMIN, data)

            def press(channel: str, custom_id: str, member: dict[str, Any],
                      message: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
                return fake.interaction(ix.MESSAGE_COMPONENT, channel, member,
                                        ix.button_data(custom_id), message=message)  # fmt: skip

            try:
                await run(admin("channel", action="admin", channel=f"<#{ADMIN_CHANNEL}>"))
                # One small take is $0.0024075: three are above $0.005, one is not.
                await run(admin("limits", approval_above="0.005"))
                data = SHEET.read_bytes()
                url = fake.host("chef-sheet.png", data, "image/png")
                sheet = o.attachment(o.snowflake(), "chef-sheet.png", len(data), url, "image/png")
                options = {**SMALL, "takes": 3, "seed": 10}
                slash = ix.slash_data("ltx", "generate", options, attachments={"sheet": sheet})
                generate = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, slash)
                offer = await run(generate)
                assert offer["content"].startswith(
                    "These 3 takes cost $0.0072225, above the $0.005 that needs an admin's "
                    "approval here.\nAn admin can let them through"
                ), offer["content"]
                [(_, ask_id), _] = buttons(offer)
                note = o.message(o.snowflake(), CHANNEL, fake.bot, components=offer["components"],
                                 flags=o.EPHEMERAL, guild_id=GUILD)  # fmt: skip
                asked = await run(press(CHANNEL, ask_id, ALICE, note))
                assert "to approve $0.0072225 for 3 takes (jobs" in asked["content"]
                [post] = fake.messages_to(ADMIN_CHANNEL)
                assert "asks for approval of 3 takes, $0.0072225 in all" in post.body["content"]
                fields = {f["name"]: f["value"] for f in post.body["embeds"][0]["fields"]}
                assert fields["Price"] == "3 takes x $0.0024075 = $0.0072225"
                [(_, approve_id), _] = buttons(post.body)
                [request] = [m for m in fake.messages.values()
                             if m["channel_id"] == ADMIN_CHANNEL]  # fmt: skip
                approved = await run(press(ADMIN_CHANNEL, approve_id, ADMIN, request))
                assert approved["content"].startswith("Approved: 3 takes (jobs")
                first = await core.storage.jobs.get(approve_id.split(":")[2])
                assert first is not None and len(first.take_ids) == 3
                await fake.wait_for(
                    lambda: [c for c in fake.calls if c.files and c.status == 200], timeout=30
                )
                for job_id in first.take_ids:
                    await core.supervisor.wait(job_id)
                takes = [await core.storage.jobs.get(job_id) for job_id in first.take_ids]
            finally:
                await adapter.close()
    assert all(job is not None and job.state is JobState.DELIVERED for job in takes)
    assert [job.request.seed for job in takes if job] == [10, 11, 12]
    uploads = [c for c in fake.calls if c.files and c.status == 200]
    assert len(uploads) == 1 and len(uploads[0].files) == 3  # one takes message
    leader = takes[0]
    assert leader is not None
    assert uploads[0].path == f"/channels/{leader.origin.status_message_id}/messages"
    told = [m.body["content"] for m in fake.messages_to(CHANNEL)]
    assert any("approved your 3 takes" in text and "they are starting" in text for text in told)
