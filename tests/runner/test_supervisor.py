"""The Supervisor end to end: real fal_client, a simulated fal over TLS, real SQLite."""

from __future__ import annotations

import asyncio

import pytest
from runnerkit import ALICE, RecordingPoster, generate, kinds, paid_core

from bot.events import Cancelled, Failed, Queued, Running, StopAsked, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.jobs.supervisor import CRASHED_MID_SUBMIT
from bot.money import Money
from bot.ports import EntryKind
from bot.pricing import quote

HOLD, CAPTURE, RELEASE = EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as server:
        yield server


async def ended(poster: RecordingPoster, job_id: str, timeout: float = 20):
    return await asyncio.wait_for(poster.ending(job_id), timeout)


async def test_a_job_is_delivered_once_with_one_capture_at_the_rendered_price(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core, seed=7)
        assert isinstance(await ended(poster, job_id), Succeeded)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.DELIVERED
        assert job.origin.result_message_id == f"result-{job_id}"
        rendered = job.result.rendered
        assert (rendered.width, rendered.height, rendered.num_frames) == (256, 160, 9)
        price = quote(256, 160, 9).cost
        assert job.captured_nanos == price.nanos == job.quoted_nanos
        assert await kinds(core, job_id) == [HOLD, CAPTURE]
        assert [j for j, _ in poster.deliveries] == [job_id]
        assert len(fal.submissions) == 1
        sent = fal.submissions[0].arguments
        assert (sent["resolution"], sent["num_frames"], sent["seed"]) == (
            {"width": 256, "height": 160}, 9, 7,
        )  # fmt: skip
        assert fal.is_own_url(sent["image_url"])  # the sanitised sheet, uploaded to fal storage
        shown = [type(e) for j, e in poster.events if j == job_id]
        assert Queued in shown and Running in shown


async def test_a_content_policy_refusal_fails_releases_and_says_why(tmp_path, fal):
    fal.faults.safety_rejection = True
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        failed = await ended(poster, job_id)
        assert isinstance(failed, Failed)
        assert "content checker" in failed.reason and "Nothing was charged" in failed.reason
        assert failed.refunded == Money(quote(256, 160, 9).cost.nanos)
        await core.supervisor.wait(job_id)
        assert (await core.storage.jobs.get(job_id)).state is JobState.FAILED
        assert await kinds(core, job_id) == [HOLD, RELEASE]
        assert poster.deliveries == []


async def test_a_lost_submit_answer_is_never_sent_again(tmp_path, fal):
    fal.faults.lose_submit_response = 1
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        failed = await ended(poster, job_id)
        assert isinstance(failed, Failed) and "not paid twice" in failed.reason
        assert len(fal.submissions) == 1
        await core.supervisor.wait(job_id)
        assert await kinds(core, job_id) == [HOLD, RELEASE]


async def test_cancel_while_queued_is_confirmed_and_releases_the_hold(tmp_path, fal):
    fal.pause()
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Queued)
        outcome = await core.supervisor.cancel(job_id)
        assert outcome == Cancelled(Money(quote(256, 160, 9).cost.nanos))
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.CANCELLED and job.finished_at is not None
        assert await kinds(core, job_id) == [HOLD, RELEASE]
        assert await core.supervisor.cancel(job_id) is None  # already over
        fal.resume()
    assert poster.deliveries == []


async def test_a_cancel_too_late_to_stop_the_render_is_charged_and_the_video_delivered(
    tmp_path, fal
):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        fal.pause()
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Queued)
        fal.resume()
        await poster.wait_for_event(job_id, Running)
        outcome = await core.supervisor.cancel(job_id)
        assert outcome == StopAsked(Money(quote(256, 160, 9).cost.nanos))  # still held
        assert await kinds(core, job_id) == [HOLD]  # fal may still render it
        assert await core.supervisor.cancel(job_id) == outcome  # asking again changes nothing
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        # fal rendered it anyway: charged, as the cancel answer warned, and the video posted.
        assert job.state is JobState.DELIVERED and job.cancel_requested_at is not None
        assert await kinds(core, job_id) == [HOLD, CAPTURE]
        assert job.captured_nanos == job.quoted_nanos
        assert [j for j, _ in poster.deliveries] == [job_id]


