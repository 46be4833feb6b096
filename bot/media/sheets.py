"""Reference-sheet sanitising: decode, check and re-encode the image a user hands the bot.

Nothing is charged or sent to fal before a sheet passes through here. The format is decided by
what Pillow actually decodes, never by the file name or the platform's content type (a private
Slack file fetched without access is an HTML sign-in page served with status 200).

The output is a fresh RGB PNG: EXIF orientation applied, every byte of metadata (EXIF with
GPS, XMP, text chunks, ICC) gone, colours converted to sRGB when the file carried another ICC
profile, alpha flattened onto white and the long side capped. PNG because sheets are mostly
flat panels and labels where JPEG would ring around edges and lose detail the model must keep;
a photographic sheet costs a few MB of upload (about 5 MB at 2048x1536), small beside a
minutes-long generation, and one content type keeps the rest of the bot simple.

`check_sheet` is the cheap half (bytes, format, frames, pixel bounds, a full chunk/CRC parse,
no pixel decode; well under a millisecond for a typical sheet): it runs on the reply path,
before anything is held. `sanitise_sheet` does all of it again plus the decode, and runs inside
the job (`bot.media.sheet_files`).
"""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from bot.errors import InvalidSheet

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 2048
DEFAULT_MIN_SIDE = 64

_ASK = "send a PNG, JPEG or WebP reference sheet."
# The only decoders untrusted pixels ever reach. The JPEG opener may hand back "MPO": a JPEG
# carrying extra pictures (phone depth maps, previews) whose first picture is a normal JPEG.
_DECODERS = ["PNG", "JPEG", "WEBP"]
_SHOWN_NAME = {"MPO": "JPEG", "WEBP": "WebP"}
# Everything a broken or hostile file can make Pillow raise while parsing or decoding.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
Image.init()  # registers the WebP opener; `Image.open(formats=...)` does not do it by itself
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ORIENTATION = 0x0112
_TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Sheet:
    """A sanitised reference sheet, ready to upload."""

    data: bytes = field(repr=False)  # megabytes: keep it out of logs and reprs
    content_type: str
    file_name: str
    width: int
    height: int
    original_format: str

    @property
    def aspect(self) -> float:
        """Width over height, for the `auto` video size."""
        return self.width / self.height


@dataclass(frozen=True)
class SheetHeader:
    """What `check_sheet` learnt without decoding: the clean sheet's size, as `sanitise_sheet`
    will make it (EXIF rotation applied, long side capped)."""

    original_format: str
    width: int
    height: int

    @property
    def aspect(self) -> float:
        """Width over height, for the `auto` video size."""
        return self.width / self.height


def check_sheet(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    min_side: int = DEFAULT_MIN_SIDE,
) -> SheetHeader:
    """Every check of `sanitise_sheet` that needs no pixel decode; raises `InvalidSheet`.

    What passes here can still fail the decode (a JPEG cut off mid-scan, whose header and
    markers are intact): `sanitise_sheet` refuses it then, inside the job.
    """
    _check_bytes(data, max_bytes)
    fmt, size, orientation = _inspect(data, max_pixels=max_pixels, min_side=min_side)
    width, height = size
    if orientation in _TRANSPOSING:
        width, height = height, width
    width, height = _fit((width, height), max_side)
    return SheetHeader(fmt.upper(), width, height)


def sanitise_sheet(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    min_side: int = DEFAULT_MIN_SIDE,
) -> Sheet:
    """Decode `data`, refuse anything but a sane still PNG/JPEG/WebP, return a clean PNG.

    CPU-bound: call `sanitise_sheet_async` from the event loop. Raises `InvalidSheet` with a
    sentence the user can act on.
    """
    _check_bytes(data, max_bytes)
    fmt, _, _ = _inspect(data, max_pixels=max_pixels, min_side=min_side)
    image = _open(data)
    target = _fit(image.size, max_side)
    if image.format in ("JPEG", "MPO") and target != image.size:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (never below the target): far less work.
        image.draft(image.mode, target)
    try:
        image.load()
        image = _apply_orientation(image)
        rgb = _to_srgb(image)
    except _DECODE_ERRORS as error:
        raise InvalidSheet(_damaged(fmt)) from error
    size = _fit(rgb.size, max_side)
    if size != rgb.size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    clean = Image.new("RGB", rgb.size)  # a fresh image carries no info, EXIF or ICC to save
    clean.paste(rgb)
    out = io.BytesIO()
    # Level 3 instead of zlib's 6: a third of the CPU on photos (0.6 s vs 1.5 s for 2048x1536)
    # for about 10% more bytes; flat sheets are small either way. See bench/bench_sheets.py.
    clean.save(out, format="PNG", compress_level=3)
    return Sheet(
        data=out.getvalue(),
        content_type="image/png",
        file_name="sheet.png",
        width=clean.width,
        height=clean.height,
        original_format=fmt.upper(),
    )


async def sanitise_sheet_async(data: bytes, **limits: Any) -> Sheet:
    """`sanitise_sheet` in a worker thread, so decoding never blocks the event loop."""
    return await asyncio.to_thread(sanitise_sheet, data, **limits)


def _check_bytes(data: bytes, max_bytes: int) -> None:
    if not data:
        raise InvalidSheet(f"That file is empty; {_ASK}")
    if len(data) > max_bytes:
        raise InvalidSheet(
            f"That file is {megabytes(len(data))}; reference sheets can be at most "
            f"{megabytes(max_bytes)}."
        )


