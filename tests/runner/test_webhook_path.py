"""With a public URL the Supervisor never polls: fal's signed webhook ends the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from runnerkit import RecordingPoster, generate, kinds, paid_core, settings_for

from adapters.app.core import Core
from bot.events import Failed, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.fal.webhooks import webhook_app
from bot.jobs.record import JobState
from bot.ports import EntryKind


class LateSink:
    """The receiver starts before the core that handles it (its URL goes into the settings)."""

    target: Any = None

    async def on_webhook(self, request_id: str, body: dict[str, Any], **hint: Any) -> None:
        await self.target.on_webhook(request_id, body, **hint)


@asynccontextmanager
async def webhook_core(
    tmp_path: Path, fal: SimulatedFal, poster: RecordingPoster
) -> AsyncIterator[Core]:
    """A paid core whose webhook receiver runs on a local port, its URL in the settings."""
    sink = LateSink()
    config = settings_for(tmp_path, fal_jwks_url=fal.jwks_url)
    runner = web.AppRunner(webhook_app(config, sink, ssl_context=fal.ssl_context()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with paid_core(
            tmp_path, fal, poster, fal_jwks_url=fal.jwks_url,
            public_base_url=f"http://127.0.0.1:{port}",
        ) as core:  # fmt: skip
            sink.target = core.supervisor
            yield core
    finally:
        await runner.cleanup()


async def test_a_verified_webhook_completes_the_job_without_a_single_status_poll(tmp_path):
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
        poster = RecordingPoster()
        async with webhook_core(tmp_path, fal, poster) as core:
            job_id = await generate(core)
            ending = await asyncio.wait_for(poster.ending(job_id), 20)
            assert isinstance(ending, Succeeded)
            await core.supervisor.wait(job_id)
            assert (await core.storage.jobs.get(job_id)).state is JobState.DELIVERED
            assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
            (submission,) = fal.submissions
            assert submission.webhook_url.endswith(f"/fal/webhook?job={job_id}")
            assert fal.status_requests == 0
            assert fal.stream_requests == 0  # nor streamed: the webhook is the signal
            assert [d for d in fal.webhook_deliveries if d.status == 200]


async def test_a_webhook_for_a_job_fal_could_not_start_fails_it_uncharged(tmp_path):
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
        fal.faults.hold_in_queue_at = 0  # no machine frees up
        poster = RecordingPoster()
        async with webhook_core(tmp_path, fal, poster) as core:
            job_id = await generate(core)
            [submission] = await fal.wait_for_submissions(1)
            fal.finish(submission.request_id)  # skip to its start timeout: fal gives up
            ending = await asyncio.wait_for(poster.ending(job_id), 20)
            assert isinstance(ending, Failed)
            assert ending.reason == (
                "fal could not start this video within 15 min; nothing was charged."
            )
            await core.supervisor.wait(job_id)
            assert (await core.storage.jobs.get(job_id)).state is JobState.FAILED
            assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]
            assert [d for d in fal.webhook_deliveries if d.status == 200]
            assert fal.status_requests == 0 and fal.stream_requests == 0
