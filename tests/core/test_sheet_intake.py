"""Sheets on the reply path (cheap checks, no decode) and inside the job (the full sanitise)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from corekit import ALICE, png_attachment
from PIL import Image

from bot.errors import GenerationFailed, InvalidSheet
from bot.jobs.record import JobState
from bot.media import sheet_files
from bot.media.intake import check_sheet
from bot.media.sanitise import sanitise_sheet
from bot.media.sheet_files import original_of, ready_sheet, take_in
from bot.model import Attachment, ButtonAction, Place
from bot.pricing import quote


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def rotated(fmt: str, size: tuple[int, int] = (3000, 2000)) -> bytes:
    """An image stored landscape whose EXIF says "rotate 90°" (a phone held upright)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.new("RGB", size, "orange"), fmt, exif=exif.tobytes())


def attachment_of(data: bytes, name: str = "sheet.jpg") -> Attachment:
    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    return Attachment(name, None, len(data), read)


def cut_jpeg() -> bytes:
    """A JPEG cut off mid-scan: header and markers intact, so only the decode notices."""
    data = encode(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG", quality=95)
    return data[: len(data) // 2]


def on_disk(sheet: Path) -> tuple[bool, bool]:
    """(the clean PNG exists, the original waiting for its sanitise exists)"""
    return sheet.exists(), original_of(sheet).exists()


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Image.Image) -> None:
        raise AssertionError("the reply path decoded pixels")

    monkeypatch.setattr(Image.Image, "load", refuse)


@pytest.mark.parametrize(
    "data",
    [
        encode(Image.new("RGB", (640, 480), "red"), "PNG"),
        encode(Image.new("RGB", (5000, 1000), "red"), "JPEG"),
        rotated("JPEG"),
        rotated("WEBP"),
        rotated("PNG"),
    ],
    ids=["png", "wide-jpeg", "rotated-jpeg", "rotated-webp", "rotated-png"],
)
def test_the_header_predicts_the_size_the_sanitiser_makes(data: bytes) -> None:
    header = check_sheet(data)
    sheet = sanitise_sheet(data)
    assert (header.width, header.height) == (sheet.width, sheet.height)
    assert header.original_format == sheet.original_format


def test_the_header_check_decodes_nothing_and_still_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jpeg, webp = rotated("JPEG"), encode(Image.new("RGB", (300, 200)), "WEBP")
    gif, tiny = (
        encode(Image.new("RGB", (100, 100)), "GIF"),
        encode(Image.new("RGB", (30, 30)), "PNG"),
    )
    png = encode(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG")
    forbid_decoding(monkeypatch)
    assert (check_sheet(jpeg).width, check_sheet(jpeg).height) == (1365, 2048)  # upright, capped
    assert check_sheet(webp).width == 300
    with pytest.raises(InvalidSheet, match="GIF"):
        check_sheet(gif)
    with pytest.raises(InvalidSheet, match="only 30x30"):
        check_sheet(tiny)
    with pytest.raises(InvalidSheet, match="damaged"):
        check_sheet(png[: len(png) // 2])  # every PNG chunk and its CRC is parsed, not decoded


async def test_generate_holds_and_answers_without_decoding_the_sheet(kit, monkeypatch) -> None:
    attachment = png_attachment()
    forbid_decoding(monkeypatch)
    reply = await kit.invoke("generate", attachment=attachment, prompt="x")
    assert "Held $0.40" in reply.text
    job = await kit.services.jobs.get(reply.job_id)
    assert job.state is JobState.HELD and kit.runner.started == [job]
    assert on_disk(Path(job.sheet_path)) == (False, True)  # kept as sent, for the job


async def test_the_job_sanitises_the_kept_original_once(kit) -> None:
    reply = await kit.invoke("generate", attachment=attachment_of(rotated("JPEG")), prompt="x")
    sheet = Path((await kit.services.jobs.get(reply.job_id)).sheet_path)
    assert await ready_sheet(sheet) == sheet
    assert on_disk(sheet) == (True, False)
    clean = Image.open(sheet)
    assert clean.format == "PNG" and clean.size == (1365, 2048) and not clean.getexif()
    assert await ready_sheet(sheet) == sheet  # again (a retry, a reroll): nothing to do


async def test_auto_size_is_priced_from_the_rotated_header(kit) -> None:
    reply = await kit.invoke(
        "generate", attachment=attachment_of(rotated("JPEG")), prompt="x", resolution="auto"
    )
    job = await kit.services.jobs.get(reply.job_id)
    size = job.request.resolution
    assert size.height > size.width  # portrait, as the photo is seen, not as it is stored
    assert job.quoted_nanos == quote(size.width, size.height, job.request.num_frames).cost.nanos


async def test_a_sheet_only_the_decode_refuses_fails_in_the_job(kit) -> None:
    with pytest.raises(InvalidSheet):
        sanitise_sheet(cut_jpeg())
    reply = await kit.invoke("generate", attachment=attachment_of(cut_jpeg()), prompt="x")
    assert reply.job_id and "Held" in reply.text  # the cheap checks cannot see it
    sheet = Path((await kit.services.jobs.get(reply.job_id)).sheet_path)
    with pytest.raises(GenerationFailed, match="JPEG file is damaged or incomplete"):
        await ready_sheet(sheet)
    assert on_disk(sheet) == (False, True)


async def test_a_reroll_before_the_sanitise_shares_the_kept_original(kit) -> None:
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x")
    place = Place(ALICE.platform, ALICE.scope, "C1")
    again = await kit.commands.press(ButtonAction.REROLL, reply.job_id, ALICE, place)
    assert again.job_id and "Held" in again.text
    first, second = [await kit.services.jobs.get(j) for j in (reply.job_id, again.job_id)]
    sheet = Path(first.sheet_path)
    await asyncio.gather(ready_sheet(sheet), ready_sheet(Path(second.sheet_path)))
    assert on_disk(sheet) == (True, False)


async def test_a_sheet_gone_from_disk_fails_the_job_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(GenerationFailed, match="gone from the bot's disk"):
        await ready_sheet(tmp_path / "nothing.png")


async def test_only_so_many_attachments_are_read_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_files, "DOWNLOADS_AT_ONCE", 1)
    data = encode(Image.new("RGB", (320, 200), "red"), "PNG")
    started, release = asyncio.Event(), asyncio.Event()
    reads: list[int] = []

    async def read(limit: int) -> bytes:
        reads.append(limit)
        started.set()
        await release.wait()
        return data

    attachment = Attachment("s.png", "image/png", len(data), read)
    takes = [
        asyncio.create_task(take_in(attachment, tmp_path / f"{n}.png", max_bytes=1 << 20))
        for n in range(3)
    ]
    await started.wait()
    # Every take has run up to the gate by now (tasks run in order): one read, two waiting.
    assert len(reads) == 1
    release.set()
    headers = await asyncio.gather(*takes)
    assert len(reads) == 3 and {h.width for h in headers} == {320}
    assert all(on_disk(tmp_path / f"{n}.png") == (False, True) for n in range(3))


def test_the_decode_pool_is_shut_down_and_a_later_decode_gets_a_fresh_one():
    pool = sheet_files._decode_pool()
    sheet_files.shutdown_decode_pool()
    with pytest.raises(RuntimeError):
        pool.submit(int)  # a shut-down pool takes no more work
    fresh = sheet_files._decode_pool()
    assert fresh is not pool
    assert fresh.submit(int).result(timeout=5) == 0
    sheet_files.shutdown_decode_pool()


async def test_a_sheet_sent_again_is_linked_clean_at_intake_without_a_parse(
    kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A team's usual sheet: cleaned for the first job, then neither parsed, kept as sent nor
    # handed to the decode pool again; each later job gets its own link to the clean PNG.
    data = encode(Image.new("RGB", (900, 600), "teal"), "PNG")
    first = await kit.invoke("generate", attachment=attachment_of(data, "s.png"), prompt="x")
    sheet = Path((await kit.services.jobs.get(first.job_id)).sheet_path)
    await ready_sheet(sheet)

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(sheet_files, "check_sheet", no_parse)
    monkeypatch.setattr(sheet_files, "_decode_pool", no_parse)
    again = await kit.invoke(
        "generate", attachment=attachment_of(data, "s.png"), prompt="y", resolution="auto"
    )
    job = await kit.services.jobs.get(again.job_id)
    later = Path(job.sheet_path)
    assert on_disk(later) == (True, False) and later.samefile(sheet)  # noqa: ASYNC240
    assert job.request.resolution.width > job.request.resolution.height  # the header's aspect
    uploaded: list[bytes] = []

    async def upload(png: bytes) -> str:
        uploaded.append(png)
        return "https://cdn/s.png"

    assert await sheet_files.upload_sheet(later, upload) == "https://cdn/s.png"
    assert Image.open(io.BytesIO(uploaded[0])).size == (900, 600)


async def test_the_same_sheet_given_to_many_decode_threads_is_cleaned_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_files, "decoders", lambda: 4)
    sheet_files.shutdown_decode_pool()
    cleaned: list[int] = []

    def counting(data: bytes, **limits: int) -> object:
        cleaned.append(len(data))
        return sanitise_sheet(data, **limits)

    monkeypatch.setattr(sheet_files, "sanitise_sheet", counting)
    data = encode(Image.new("RGB", (640, 480), "navy"), "PNG")
    sheets = [tmp_path / f"{n}.png" for n in range(8)]
    for sheet in sheets:
        sheet_files.write_atomically(original_of(sheet), data)
    try:
        await asyncio.gather(*(ready_sheet(sheet) for sheet in sheets))
    finally:
        sheet_files.shutdown_decode_pool()
    assert len(cleaned) == 1
    assert all(on_disk(sheet) == (True, False) for sheet in sheets)
