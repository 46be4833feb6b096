"""The Discord path of a command: the real `DiscordAdapter` (discord.py) on the fake Discord
REST API of tests/fakes, fed INTERACTION_CREATE payloads the way its gateway hands them over.

The adapter defers every interaction first, so two times are recorded per command: the ack
(Discord received the deferral callback; it must within 3 s) and the answer (the deferred
message was edited with the Reply, e.g. "Held ... for job ..."), the latter only for bursts
of up to ANSWERS_UP_TO commands.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from pydantic import SecretStr

from bench.wiring import SHEET, now, options
from bot.model import Platform

GUILD, CHANNEL = "900000000000000001", "900000000000000002"
ANSWERS_UP_TO = 20


async def discord_burst(
    core: Any, params: dict[str, Any], count: int, stack: AsyncExitStack
) -> list[dict[str, Any]]:
    """`count` /ltx generate interactions at once; records with ack_s and answer_s."""
    from adapters.discord import DiscordAdapter
    from tests.fakes.discord_api import interactions as ix
    from tests.fakes.discord_api import objects as o
    from tests.fakes.discord_api.server import FakeDiscord

    fake = await stack.enter_async_context(FakeDiscord())
    fake.add_channel(CHANNEL, GUILD)
    settings = core.settings.model_copy(
        update={"discord_token": SecretStr(fake.token), "discord_api_url": fake.api_url,
                "discord_guild_ids": GUILD}
    )  # fmt: skip
    adapter = DiscordAdapter(settings, core.commands, gateway=False)
    await adapter.start()
    stack.push_async_callback(adapter.close)
    core.posters[Platform.DISCORD] = adapter.poster
    sheet_bytes = SHEET.read_bytes()
    payloads = []
    for number in range(count):
        url = fake.host("sheet.png", sheet_bytes, "image/png")
        sheet = o.attachment(o.snowflake(), "sheet.png", len(sheet_bytes), url, "image/png")
        member = o.member(str(800000000000100000 + number), f"user{number}")
        data = ix.slash_data("ltx", "generate", options(params), attachments={"sheet": sheet})
        payloads.append(fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, member, data))
    start = now()
    for payload in payloads:
        adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    def answered() -> list[Any]:
        return [c for c in fake.calls if c.method == "PATCH" and "@original" in c.path]

    def deferred() -> list[Any]:
        return [c for c in fake.calls if c.path.endswith("/callback")]

    # Small bursts wait for every answer too; a big one only for the acks (its answers take
    # the whole burst's work, which the console run already measures).
    wait_answers = count <= ANSWERS_UP_TO
    await fake.wait_for(
        lambda: len(answered() if wait_answers else deferred()) >= count,
        timeout=params["timeout"],
    )
    acks = {c.path.split("/")[2]: c.at for c in fake.calls if c.path.endswith("/callback")}
    answers = {c.path.split("/")[3]: (c.at, c.body) for c in answered()}
    records = []
    for payload in payloads:
        at, body = answers.get(payload["token"], (None, None))
        text = str((body or {}).get("content", ""))
        records.append({
            "job_id": None, "arrived": start,
            "ack_s": acks[payload["id"]] - start if payload["id"] in acks else None,
            "answer_s": at - start if at is not None else None,
            "refusal": None if at is None or "Held" in text else text[:200],
        })  # fmt: skip
    return records
