"""Three `ltxbot run` processes on one PostgreSQL database behind "a load balancer" (the test
spreads Slack's HTTP requests over them), one simulated fal in the test's process and one shared
data dir. A burst of form submissions; one replica is killed with SIGKILL mid-burst and started
again (its fixed replica id takes its jobs back at once). Every job that was held ends exactly
once: one hold and one capture or release, one video post per delivered job, and no job
followed by two replicas at once (fal's status requests per job)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes, view_submission
from test_slack_submit import form, values

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import FINAL, Job, JobState
from bot.ports import EntryKind
from storage import Storage, open_storage
from tests.fakes.slack_api import FakeSlackAPI
from tests.runner.clikit import bot_env, start
from tests.storage.storage_testkit import require_postgres, throwaway_schema

pytestmark = pytest.mark.postgres
JOBS = 12  # the burst: half before the kill, half after
WAIT = 40  # seconds for everything to end (about 10 s on 2 busy cores)
SMALL = {
    "num_frames": {"type": "number_input", "value": "9"},
    "resolution": {"type": "static_select", "selected_option": {"value": "768x448"}},
}


@pytest.fixture
async def database() -> AsyncIterator[str]:
    await require_postgres()
    async with throwaway_schema() as url:
        yield url


@dataclass
class Logs:
    """Every JSON log line of every replica, and a condition to wait on new ones."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    grown: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def add(self, name: str, raw: str) -> None:
        self.text.append(f"{name}: {raw}")
        with suppress(ValueError):
            self.lines.append({"replica": name, **json.loads(raw)})
        async with self.grown:
            self.grown.notify_all()


@dataclass
class Replica:
    """One `ltxbot run` process and what it said."""

    name: str
    env: dict[str, str]
    logs: Logs
    process: asyncio.subprocess.Process | None = None
    port: int = 0
    reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await start(self.env, "run")
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(30), self.logs.grown:
            await self.logs.grown.wait_for(self._started)

    def _started(self) -> bool:
        mine = [line for line in self.logs.lines if line["replica"] == self.name]
        ports = [re.search(r"HTTP mode on port (\d+)", str(line.get("message"))) for line in mine]
        found = [p for p in ports if p]
        if found:
            self.port = int(found[-1][1])
        return bool(found) and any(line.get("message") == "slack adapter started" for line in mine)

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            await self.logs.add(self.name, raw.decode().strip())

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.logs.lines = [line for line in self.logs.lines if line["replica"] != self.name
                           or "HTTP mode" not in str(line.get("message"))]  # fmt: skip
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


async def submit(session: aiohttp.ClientSession, replica: Replica, n: int, file: Any) -> int:
    """One form submission (its own view and trigger) to `replica`; the HTTP status."""
    driver = Driver(f"http://127.0.0.1:{replica.port}/slack/events", session)
    view = {**form(), "id": f"V{n:04d}"}
    payload = view_submission(view, values(file, f"the chef tosses pasta {n}", **SMALL),
                              user=f"U{n % 3 + 1}", trigger=f"trig-{n}")  # fmt: skip
    try:
        status, _ = await driver.interactive(payload)
    except aiohttp.ClientError:
        return 0  # the replica died under it: Slack would show the user an error
    return status


async def at_fal(logs: Logs, name: str, count: int) -> None:
    """Until `count` jobs were submitted to fal by replica `name`."""

    def submitted() -> bool:
        lines = [x for x in logs.lines if x["replica"] == name and x.get("state") == "submitted"]
        return len(lines) >= count

    async with asyncio.timeout(20), logs.grown:
        await logs.grown.wait_for(submitted)


async def all_ended(storage: Storage, logs: Logs) -> list[Job]:
    """The burst's jobs, once every one is final (checked at each log line)."""
    jobs: list[Job] = []
    try:
        async with asyncio.timeout(WAIT):
            while True:
                jobs = await storage.jobs.in_states(list(JobState))
                if len(jobs) == JOBS and all(j.state in FINAL for j in jobs):
                    return jobs
                async with logs.grown:
                    await logs.grown.wait()
    except TimeoutError:
        states = Counter(j.state.value for j in jobs)
        raise AssertionError(f"{len(jobs)} jobs, not all ended: {states}") from None


