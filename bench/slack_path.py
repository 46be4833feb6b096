"""The Slack path of a command, with Slack outside the bot's process as in production.

Harness side (`SlackSide`): tests/fakes' Slack Web API, and the sender of the burst: 200
signed `/ltx` slash commands POSTed at once, exactly as Slack posts them. Bot side
(`start_slack`, in the measured child): the real `SlackAdapter` (bolt's AsyncApp, HTTP mode)
on a loopback port, calling that Web API.

`/ltx` with no text is how a Slack user starts a video (it opens the form), so the ack timed
here is bolt's HTTP 200 to that request, read by the sender: Slack needs it within 3 s. The
form itself (views.open) is opened after the ack and not timed.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bench.wiring import now
from bot.model import Platform

TEAM, SECRET, TOKEN = "T0TEAM", "bench-signing-secret", "xoxb-bench-token"


class SlackSide:
    """Slack's end of the run: the fake Web API and the sender of the signed commands."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self.count = 0

    async def prepare(self, params: dict[str, Any], count: int) -> dict[str, Any]:
        from tests.fakes.slack_api import FakeSlackAPI

        slack = await self.stack.enter_async_context(FakeSlackAPI(bot_token=TOKEN, team_id=TEAM))
        for number in range(count):
            slack.add_user(f"U{number:05d}", name=f"user{number}")
        self.count = count
        return {"slack_api_url": slack.api_url}

    async def burst(self, port: int, timeout: float) -> list[dict[str, Any]]:
        """Every command at once to the bot on `port`; one record each.

        Each command has its own connection, opened beforehand (as Slack keeps them), and all
        the requests are written in one go before any answer is read: the sender's own work
        stays out of the acks, which are the time from that moment to each whole answer."""
        signer = SignatureVerifier(SECRET)
        stamp = str(int(time.time()))
        requests = [self._request(number, signer, stamp, port) for number in range(self.count)]
        connections = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
        for _, writer in connections:
            self.stack.callback(writer.close)
        start = now()
        for (_, writer), request in zip(connections, requests, strict=True):
            writer.write(request)

        async def answer(reader: asyncio.StreamReader) -> dict[str, Any]:
            status = await _read_status(reader)
            ok = status == 200
            return {"job_id": None, "arrived": start, "ack_s": now() - start if ok else None,
                    "answer_s": None, "refusal": None if ok else f"HTTP {status}"}  # fmt: skip

        answers = (answer(reader) for reader, _ in connections)
        return list(await asyncio.wait_for(asyncio.gather(*answers), timeout))

    @staticmethod
    def _request(number: int, signer: SignatureVerifier, stamp: str, port: int) -> bytes:
        body = urlencode({
            "token": "legacy", "team_id": TEAM, "team_domain": "bench", "channel_id": "C1",
            "channel_name": "general", "user_id": f"U{number:05d}", "user_name": f"user{number}",
            "command": "/ltx", "text": "", "api_app_id": "A0APP", "response_url": "",
            "is_enterprise_install": "false", "trigger_id": f"trig-{number}",
        })  # fmt: skip
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {stamp}\r\n"
            f"X-Slack-Signature: {signer.generate_signature(timestamp=stamp, body=body)}\r\n\r\n"
        )
        return head.encode() + body.encode()


async def _read_status(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 answer, read to the end of its body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def start_slack(core: Any, params: dict[str, Any], stack: AsyncExitStack) -> int:
    """In the bot's process: the adapter in HTTP mode on the harness's Slack; its port."""
    from adapters.slack import SlackAdapter

    settings = core.settings.model_copy(
        update={"slack_bot_token": SecretStr(TOKEN), "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": params["slack_api_url"], "slack_port": 0,
                "slack_app_token": None}
    )  # fmt: skip
    adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
    await adapter.start()
    stack.push_async_callback(adapter.close)
    core.posters[Platform.SLACK] = adapter.poster
    return int(adapter.port)
