"""The Slack path of a command: the real `SlackAdapter` (bolt's AsyncApp, HTTP mode) on the fake
Slack Web API of tests/fakes, sent signed `/ltx` slash commands exactly as Slack posts them.

`/ltx` with no text is how a Slack user starts a video (it opens the form), so the ack timed
here is bolt's HTTP 200 to that request: Slack needs it within 3 s. The form itself (views.open)
is opened after the ack and not timed.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode

import aiohttp
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bench.wiring import now
from bot.model import Platform

TEAM, SECRET, TOKEN = "T0TEAM", "bench-signing-secret", "xoxb-bench-token"


async def slack_burst(
    core: Any, params: dict[str, Any], count: int, stack: AsyncExitStack
) -> list[dict[str, Any]]:
    """`count` signed `/ltx` commands at once; records with ack_s (None when not 200)."""
    from adapters.slack import SlackAdapter
    from tests.fakes.slack_api import FakeSlackAPI

    slack = await stack.enter_async_context(FakeSlackAPI(bot_token=TOKEN, team_id=TEAM))
    for number in range(count):
        slack.add_user(f"U{number:05d}", name=f"user{number}")
    settings = core.settings.model_copy(
        update={"slack_bot_token": SecretStr(TOKEN), "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.api_url, "slack_port": 0, "slack_app_token": None}
    )  # fmt: skip
    adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
    await adapter.start()
    stack.push_async_callback(adapter.close)
    core.posters[Platform.SLACK] = adapter.poster
    session = await stack.enter_async_context(
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    )
    url = f"http://127.0.0.1:{adapter.port}/slack/events"
    signer = SignatureVerifier(SECRET)
    bodies = [
        urlencode({
            "token": "legacy", "team_id": TEAM, "team_domain": "bench", "channel_id": "C1",
            "channel_name": "general", "user_id": f"U{number:05d}", "user_name": f"user{number}",
            "command": "/ltx", "text": "", "api_app_id": "A0APP", "response_url": "",
            "is_enterprise_install": "false", "trigger_id": f"trig-{number}",
        })
        for number in range(count)
    ]  # fmt: skip

    async def send(body: str, start: float) -> dict[str, Any]:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body),
        }
        async with session.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            acked = now() - start
            status = response.status
        ok = status == 200
        return {
            "job_id": None,
            "arrived": start,
            "ack_s": acked if ok else None,
            "answer_s": None,
            "refusal": None if ok else f"HTTP {status}",
        }

    start = now()
    return list(
        await asyncio.wait_for(
            asyncio.gather(*(send(body, start) for body in bodies)), params["timeout"]
        )
    )
