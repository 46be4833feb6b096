"""With a public URL the Supervisor never polls: fal's signed webhook ends the job."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from runnerkit import RecordingPoster, generate, kinds, paid_core, settings_for

from bot.events import Succeeded
from bot.fal.simulated import SimulatedFal
from bot.fal.webhooks import webhook_app
from bot.jobs.record import JobState
from bot.ports import EntryKind


class LateSink:
    """The receiver starts before the core that handles it (its URL goes into the settings)."""

    target: Any = None

    async def on_webhook(self, request_id: str, body: dict[str, Any], **hint: Any) -> None:
        await self.target.on_webhook(request_id, body, **hint)


async def test_a_verified_webhook_completes_the_job_without_a_single_status_poll(tmp_path):
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
        sink = LateSink()
        config = settings_for(tmp_path, fal_jwks_url=fal.jwks_url)
        runner = web.AppRunner(webhook_app(config, sink, ssl_context=fal.ssl_context()))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        poster = RecordingPoster()
        try:
            async with paid_core(
                tmp_path, fal, poster, fal_jwks_url=fal.jwks_url,
                public_base_url=f"http://127.0.0.1:{port}",
            ) as core:  # fmt: skip
                sink.target = core.supervisor
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
        finally:
            await runner.cleanup()
