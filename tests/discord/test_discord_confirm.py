"""The price confirmation on Discord: an admin sets the threshold with `/ltx-admin limits`, a
generate above it answers with an ephemeral Confirm / Abort prompt, and the buttons answer in
place of the prompt. A real core with stored policy; only the runner records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discordkit import (
    ADMIN,
    ALICE,
    CHANNEL,
    Kit,
    kit_for,
    png,
)

from bot.jobs.record import JobState
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.objects import EPHEMERAL

# 1280x720, 121 frames: $0.27, under the $1 a day each member has here.
PRICED = {"prompt": "the chef tosses pasta", "resolution": "1280x720", "num_frames": 121}


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    async with kit_for(tmp_path) as made:
        yield made


def admin_command(kit: Kit, sub: str, member: dict[str, Any], **options: object) -> dict:
    """`/ltx-admin <sub> name:value ...`."""
    return kit.admin(sub, member, **options)


async def edited(kit: Kit, payload: dict[str, Any]) -> dict[str, Any]:
    """The body of the last edit of the interaction's original message."""
    calls = await kit.fake.wait_for(
        lambda: [c for c in kit.fake.webhook_calls(payload) if c.method == "PATCH"]
    )
    return calls[-1].body


async def prompt(kit: Kit) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Alice's generate above the threshold: the ephemeral prompt and its buttons by action."""
    payload = kit.slash("generate", ALICE, sheet=kit.sheet(png()), **PRICED)
    kit.deliver(payload)
    body = await edited(kit, payload)
    assert kit.fake.callbacks(payload)[0].body["data"]["flags"] & EPHEMERAL
    buttons = {b["custom_id"].split(":")[1]: b for row in body["components"]
               for b in row["components"]}  # fmt: skip
    message = o.message(o.snowflake(), CHANNEL, kit.fake.bot, content=body["content"],
                        components=body["components"], flags=EPHEMERAL,
                        guild_id="900000000000000001")  # fmt: skip
    return message, buttons


def press(kit: Kit, message: dict[str, Any], button: dict[str, Any]) -> dict[str, Any]:
    data = ix.button_data(button["custom_id"])
    return kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, ALICE, data, message=message)


async def test_confirm_starts_the_job_and_abort_rejects_it(kit: Kit) -> None:
    limits = admin_command(kit, "limits", ADMIN, confirm_above="0.10")
    kit.deliver(limits)
    assert "confirm: above $0.10" in await kit.answer(limits)

    message, buttons = await prompt(kit)
    assert "This video costs $0.27" in message["content"]
    assert "above the $0.10 that needs a confirmation here" in message["content"]
    assert set(buttons) == {"confirm", "abort"}
    assert buttons["confirm"]["label"] == "Confirm $0.27" and buttons["confirm"]["style"] == 1
    assert buttons["abort"]["style"] == 4  # danger
    job_id = buttons["confirm"]["custom_id"].removeprefix("ltx:confirm:")
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []

    confirm = press(kit, message, buttons["confirm"])
    kit.deliver(confirm)
    answer = await edited(kit, confirm)
    assert kit.fake.callbacks(confirm)[0].body["type"] == 6  # DEFERRED_UPDATE_MESSAGE
    assert answer["content"].startswith(f"Held $0.27 for job `{job_id}`")
    assert answer["components"] == []  # the prompt's buttons are gone
    assert [j.id for j in kit.runner.started] == [job_id]
    assert await kit.services.ledger.open_holds() == [job_id]

    message, buttons = await prompt(kit)
    other = buttons["abort"]["custom_id"].removeprefix("ltx:abort:")
    abort = press(kit, message, buttons["abort"])
    kit.deliver(abort)
    answer = await edited(kit, abort)
    assert answer["content"] == f"Aborted job `{other}`; nothing was held."
    assert answer["components"] == [] and answer["embeds"] == []
    job = await kit.services.jobs.get(other)
    assert job is not None and job.state is JobState.REJECTED
    assert len(kit.runner.started) == 1 and await kit.services.ledger.open_holds() == [job_id]


async def test_a_member_cannot_set_the_threshold(kit: Kit) -> None:
    limits = admin_command(kit, "limits", ALICE, confirm_above="0.10")
    kit.deliver(limits)
    assert "Only an admin" in await kit.answer(limits)
    payload = kit.slash("generate", ALICE, sheet=kit.sheet(png()), **PRICED)
    kit.deliver(payload)
    assert "Held $0.27" in await kit.answer(payload)  # no prompt: nothing was changed
