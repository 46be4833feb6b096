"""Approvals on Discord: the request lands in the admin channel with Approve / Deny buttons,
and Approve pressed there by an admin starts the job (refused for anyone else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from discordkit import (
    ADMIN,
    ADMIN_CHANNEL,
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    SMALL,
    Kit,
    kit_for,
    png,
)

from bot.jobs.record import JobState
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o

policy_kit = kit_for


def admin_slash(kit: Kit, sub: str, **options: object) -> dict[str, Any]:
    """`/ltx-admin <sub> ...` by an admin."""
    return kit.admin(sub, ADMIN, **options)


async def ask(kit: Kit, payload: dict[str, Any]) -> str:
    kit.deliver(payload)
    return await kit.answer(payload)


def press(kit: Kit, channel: str, custom_id: str, member: dict[str, Any],
          message: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return kit.fake.interaction(ix.MESSAGE_COMPONENT, channel, member, ix.button_data(custom_id),
                                message=message)  # fmt: skip


async def test_a_request_lands_in_the_admin_channel_and_an_admins_approve_starts_it(
    tmp_path: Path,
) -> None:
    async with policy_kit(tmp_path) as kit:
        mention = f"<#{ADMIN_CHANNEL}>"
        assert mention in await ask(kit, admin_slash(kit, "channel", action="admin",
                                                     channel=mention))  # fmt: skip
        assert "Set Default per-user cap: $0.00" in await ask(
            kit, admin_slash(kit, "caps", action="set", target="default", amount="0")
        )

        generate = kit.slash("generate", ALICE, sheet=kit.sheet(png()), **SMALL)
        kit.deliver(generate)
        refused = await kit.answer(generate)
        assert "your daily cap has $0.00 left" in refused and "Ask for approval" in refused
        answer = [c for c in kit.fake.webhook_calls(generate) if c.method == "PATCH"][-1].body
        ask_id = answer["components"][0]["components"][0]["custom_id"]
        job_id = ask_id.split(":")[2]
        assert ask_id == f"ltx:ask_approval:{job_id}" and kit.runner.started == []

        note = o.message(o.snowflake(), CHANNEL, kit.fake.bot, components=answer["components"],
                         flags=o.EPHEMERAL, guild_id=GUILD)  # fmt: skip
        asked = await ask(kit, press(kit, CHANNEL, ask_id, ALICE, note))
        assert asked.startswith(f"Asked the admins in {mention} to approve")
        [post] = kit.fake.messages_to(ADMIN_CHANNEL)
        assert f"<@{ALICE['user']['id']}> asks for approval" in post.body["content"]
        fields = {f["name"]: f["value"] for f in post.body["embeds"][0]["fields"]}
        assert fields["Why it needs approval"].startswith("their daily cap: $0.00 left of $0.00")
        buttons = [(b["label"], b["custom_id"]) for b in post.body["components"][0]["components"]]
        assert [label for label, _ in buttons][1] == "Deny"
        assert [custom for _, custom in buttons] == [f"ltx:approve:{job_id}",
                                                     f"ltx:deny:{job_id}"]  # fmt: skip
        [request] = [m for m in kit.fake.messages.values() if m["channel_id"] == ADMIN_CHANNEL]

        refused_bob = await ask(kit, press(kit, ADMIN_CHANNEL, buttons[0][1], BOB, request))
        assert "Only an admin" in refused_bob and kit.runner.started == []
        approved = await ask(kit, press(kit, ADMIN_CHANNEL, buttons[0][1], ADMIN, request))
        assert approved.startswith(f"Approved: job `{job_id}` started")
        [job] = kit.runner.started
        assert job.id == job_id and job.state is JobState.HELD
        assert job_id in await kit.services.ledger.open_holds()
        told = kit.fake.messages_to(CHANNEL)[-1].body["content"]
        assert told == (f"<@{ADMIN['user']['id']}> approved your $0.0024075 video "
                        f"(job `{job_id}`); it is starting.")  # fmt: skip
        again = await ask(kit, press(kit, ADMIN_CHANNEL, buttons[1][1], ADMIN, request))
        assert again.startswith("Already approved by") and len(kit.runner.started) == 1
