"""The reference-sheet sanitiser: what it accepts, how it cleans, and what it refuses."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms

from bot.errors import InvalidSheet
from bot.media import sanitise
from bot.media.intake import read_attachment
from bot.media.sanitise import Sheet, sanitise_sheet, sanitise_sheet_async
from bot.model import Attachment


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return chunks


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares `width` x `height` (a cheap bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def decoded(sheet: Sheet) -> Image.Image:
    image = Image.open(io.BytesIO(sheet.data))
    image.load()
    return image


def assert_clean_png(sheet: Sheet) -> Image.Image:
    assert sheet.content_type == "image/png"
    assert sheet.file_name == "sheet.png"
    # Only pixels: no eXIf, iCCP, tEXt/zTXt/iTXt (XMP), pHYs or anything else.
    assert set(png_chunks(sheet.data)) == {b"IHDR", b"IDAT", b"IEND"}
    image = decoded(sheet)
    assert image.format == "PNG"
    assert image.mode == "RGB"
    assert image.size == (sheet.width, sheet.height)
    assert not image.getexif()
    return image


def close(pixel: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


# --- accepted and re-encoded ---------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "expected"), [("PNG", "PNG"), ("JPEG", "JPEG"), ("WEBP", "WEBP")])
def test_png_jpeg_and_webp_are_reencoded_as_clean_png(fmt: str, expected: str) -> None:
    source = Image.new("RGB", (320, 200), (30, 140, 60))
    sheet = sanitise_sheet(encode(source, fmt, quality=95) if fmt != "PNG" else encode(source, fmt))

    image = assert_clean_png(sheet)
    assert sheet.original_format == expected
    assert (sheet.width, sheet.height) == (320, 200)
    assert sheet.aspect == pytest.approx(1.6)
    assert close(image.getpixel((160, 100)), (30, 140, 60))


def test_a_multi_picture_jpeg_from_a_phone_counts_as_jpeg() -> None:
    first = Image.new("RGB", (200, 100), (200, 30, 30))
    second = Image.new("RGB", (200, 100), (30, 30, 200))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"  # the input really is one

    sheet = sanitise_sheet(data)

    assert sheet.original_format == "JPEG"
    assert close(decoded(sheet).getpixel((100, 50)), (200, 30, 30))


def test_exif_orientation_is_applied_and_all_metadata_removed() -> None:
    # Left half red, right half blue, stored sideways: orientation 6 says "rotate 90° clockwise".
    source = Image.new("RGB", (200, 100), (220, 20, 20))
    source.paste((20, 20, 220), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TellTaleCamera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">TellTaleXmp</x:xmpmeta>'
    data = encode(source, "JPEG", quality=95, exif=exif, xmp=xmp)
    reopened = Image.open(io.BytesIO(data))
    assert reopened.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really carries GPS

    sheet = sanitise_sheet(data)

    image = assert_clean_png(sheet)
    assert (sheet.width, sheet.height) == (100, 200)  # turned upright
    assert close(image.getpixel((50, 20)), (220, 20, 20))  # the left half is now on top
    assert close(image.getpixel((50, 180)), (20, 20, 220))
    for tell_tale in (b"TellTaleCamera", b"TellTaleXmp", b"Exif", b"GPS"):
        assert tell_tale not in sheet.data


def test_png_text_and_icc_profile_are_dropped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Private")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>private</x:xmpmeta>")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        Image.new("RGB", (100, 100), (10, 200, 90)), "PNG", pnginfo=info, icc_profile=srgb
    )
    assert {b"tEXt", b"iTXt", b"iCCP"} <= set(png_chunks(data))

    image = assert_clean_png(sanitise_sheet(data))

    assert close(image.getpixel((5, 5)), (10, 200, 90), tolerance=3)  # sRGB to sRGB: unchanged


def test_a_broken_icc_profile_is_ignored_not_fatal() -> None:
    data = encode(Image.new("RGB", (100, 100), (10, 200, 90)), "JPEG", icc_profile=b"not a profile")
    image = assert_clean_png(sanitise_sheet(data))
    assert close(image.getpixel((5, 5)), (10, 200, 90))


def test_alpha_is_flattened_onto_white() -> None:
    source = Image.new("RGBA", (100, 100), (255, 0, 0, 0))  # fully transparent left
    source.paste((255, 0, 0, 128), (50, 0, 100, 100))  # half-transparent red right

    image = assert_clean_png(sanitise_sheet(encode(source, "PNG")))

    assert image.getpixel((10, 50)) == (255, 255, 255)
    assert close(image.getpixel((90, 50)), (255, 127, 127), tolerance=2)


def test_palette_transparency_is_flattened_onto_white() -> None:
    source = Image.new("P", (100, 100), 0)
    source.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    source.paste(1, (50, 0, 100, 100))
    data = encode(source, "PNG", transparency=0)

    image = assert_clean_png(sanitise_sheet(data))

    assert image.getpixel((10, 50)) == (255, 255, 255)
    assert image.getpixel((90, 50)) == (0, 128, 0)


def test_sixteen_bit_grey_keeps_its_tones() -> None:
    data = encode(Image.new("I;16", (100, 100), 32768), "PNG")
    image = assert_clean_png(sanitise_sheet(data))
    assert close(image.getpixel((50, 50)), (128, 128, 128), tolerance=2)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (100, 100), (0, 255, 255, 0)), "JPEG", quality=95)
    image = assert_clean_png(sanitise_sheet(data))
    assert close(image.getpixel((50, 50)), (255, 0, 0), tolerance=20)


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((3000, 1000), 2048, (2048, 683)),
        ((1000, 3000), 2048, (683, 2048)),
        ((1536, 896), 2048, (1536, 896)),  # never upscaled
        ((800, 600), 400, (400, 300)),
    ],
)
def test_long_side_is_capped_and_aspect_kept(
    size: tuple[int, int], max_side: int, expected: tuple[int, int]
) -> None:
    sheet = sanitise_sheet(encode(Image.new("RGB", size, "orange"), "PNG"), max_side=max_side)
    assert (sheet.width, sheet.height) == expected
    assert sheet.aspect == pytest.approx(size[0] / size[1], rel=0.01)


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_resized_exactly() -> None:
    source = Image.new("RGB", (8000, 2000), (40, 90, 160))
    source.paste((240, 240, 240), (0, 0, 4000, 2000))
    sheet = sanitise_sheet(encode(source, "JPEG", quality=90))

    image = assert_clean_png(sheet)
    assert (sheet.width, sheet.height) == (2048, 512)
    assert close(image.getpixel((500, 256)), (240, 240, 240))
    assert close(image.getpixel((1500, 256)), (40, 90, 160))


# --- refused -------------------------------------------------------------------------------


def refusal(data: bytes, **limits: int) -> str:
    with pytest.raises(InvalidSheet) as caught:
        sanitise_sheet(data, **limits)
    return str(caught.value)


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (100, 100), colour) for colour in ("red", "blue", "green")]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)


def test_a_gif_is_refused_by_name() -> None:
    # Decided from the bytes alone: the sanitiser never sees a file name or content type.
    message = refusal(encode(Image.new("RGB", (100, 100), "red"), "GIF"))
    assert message == "That file is a GIF; send a PNG, JPEG or WebP reference sheet."


@pytest.mark.parametrize(("fmt", "shown"), [("WEBP", "animated WebP"), ("PNG", "animated PNG")])
def test_animations_are_refused(fmt: str, shown: str) -> None:
    message = refusal(animated(fmt))
    assert shown in message
    assert "still image" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"/>',
            "That file is an SVG drawing; export it as a PNG and send that.",
        ),
        (
            b"\n<!DOCTYPE html><html><head><title>Sign in | Slack</title></head></html>",
            "That file is not an image (it looks like an HTML page",
        ),
        (b"%PDF-1.7\n1 0 obj\n", "That file is a PDF"),
        (b"just some words\n", "That file is not an image (it looks like text)"),
        (b"\x00\x01\x02\x03\xfe\xff" * 50, "That file is not an image we can read"),
        (encode(Image.new("RGB", (100, 100)), "BMP"), "That file is a BMP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "That file is a HEIC photo"),
    ],
)
def test_things_that_are_not_accepted_images_are_named(data: bytes, expected: str) -> None:
    message = refusal(data)
    assert message.startswith(expected)


def test_empty_bytes_are_refused() -> None:
    assert refusal(b"") == "That file is empty; send a PNG, JPEG or WebP reference sheet."


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_files_are_refused_as_damaged(fmt: str) -> None:
    source = Image.effect_noise((300, 300), 60).convert("RGB")
    data = encode(source, fmt)
    message = refusal(data[: len(data) // 2])
    assert "damaged or incomplete" in message


def test_a_png_with_a_corrupt_chunk_is_refused() -> None:
    data = bytearray(encode(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG"))
    data[60] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    assert "damaged" in refusal(bytes(data))


def test_a_png_whose_checksum_is_wrong_is_refused_even_though_it_decodes() -> None:
    data = bytearray(encode(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG"))
    data[-13] ^= 0xFF  # the last byte of the IDAT CRC, just before the 12-byte IEND
    Image.open(io.BytesIO(bytes(data))).load()  # Pillow alone would decode it without a word
    assert "damaged" in refusal(bytes(data))


def test_a_header_declaring_billions_of_pixels_is_refused() -> None:
    message = refusal(png_claiming(50_000, 50_000))
    assert "too many pixels" in message


def test_an_image_over_our_pixel_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("decoded an image that should have been refused from its header")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    message = refusal(png_claiming(8000, 6000))
    assert message.startswith("That image is 8000x6000 pixels (48 megapixels)")
    assert "at most 40 megapixels" in message


def test_a_custom_pixel_limit_applies() -> None:
    data = encode(Image.new("RGB", (400, 300)), "PNG")
    assert refusal(data, max_pixels=100_000).startswith(
        "That image is 400x300 pixels (0.1 megapixels); reference sheets can be at most 0.1 "
    )
    assert sanitise_sheet(data, max_pixels=120_000).width == 400


def test_tiny_images_are_refused() -> None:
    message = refusal(encode(Image.new("RGB", (500, 40)), "PNG"))
    assert message == (
        "That image is only 500x40 pixels; a reference sheet needs at least 64 pixels on each side."
    )


def test_the_byte_limit_is_checked_before_anything_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = encode(Image.new("RGB", (100, 100)), "PNG")

    def no_opening(*args: object, **kwargs: object) -> Image.Image:
        raise AssertionError("opened a file that was over the byte limit")

    monkeypatch.setattr(Image, "open", no_opening)
    message = refusal(data, max_bytes=len(data) - 1)
    assert "reference sheets can be at most" in message


def test_the_default_byte_limit_is_twenty_mebibytes() -> None:
    message = refusal(b"\x89PNG" + b"\x00" * (20 * 1024 * 1024))
    assert message == "That file is 20.1 MB; reference sheets can be at most 20 MB."


# --- async and attachments -----------------------------------------------------------------


async def test_sanitising_runs_off_the_event_loop_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = sanitise.sanitise_sheet

    def recording(data: bytes, **limits: int) -> Sheet:
        threads.append(threading.get_ident())
        return real(data, **limits)

    monkeypatch.setattr(sanitise, "sanitise_sheet", recording)
    data = encode(Image.new("RGB", (300, 100), "white"), "PNG")

    sheet = await sanitise_sheet_async(data, max_side=150)

    assert (sheet.width, sheet.height) == (150, 50)
    assert threads and threads[0] != threading.get_ident()


def attachment(payload: bytes, *, size: int | None, calls: list[int] | None = None) -> Attachment:
    async def read(limit: int) -> bytes:
        if calls is not None:
            calls.append(limit)
        return payload[: limit + 1]  # like Attachment.from_path: one extra byte shows overflow

    return Attachment("sheet.png", "image/png", size, read)


async def test_a_declared_size_over_the_limit_is_refused_without_downloading() -> None:
    calls: list[int] = []
    with pytest.raises(InvalidSheet, match="at most 1 MB"):
        await read_attachment(
            attachment(b"", size=5 * 1024 * 1024, calls=calls), max_bytes=1024 * 1024
        )
    assert calls == []


async def test_more_bytes_than_the_limit_are_refused_when_the_size_was_not_declared() -> None:
    with pytest.raises(InvalidSheet, match="larger than"):
        await read_attachment(attachment(b"x" * 1001, size=None), max_bytes=1000)


async def test_an_understated_size_does_not_let_a_big_file_through() -> None:
    with pytest.raises(InvalidSheet, match="larger than"):
        await read_attachment(attachment(b"x" * 5000, size=10), max_bytes=1000)


async def test_a_file_at_the_limit_is_read_whole() -> None:
    calls: list[int] = []
    data = await read_attachment(attachment(b"y" * 1000, size=1000, calls=calls), max_bytes=1000)
    assert data == b"y" * 1000
    assert calls == [1001]


async def test_a_file_on_disk_goes_through_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "sheet.jpg"
    path.write_bytes(encode(Image.new("RGB", (640, 360), (90, 60, 30)), "JPEG"))

    data = await read_attachment(Attachment.from_path(path), max_bytes=1024 * 1024)
    sheet = await asyncio.wait_for(sanitise_sheet_async(data), timeout=30)

    assert (sheet.width, sheet.height, sheet.original_format) == (640, 360, "JPEG")