async def test_three_replicas_a_burst_and_a_sigkill_deliver_each_job_once(
    tmp_path: Path, database: str
) -> None:
    logs = Logs()
    async with (
        SimulatedFal(generation_seconds=1.0, queue_seconds=0.05) as fal,
        FakeSlackAPI(bot_token=BOT_TOKEN) as slack,
        aiohttp.ClientSession() as session,
    ):
        for user in ("U1", "U2", "U3"):
            slack.add_user(user, name=user)
        bundle = trust_bundle(fal.ca_file)
        base = {**bot_env(tmp_path, fal, bundle), "LTXBOT_DATABASE_URL": database,
                "LTXBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "LTXBOT_SLACK_SIGNING_SECRET": SECRET,
                "LTXBOT_SLACK_API_URL": slack.api_url, "LTXBOT_SLACK_PORT": "0",
                "LTXBOT_WEBHOOK_PORT": "0", "LTXBOT_LOG_FORMAT": "json"}  # fmt: skip
        replicas = [Replica(f"r{i}", {**base, "LTXBOT_REPLICA_ID": f"r{i}"}, logs)
                    for i in range(3)]  # fmt: skip
        storage = await open_storage(database)
        try:
            await asyncio.gather(*(r.start() for r in replicas))
            file = slack.add_file("chef.png", png_bytes())
            first = await asyncio.gather(
                *(submit(session, replicas[n % 3], n, file) for n in range(JOBS // 2))
            )
            assert first == [200] * (JOBS // 2), logs.text[-20:]
            victim = replicas[0]
            # Killed once its jobs are at fal, mid-burst. (A kill between a form's ack and its
            # hold: test_slack_form_after_ack.py.)
            await at_fal(logs, victim.name, len(range(0, JOBS // 2, 3)))
            await victim.kill()
            orphans = {x["job_id"] for x in logs.lines if x["replica"] == victim.name
                       and x.get("job_id")}  # fmt: skip
            second = await asyncio.gather(*(
                submit(session, replicas[1 + n % 2], n, file) for n in range(JOBS // 2, JOBS)
            ))  # fmt: skip
            assert second == [200] * (JOBS - JOBS // 2)
            await victim.start()  # the same replica id: it takes its own jobs back at once
            jobs = await all_ended(storage, logs)
            entries = await storage.ledger.entries(scope=f"slack:{TEAM}")
        finally:
            await asyncio.gather(*(r.stop() for r in replicas))
            await storage.close()
            bundle.unlink()

    assert len(jobs) == JOBS  # every accepted form became a held job
    delivered = [j for j in jobs if j.state is JobState.DELIVERED]
    assert len(delivered) == JOBS, [(j.id, j.state, j.failure) for j in jobs]
    for job in jobs:
        kinds = [e.kind for e in entries if e.ref == job.id]
        closing = EntryKind.CAPTURE if job.state is JobState.DELIVERED else EntryKind.RELEASE
        assert kinds == [EntryKind.HOLD, closing], (job.id, kinds)
    assert len(fal.submissions) == JOBS  # none submitted twice
    posts = Counter(
        c.params.get("thread_ts") for c in slack.calls_to("files.completeUploadExternal")
    )
    assert {j.origin.status_message_id for j in delivered} == set(posts)
    assert all(count == 1 for count in posts.values()), posts
    # Followed by one replica at a time: one status stream per job, two for a job the killed
    # replica was following when it died (the restarted one opens its own).
    looks = Counter(look.request_id for look in fal.looks)
    assert orphans and all(looks[j.fal_request_id] <= 2 for j in jobs if j.id in orphans), looks
    assert all(looks[j.fal_request_id] == 1 for j in jobs if j.id not in orphans), looks