def _inspect(data: bytes, *, max_pixels: int, min_side: int) -> tuple[str, tuple[int, int], int]:
    """Check format, frames and size from the header, then parse the whole file once without
    decoding pixels (PNG: every chunk and its CRC). Returns the format's display name, the
    stored size and the EXIF orientation (1 when there is none in the header)."""
    try:
        with Image.open(io.BytesIO(data), formats=_DECODERS) as probe:
            fmt = _SHOWN_NAME.get(probe.format or "", probe.format or "image")
            if probe.format != "MPO" and getattr(probe, "is_animated", False):
                raise InvalidSheet(
                    f"That file is an animated {fmt}; send a still image as a PNG, JPEG or WebP."
                )
            _check_dimensions(probe.size, max_pixels=max_pixels, min_side=min_side)
            orientation = _header_orientation(probe)
            size = probe.size
            probe.verify()
            return fmt, size, orientation
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own process-wide guard tripped (only far above our limit, or under -W error).
        raise InvalidSheet(
            "That image has far too many pixels to be a reference sheet; resize it and send it "
            "again."
        ) from error
    except UnidentifiedImageError as error:
        raise InvalidSheet(_describe_unsupported(data)) from error
    except _DECODE_ERRORS as error:
        raise InvalidSheet(_damaged(_guess_accepted_name(data))) from error


def _header_orientation(probe: Image.Image) -> int:
    """The EXIF orientation as the header carries it, read without decoding.

    JPEG and WebP keep EXIF ahead of the pixels; a PNG's eXIf chunk is only seen here when it
    comes before the image data (as the PNG spec asks). `Image.getexif` is not used because on
    a PNG it may decode the whole image to look for a late chunk.
    """
    raw = probe.info.get("exif")
    if not raw:
        return 1
    try:
        exif = Image.Exif()
        exif.load(raw)
        value = exif.get(_ORIENTATION, 1)
    except _DECODE_ERRORS:
        return 1  # malformed EXIF: `_apply_orientation` ignores it too
    return value if isinstance(value, int) else 1


def _open(data: bytes) -> Image.Image:
    # `verify` leaves the image unusable, so open again for the real decode.
    try:
        return Image.open(io.BytesIO(data), formats=_DECODERS)
    except _DECODE_ERRORS as error:
        raise InvalidSheet(_damaged(_guess_accepted_name(data))) from error


def _check_dimensions(size: tuple[int, int], *, max_pixels: int, min_side: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise InvalidSheet(
            f"That image is {width}x{height} pixels ({_megapixels(width * height)} megapixels); "
            f"reference sheets can be at most {_megapixels(max_pixels)} megapixels. "
            "Resize it and send it again."
        )
    if min(width, height) < min_side:
        raise InvalidSheet(
            f"That image is only {width}x{height} pixels; a reference sheet needs at least "
            f"{min_side} pixels on each side."
        )


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down (never up) so the long side is at most `max_side`, aspect kept."""
    width, height = size
    long_side = max(width, height)
    if long_side <= max_side:
        return size
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        # Malformed EXIF: the pixels are fine, only the rotation hint is unreadable.
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Any mode to RGB in sRGB, with transparency flattened onto white."""
    icc = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits; a plain convert would clip nearly everything to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    if icc:
        # The model sees sRGB: a Display-P3 photo with its profile dropped would look washed
        # out, so convert the pixels, then drop the profile with the rest of the metadata.
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile, or one for another colour space: plain conversion below
    return image if image.mode == "RGB" else image.convert("RGB")


def _describe_unsupported(data: bytes) -> str:
    """A sentence naming what the file seems to be, for anything Pillow may not decode here."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"ftypheic" in data[:32] or b"ftypheix" in data[:32] or b"ftypmif1" in data[:32]:
        return f"That file is a HEIC photo (the iPhone default); {_ASK}"
    if head.startswith(b"%pdf"):
        return f"That file is a PDF; export the page as an image and {_ASK}"
    if b"<svg" in head:
        return "That file is an SVG drawing; export it as a PNG and send that."
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<head" in head:
        return (
            "That file is not an image (it looks like an HTML page, perhaps a sign-in page the "
            f"platform returned instead of the file); {_ASK}"
        )
    named = _pillow_format_name(data)
    if named:
        return f"That file is a {named}; {_ASK}"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return f"That file is not an image we can read; {_ASK}"
    return f"That file is not an image (it looks like text); {_ASK}"


def _pillow_format_name(data: bytes) -> str | None:
    """Pillow's name for a format we do not accept (GIF, BMP, TIFF...); header only, no decode."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            return other.format
    except Exception:  # any failure just means "we cannot name it"; the caller has a fallback
        return None


def _guess_accepted_name(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return "image"


def _damaged(fmt: str) -> str:
    return (
        f"That {fmt} file is damaged or incomplete (perhaps cut off during upload); "
        "send it again or export it afresh."
    )


def megabytes(size: int) -> str:
    """A byte count as users read it: "1.5 MB" (mebibytes, rounded up to a tenth)."""
    return f"{math.ceil(size / MIB * 10) / 10:g} MB"


def _megapixels(pixels: int) -> str:
    return f"{round(pixels / 1e6, 1):g}"
