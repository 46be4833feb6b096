"""The sheet is sanitised inside the job: fal gets the clean PNG; a sheet only the full decode
refuses fails the job after its hold, releases it and says why."""

from __future__ import annotations

import asyncio
import io
import struct
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from runnerkit import ALICE, PLACE, SMALL, RecordingPoster, kinds, paid_core

from bot.events import Failed, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.media.sheet_files import original_of
from bot.model import Attachment, Invocation
from bot.ports import EntryKind


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.05, queue_seconds=0.01) as server:
        yield server


def chunk_types(data: bytes) -> set[bytes]:
    kinds, offset = set(), 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kinds.add(data[offset + 4 : offset + 8])
        offset += 12 + length
    return kinds


def sheet_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.com")
    out = io.BytesIO()
    Image.new("RGB", (320, 200), "teal").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def cut_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()[: len(out.getvalue()) // 2]


def attachment(data: bytes) -> Attachment:
    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    return Attachment("sheet", None, len(data), read)


def uploaded_and_left(fal: SimulatedFal, url: str, sheet: Path) -> tuple[bytes, bool, bool]:
    stored = fal.storage.lookup(url)
    assert stored is not None
    return stored.path.read_bytes(), sheet.exists(), original_of(sheet).exists()


async def test_fal_gets_the_sheet_sanitised_inside_the_job(tmp_path, fal) -> None:
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        invocation = Invocation(
            "generate", ALICE, PLACE, dict(SMALL), attachment(sheet_with_metadata())
        )
        reply = await core.commands.dispatch(invocation)
        assert reply.job_id and "Held" in reply.text
        assert isinstance(await asyncio.wait_for(poster.ending(reply.job_id), 20), Succeeded)
        job = await core.storage.jobs.get(reply.job_id)
        url = fal.submissions[0].arguments["image_url"]
        sent, clean, original = await asyncio.to_thread(
            uploaded_and_left, fal, url, Path(job.sheet_path)
        )
        assert chunk_types(sent) == {b"IHDR", b"IDAT", b"IEND"}  # the text chunk is gone
        assert (clean, original) == (True, False)


async def test_a_sheet_the_decode_refuses_fails_the_job_and_releases_its_hold(
    tmp_path, fal
) -> None:
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        invocation = Invocation("generate", ALICE, PLACE, dict(SMALL), attachment(cut_jpeg()))
        reply = await core.commands.dispatch(invocation)
        assert reply.job_id and "Held" in reply.text  # its header and markers were fine
        failed = await asyncio.wait_for(poster.ending(reply.job_id), 20)
        assert isinstance(failed, Failed)
        assert "That JPEG file is damaged or incomplete" in failed.reason
        assert failed.refunded.nanos == (await core.storage.jobs.get(reply.job_id)).quoted_nanos
        await core.supervisor.wait(reply.job_id)
        assert (await core.storage.jobs.get(reply.job_id)).state is JobState.FAILED
        assert await kinds(core, reply.job_id) == [EntryKind.HOLD, EntryKind.RELEASE]
        assert fal.submissions == [] and fal.storage.files == {}  # nothing reached fal


async def test_a_team_s_usual_sheet_is_cleaned_and_uploaded_once(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        from runnerkit import generate

        first, second = await generate(core), await generate(core, seed=9)
        for job_id in (first, second):
            assert isinstance(await asyncio.wait_for(poster.ending(job_id), 20), Succeeded)
        jobs = [await core.storage.jobs.get(job_id) for job_id in (first, second)]
        assert jobs[0].sheet_url == jobs[1].sheet_url  # one file at fal for both
        assert len(fal.storage.upload_headers) == 1
        cleaned = list((tmp_path / "sheets" / "by-content").iterdir())
        assert len(cleaned) == 1  # one clean-up, linked for both jobs
        assert all(Path(job.sheet_path).samefile(cleaned[0]) for job in jobs)  # noqa: ASYNC240