async def test_a_restart_resumes_the_job_and_delivers_it_once(tmp_path, fal):
    fal.pause()
    before, after = RecordingPoster(), RecordingPoster()
    async with paid_core(tmp_path, fal, before) as core:
        job_id = await generate(core)
        await before.wait_for_event(job_id, Queued)
    # The first process is gone while fal still has the job queued.
    fal.resume()
    async with paid_core(tmp_path, fal, after) as core:
        assert await core.supervisor.resume() == [job_id]
        assert isinstance(await ended(after, job_id), Succeeded)
        await core.supervisor.wait(job_id)
        assert (await core.storage.jobs.get(job_id)).state is JobState.DELIVERED
        assert await kinds(core, job_id) == [HOLD, CAPTURE]
        assert await core.supervisor.resume() == []  # nothing left to resume
    assert before.deliveries == [] and [j for j, _ in after.deliveries] == [job_id]
    assert len(fal.submissions) == 1


class NoRunner:
    async def start(self, job):  # the process "dies" right after the hold
        return None

    async def cancel(self, job_id):
        return None


async def test_a_crash_in_the_middle_of_a_submit_is_not_resent(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        real_runner, core.services.runner = core.services.runner, NoRunner()
        job_id = await generate(core)
        core.services.runner = real_runner
        job = await core.storage.jobs.get(job_id)
        # What a crash leaves behind between storing the submit token and storing fal's id.
        assert await core.storage.jobs.replace(job.with_changes(job.updated_at, submit_token="t"))
        assert await core.supervisor.resume() == [job_id]
        failed = await ended(poster, job_id)
        assert isinstance(failed, Failed) and failed.reason == CRASHED_MID_SUBMIT
        await core.supervisor.wait(job_id)
        assert await kinds(core, job_id) == [HOLD, RELEASE]
    assert fal.submissions == []


async def test_the_sweep_releases_a_hold_whose_job_ended_without_closing_it(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        core.services.runner = NoRunner()
        job_id = await generate(core)
        job = await core.storage.jobs.get(job_id)
        now = job.updated_at
        await core.storage.jobs.replace(job.advance(JobState.FAILED, now, finished_at=now))
        assert await core.storage.ledger.open_holds() == [job_id]
        assert await core.supervisor.sweep() == 1
        assert await kinds(core, job_id) == [HOLD, RELEASE]
        assert await core.supervisor.sweep() == 0
        usage = await core.storage.ledger.usage(scope=ALICE.scope_key, user_id="alice", since=None)
        assert usage.held == Money.zero() and usage.spent == Money.zero()


async def test_a_running_job_that_fal_does_stop_is_released_when_fal_says_so(tmp_path, fal):
    fal.honour_running_cancel = True
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Running)
        assert isinstance(await core.supervisor.cancel(job_id), StopAsked)
        await core.supervisor.wait(job_id)
        assert await kinds(core, job_id) == [HOLD, RELEASE]
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.CANCELLED and job.finished_at is not None
        assert poster.deliveries == []
        refunds = [e for j, e in poster.events if j == job_id and isinstance(e, Cancelled)]
        assert refunds == [Cancelled(Money(quote(256, 160, 9).cost.nanos))]  # released once


async def test_a_result_that_fal_forgot_while_the_bot_was_down_fails_honestly(tmp_path, fal):
    fal.pause()
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Queued)
    # Back up long after: this fal no longer knows the request (as fal forgets results).
    async with (
        SimulatedFal(generation_seconds=0.1, queue_seconds=0.05) as forgetful,
        paid_core(tmp_path, forgetful, poster) as core,
    ):
        assert await core.supervisor.resume() == [job_id]
        failed = await ended(poster, job_id)
        assert isinstance(failed, Failed) and "no longer keeps the result" in failed.reason
        await core.supervisor.wait(job_id)
        assert await kinds(core, job_id) == [HOLD, RELEASE]
    fal.resume()
