"""Drive a real bolt AsyncApp over HTTP with signed requests shaped like Slack's, against the
local fake of Slack's Web API, with real Commands on SQLite and a runner that only records."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from PIL import Image
from slack_sdk.signature import SignatureVerifier

from adapters.app.core import Core, build_core
from adapters.slack import SlackAdapter
from bot.events import Cancelled
from bot.jobs.record import Job
from bot.model import Platform
from bot.money import Money
from bot.settings import Settings
from commands.context import Services
from storage import Storage
from tests.clocks import Clock
from tests.services import services_on

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0TEAM"


@dataclass
class Monotonic:
    """The poster's clock: seconds that move only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class GatedSleep:
    """An injected sleep that records how long it was asked for and waits for `release()`."""

    asked: list[float] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    called: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.called.set()
        await self.gate.wait()

    async def first_call(self) -> float:
        await asyncio.wait_for(self.called.wait(), 5)
        return self.asked[0]

    def release(self) -> None:
        self.gate.set()


async def no_sleep(seconds: float) -> None:
    """For files.info polling: record nothing, wait nothing."""


@dataclass
class RecordingRunner:
    started: list[Job] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, job: Job) -> None:
        self.started.append(job)
        self.changed.set()

    async def wait_started(self, count: int = 1, timeout: float = 5) -> list[Job]:
        async with asyncio.timeout(timeout):
            while len(self.started) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.started

    async def cancel(self, job_id: str) -> Cancelled | None:
        self.cancelled.append(job_id)
        return Cancelled(Money.usd("0.40"))


def services_for(settings: Settings, storage: Storage) -> Services:
    """Real commands' services on real storage, $1 a day per user, a recording runner."""
    return services_on(storage, settings, RecordingRunner(), Clock())


def png_bytes(width: int = 320, height: int = 192) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Driver:
    """Signed HTTP requests to the adapter's /slack/events, timed."""

    url: str
    session: aiohttp.ClientSession
    secret: str = SECRET
    elapsed: list[float] = field(default_factory=list)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signed = SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or signed,
            **(headers or {}),
        }
        started = time.monotonic()
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
        self.elapsed.append(time.monotonic() - started)
        return resp.status, text

    async def command(self, text: str = "", *, user: str = "U1", channel: str = "C1",
                      trigger: str = "1337.42.abc", response_url: str = "",
                      **more: Any) -> tuple[int, str]:  # fmt: skip
        form = {
            "token": "legacy", "team_id": TEAM, "team_domain": "fake", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(),
            "command": "/ltx", "text": text, "api_app_id": "A0APP",
            "is_enterprise_install": "false", "response_url": response_url,
            "trigger_id": trigger,
        }  # fmt: skip
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **more)

    async def interactive(self, payload: dict[str, Any], **more: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **more)

    async def event(self, event: dict[str, Any], *, event_id: str = "Ev01",
                    **more: Any) -> tuple[int, str]:  # fmt: skip
        body = {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": "U0BOT",
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }  # fmt: skip
        return await self.post(json.dumps(body), "application/json", **more)


def user_of(user_id: str = "U1") -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM}


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str = "U1",
                    trigger: str = "trig-view-1") -> dict[str, Any]:  # fmt: skip
    """A view_submission payload for a view we opened, with the user's input state."""
    submitted = {**view, "id": view.get("id", "V0001"), "hash": "h1", "team_id": TEAM,
                 "state": {"values": values}, "app_id": "A0APP", "bot_id": "B0BOT"}  # fmt: skip
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "fake"},
            "user": user_of(user), "api_app_id": "A0APP", "token": "legacy",
            "trigger_id": trigger, "view": submitted, "response_urls": [],
            "is_enterprise_install": False, "enterprise": None}  # fmt: skip


def block_actions(action: dict[str, Any], *, user: str = "U1", channel: str = "C1",
                  message_ts: str = "1700000001.000100", response_url: str = "",
                  trigger: str = "trig-act-1") -> dict[str, Any]:  # fmt: skip
    return {
        "type": "block_actions", "team": {"id": TEAM, "domain": "fake"}, "user": user_of(user),
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": trigger,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                      "is_ephemeral": False},
        "channel": {"id": channel, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "text": "status", "user": "U0BOT"},
        "response_url": response_url, "actions": [{**action, "action_ts": "1700000002.1"}],
        "is_enterprise_install": False, "enterprise": None,
    }  # fmt: skip


@dataclass
class SlackKit:
    adapter: SlackAdapter
    driver: Driver
    slack: Any  # FakeSlackAPI
    services: Services
    runner: RecordingRunner
    ticks: Monotonic
    sleep: GatedSleep

    def response_url(self, name: str = "r1") -> str:
        return f"{self.slack.base_url}/response/{name}"

    async def until(self, predicate: Callable[[], bool], timeout: float = 5) -> None:
        """Wait for a fake-visible effect (checked whenever the fake answers a request)."""
        await self.slack.wait_for(predicate, timeout)

    async def settle(self) -> None:
        await self.adapter.tasks.wait_idle()

    async def open_holds(self) -> list[str]:
        return await self.services.ledger.open_holds()


Waiter = Callable[[], Awaitable[None]]


@asynccontextmanager
async def on_simulated_fal(
    tmp_path: Path, slack: Any, generation_seconds: float = 0.2, faults: Any = None
) -> AsyncIterator[tuple[Core, Driver]]:
    """The whole way: a real core and runner on the simulated fal behind a SlackAdapter in HTTP
    mode on `slack` (a FakeSlackAPI), and a driver for its endpoint."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, backend="simulated", slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    fast = {"generation_seconds": generation_seconds, "queue_seconds": 0.05}
    if faults is not None:
        fast["faults"] = faults
    async with (
        build_core(settings, poll_interval=0.05, simulated_fal_options=fast) as core,
        aiohttp.ClientSession() as session,
    ):
        adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
        core.posters[Platform.SLACK] = adapter.poster
        await adapter.start()
        try:
            yield core, Driver(f"http://127.0.0.1:{adapter.port}/slack/events", session)
        finally:
            await adapter.close()
