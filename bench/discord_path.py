"""The Discord path of a command, with Discord outside the bot's process as in production.

Harness side (`DiscordSide`): tests/fakes' Discord REST API and gateway (v10, zlib-stream) in
the harness process. Bot side (`start_discord`, in the measured child): the real
`DiscordAdapter` (discord.py's AutoShardedClient) logged in to that REST API and connected to
that gateway. The burst is 200 INTERACTION_CREATE events pushed down the gateway socket at
once, the way Discord delivers `/ltx generate` with an attached sheet.

Two times per command, both read on the harness's clock: the ack (Discord received the
deferral callback; it must within 3 s) and, for bursts of up to ANSWERS_UP_TO commands, the
answer (the deferred message was edited with the Reply, e.g. "Held ... for job ...").
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from pydantic import SecretStr

from bench.wiring import SHEET, now, options
from bot.model import Platform

GUILD, CHANNEL = "900000000000000001", "900000000000000002"
ANSWERS_UP_TO = 20


class DiscordSide:
    """Discord's end of the run: the fake, the burst's payloads, and the times it saw."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self.fake: Any = None
        self.payloads: list[dict[str, Any]] = []

    async def prepare(self, params: dict[str, Any], count: int) -> dict[str, Any]:
        """Start the fake and build the burst; returns what the bot needs to reach it."""
        from tests.fakes.discord_api import interactions as ix
        from tests.fakes.discord_api import objects as o
        from tests.fakes.discord_api.server import FakeDiscord

        self.fake = await self.stack.enter_async_context(FakeDiscord())
        self.fake.add_channel(CHANNEL, GUILD)
        sheet_bytes = SHEET.read_bytes()
        for number in range(count):
            url = self.fake.host("sheet.png", sheet_bytes, "image/png")
            sheet = o.attachment(o.snowflake(), "sheet.png", len(sheet_bytes), url, "image/png")
            member = o.member(str(800000000000100000 + number), f"user{number}")
            data = ix.slash_data("ltx", "generate", options(params), attachments={"sheet": sheet})
            payload = self.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, member, data)
            self.payloads.append(payload)
        return {"discord_api_url": self.fake.api_url, "discord_token": self.fake.token}

    async def burst(self, timeout: float) -> list[dict[str, Any]]:
        """Once the bot's gateway session is live: every interaction at once; the records."""
        fake, count = self.fake, len(self.payloads)
        await fake.wait_for(fake.gateway.live_sessions, timeout=timeout)
        start = now()
        for payload in self.payloads:  # one socket: Discord sends them one after another
            await fake.gateway.dispatch("INTERACTION_CREATE", payload)

        def answered() -> list[Any]:
            return [c for c in fake.calls if c.method == "PATCH" and "@original" in c.path]

        def deferred() -> list[Any]:
            return [c for c in fake.calls if c.path.endswith("/callback")]

        # Small bursts wait for every answer too; a big one only for the acks (its answers
        # take the whole burst's work, which the console run already measures).
        wait_answers = count <= ANSWERS_UP_TO
        await fake.wait_for(
            lambda: len(answered() if wait_answers else deferred()) >= count, timeout=timeout
        )
        acks = {c.path.split("/")[2]: c.at for c in deferred()}
        answers = {c.path.split("/")[3]: (c.at, c.body) for c in answered()}
        records = []
        for payload in self.payloads:
            at, body = answers.get(payload["token"], (None, None))
            text = str((body or {}).get("content", ""))
            records.append({
                "job_id": None, "arrived": start,
                "ack_s": acks[payload["id"]] - start if payload["id"] in acks else None,
                "answer_s": at - start if at is not None else None,
                "refusal": None if at is None or "Held" in text else text[:200],
            })  # fmt: skip
        return records


async def start_discord(core: Any, params: dict[str, Any], stack: AsyncExitStack) -> None:
    """In the bot's process: the adapter on the harness's Discord, connected and ready."""
    from adapters.discord import DiscordAdapter

    settings = core.settings.model_copy(
        update={"discord_token": SecretStr(params["discord_token"]),
                "discord_api_url": params["discord_api_url"], "discord_guild_ids": GUILD}
    )  # fmt: skip
    adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue)
    await adapter.start()
    stack.push_async_callback(adapter.close)
    core.posters[Platform.DISCORD] = adapter.poster
    await adapter.client.wait_until_ready()
