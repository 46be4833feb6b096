"""`/ltx admin forget user:@member` on the local Discord fake: the admin first reads what would
go, then `yes:True` removes the member's files and prompts; the team's spend stays the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discordkit import ADMIN, ALICE, GUILD, Kit, kit_for
from test_discord_confirm import admin_command

from bot.model import Platform
from tests.forgetkit import PROMPT, files_left, seed_delivered

TEAM = f"discord:{GUILD}"


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    async with kit_for(tmp_path) as made:
        yield made


async def test_an_admin_forgets_a_member_after_reading_what_goes(kit: Kit) -> None:
    alice = ALICE["user"]["id"]
    await seed_delivered(kit.services, Platform.DISCORD, GUILD, alice, "jobforget1")
    usage = kit.services.ledger.usage
    spent = (await usage(scope=TEAM, user_id=None, since=None)).spent
    mention = f"<@{alice}>"

    asked = admin_command(kit, "forget", ADMIN, user=mention)
    kit.deliver(asked)
    text = await kit.answer(asked)
    assert f"Forgetting {mention} removes 1 video, 1 sheet and 1 prompt" in text, text
    assert "`yes:True`" in text and len(files_left(kit.settings.data_dir)) == 2

    member = admin_command(kit, "forget", ALICE, user=mention, yes=True)
    kit.deliver(member)
    assert await kit.answer(member) == "Only an admin of this server can use the admin commands."

    done = admin_command(kit, "forget", ADMIN, user=mention, yes=True)
    kit.deliver(done)
    text = await kit.answer(done)
    assert text.startswith(f"Forgot {mention}: 2 files removed"), text
    assert files_left(kit.settings.data_dir) == []
    job = await kit.services.jobs.get("jobforget1")
    assert job is not None and PROMPT not in job.model_dump_json()
    pseudonym = job.origin.user_id
    assert pseudonym.startswith("forgotten-") and pseudonym in text
    assert (await usage(scope=TEAM, user_id=None, since=None)).spent == spent
    assert (await usage(scope=TEAM, user_id=pseudonym, since=None)).spent == spent
