"""The capture follows fal's bill, end to end: real fal_client, the simulated fal, real SQLite.

256x160 x 121 frames is quoted (and held) at 5 MP. The simulated fal can render smaller while
billing what was asked, bill more, send a malformed bill or none at all."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from runnerkit import ALICE, PLACE, RecordingPoster, generate, paid_core

from adapters.console.poster import ConsolePoster
from bot.events import Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job
from bot.model import Invocation
from bot.money import Money
from bot.ports import EntryKind
from bot.pricing import quote
from commands.render import result_reply

ASKED = {"num_frames": 121}  # with runnerkit's 256x160
HOLD = quote(256, 160, 121).cost  # 5 MP


def mp_price(megapixels: int) -> Money:
    return quote(1000, 1000, megapixels).cost  # exactly `megapixels` MP at the default price


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


async def run(tmp_path, fal) -> tuple[Job, Succeeded, list[Money], dict[str, str]]:
    """One paid job to its end: the stored job, the Succeeded event, its ledger, the core."""
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core, **ASKED)
        event = await asyncio.wait_for(poster.ending(job_id), 30)
        assert isinstance(event, Succeeded)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        entries = await core.storage.ledger.entries(scope=ALICE.scope_key)
        shown = await core.commands.dispatch(Invocation("show", ALICE, PLACE, {"job": job_id}))
    captures = [e.amount for e in entries if e.ref == job_id and e.kind is EntryKind.CAPTURE]
    return job, event, captures, dict(shown.fields)


async def test_fal_renders_smaller_but_bills_the_size_asked_and_the_bill_is_charged(tmp_path, fal):
    fal.faults.render_size = (128, 80)  # 2 MP made, 5 MP billed
    job, event, captures, shown = await run(tmp_path, fal)
    assert job.result.billable_units == "5"
    assert captures == [HOLD] and event.cost == HOLD and job.captured_nanos == HOLD.nanos
    assert (job.billed_megapixels, job.billed_nanos) == (5, mp_price(5).nanos)
    assert (job.probed_megapixels, job.probed_nanos) == (2, quote(128, 80, 121).cost.nanos)
    assert job.uncharged_nanos == 0
    lines = result_reply(job, event).text.splitlines()
    assert "fal rendered 128x80 of the 256x160 asked, and billed 5 MP" in lines
    assert shown["Quoted"] == f"{HOLD} (5 MP)"
    assert shown["Billed by fal"] == f"{mp_price(5)} (5 MP)"
    assert shown["Probed video"] == f"{quote(128, 80, 121).cost} (2 MP)"
    assert shown["Charged"] == str(HOLD)


async def test_without_the_header_the_probed_video_is_charged(tmp_path, fal):
    fal.faults.omit_billable_units = True
    fal.faults.render_frames = 25  # 256x160 x 25 = 2 MP
    job, event, captures, shown = await run(tmp_path, fal)
    probed = quote(256, 160, 25).cost
    assert job.result.billable_units is None
    assert captures == [probed] and event.cost == probed and job.captured_nanos == probed.nanos
    assert (job.billed_megapixels, job.billed_nanos) == (None, None)
    assert (job.probed_megapixels, job.probed_nanos) == (2, probed.nanos)
    line = "fal rendered 256x160 x 25 frames of the 256x160 x 121 asked, and sent no readable bill"
    assert line in result_reply(job, event).text.splitlines()
    assert shown["Billed by fal"] == "no bill sent"
    assert shown["Probed video"] == f"{probed} (2 MP)"


async def test_a_malformed_header_is_ignored_with_a_warning(tmp_path, fal, caplog):
    fal.faults.billable_units = "5 MP"
    fal.faults.render_frames = 25
    with caplog.at_level(logging.WARNING, logger="bot.jobs.billing"):
        job, _, captures, shown = await run(tmp_path, fal)
    probed = quote(256, 160, 25).cost
    assert captures == [probed] and job.billed_nanos is None
    assert any("malformed x-fal-billable-units '5 MP'" in r.getMessage() for r in caplog.records)
    assert shown["Billed by fal"] == "not used (x-fal-billable-units '5 MP')"


async def test_a_bill_above_the_hold_captures_the_hold_and_records_the_gap(tmp_path, fal, caplog):
    fal.faults.billable_units = "9"
    with caplog.at_level(logging.WARNING, logger="bot.jobs.billing"):
        job, event, captures, shown = await run(tmp_path, fal)
    gap = mp_price(9) - HOLD
    assert captures == [HOLD] and event.cost == HOLD  # never above what the user accepted
    assert (job.billed_megapixels, job.billed_nanos) == (9, mp_price(9).nanos)
    assert job.uncharged_nanos == gap.nanos > 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("fal billed 9 MP" in m and gap.exact_str() in m for m in warned), warned
    assert shown["Billed above the hold"] == f"{gap}, not charged"
    assert "fal rendered" not in result_reply(job, event).text  # rendered as asked


async def test_a_render_as_asked_shows_no_difference_and_charges_the_bill(tmp_path, fal):
    job, event, captures, shown = await run(tmp_path, fal)
    assert captures == [HOLD] and job.billed_nanos == HOLD.nanos == job.probed_nanos
    assert "fal rendered" not in result_reply(job, event).text
    assert "Billed above the hold" not in shown


async def test_the_terminal_shows_the_difference_in_one_line(tmp_path, fal):
    fal.faults.render_size = (128, 80)
    screen = io.StringIO()
    poster = ConsolePoster(screen)
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core, **ASKED)
        _, event = await asyncio.wait_for(poster.ending(job_id), 30)
        await core.supervisor.wait(job_id)
    assert isinstance(event, Succeeded) and event.cost == HOLD
    lines = screen.getvalue().splitlines()
    assert "fal rendered 128x80 of the 256x160 asked, and billed 5 MP" in lines
    assert f"  Cost: {HOLD}" in lines
