"""The cheap half of a reference sheet's checks: size, format, frames, pixel bounds and a full
parse of the file, all without decoding a pixel.

Nothing is charged or sent to fal before a sheet passes these checks and then the sanitiser
(`bot.media.sanitise`). The format is decided by what Pillow actually parses, never by the file
name or the platform's content type (a private Slack file fetched without access is an HTML
sign-in page served with status 200).

`read_attachment` refuses an oversized file while downloading it; `check_sheet` runs the rest
(well under a millisecond for a typical sheet) on the reply path, before anything is held
(`bot.media.sheet_files`). The sanitiser runs every check again before its decode.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from bot.errors import InvalidSheet
from bot.model import Attachment

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 2048
DEFAULT_MIN_SIDE = 64

ASK = "send a PNG, JPEG or WebP reference sheet."
# The only decoders untrusted pixels ever reach. The JPEG opener may hand back "MPO": a JPEG
# carrying extra pictures (phone depth maps, previews) whose first picture is a normal JPEG.
DECODERS = ["PNG", "JPEG", "WEBP"]
_SHOWN_NAME = {"MPO": "JPEG", "WEBP": "WebP"}
# Everything a broken or hostile file can make Pillow raise while parsing or decoding.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
Image.init()  # registers the WebP opener; `Image.open(formats=...)` does not do it by itself
_ORIENTATION = 0x0112
_TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that swap width and height


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


async def read_attachment(attachment: Attachment, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Fetch an attachment's bytes, refusing it when it is larger than `max_bytes`.

    A declared size over the limit is refused before anything is downloaded. We ask `read`
    for one byte more than the limit so an oversized file shows itself whichever way the
    adapter counts (at most `limit`, or `limit + 1` like `Attachment.from_path`).
    """
    if attachment.size is not None and attachment.size > max_bytes:
        raise InvalidSheet(
            f"That file is {megabytes(attachment.size)}; reference sheets can be at most "
            f"{megabytes(max_bytes)}."
        )
    data = await attachment.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidSheet(
            f"That file is larger than {megabytes(max_bytes)}, the most a reference sheet may "
            "be; send a smaller image."
        )
    return data


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
    check_bytes(data, max_bytes)
    fmt, size, orientation = parse_without_decoding(data, max_pixels=max_pixels, min_side=min_side)
    width, height = size
    if orientation in _TRANSPOSING:
        width, height = height, width
    width, height = fit((width, height), max_side)
    return SheetHeader(fmt.upper(), width, height)


def check_bytes(data: bytes, max_bytes: int) -> None:
    if not data:
        raise InvalidSheet(f"That file is empty; {ASK}")
    if len(data) > max_bytes:
        raise InvalidSheet(
            f"That file is {megabytes(len(data))}; reference sheets can be at most "
            f"{megabytes(max_bytes)}."
        )


def parse_without_decoding(
    data: bytes, *, max_pixels: int, min_side: int
) -> tuple[str, tuple[int, int], int]:
    """Check format, frames and size from the header, then parse the whole file once without
    decoding pixels (PNG: every chunk and its CRC). Returns the format's display name, the
    stored size and the EXIF orientation (1 when there is none in the header)."""
    try:
        with Image.open(io.BytesIO(data), formats=DECODERS) as probe:
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
    except DECODE_ERRORS as error:
        raise InvalidSheet(damaged(guess_accepted_name(data))) from error


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
    except DECODE_ERRORS:
        return 1  # malformed EXIF: the sanitiser ignores it too
    return value if isinstance(value, int) else 1


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


def fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down (never up) so the long side is at most `max_side`, aspect kept."""
    width, height = size
    long_side = max(width, height)
    if long_side <= max_side:
        return size
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _describe_unsupported(data: bytes) -> str:
    """A sentence naming what the file seems to be, for anything Pillow may not decode here."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"ftypheic" in data[:32] or b"ftypheix" in data[:32] or b"ftypmif1" in data[:32]:
        return f"That file is a HEIC photo (the iPhone default); {ASK}"
    if head.startswith(b"%pdf"):
        return f"That file is a PDF; export the page as an image and {ASK}"
    if b"<svg" in head:
        return "That file is an SVG drawing; export it as a PNG and send that."
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<head" in head:
        return (
            "That file is not an image (it looks like an HTML page, perhaps a sign-in page the "
            f"platform returned instead of the file); {ASK}"
        )
    named = _pillow_format_name(data)
    if named:
        return f"That file is a {named}; {ASK}"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return f"That file is not an image we can read; {ASK}"
    return f"That file is not an image (it looks like text); {ASK}"


def _pillow_format_name(data: bytes) -> str | None:
    """Pillow's name for a format we do not accept (GIF, BMP, TIFF...); header only, no decode."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            return other.format
    except Exception:  # any failure just means "we cannot name it"; the caller has a fallback
        return None


HEAD_BYTES = 1024  # enough of a file's start to name what it is


def check_head(head: bytes) -> None:
    """Refuse a file whose first bytes are no PNG, JPEG or WebP, naming what it seems to be
    (a text file renamed .png): checkable before the rest of the file is fetched."""
    if not head:
        raise InvalidSheet(f"That file is empty; {ASK}")
    if accepted_format(head) is None:
        raise InvalidSheet(_describe_unsupported(head))


def accepted_format(head: bytes) -> str | None:
    """PNG, JPEG or WebP by the file's magic bytes (nothing parsed), else None."""
    if head.startswith(b"\x89PNG"):
        return "PNG"
    if head.startswith(b"\xff\xd8"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def guess_accepted_name(data: bytes) -> str:
    """PNG, JPEG or WebP by the file's magic bytes, for a file too damaged to parse."""
    return accepted_format(data) or "image"


def damaged(fmt: str) -> str:
    """The refusal of a file of format `fmt` that Pillow could not parse or decode."""
    return (
        f"That {fmt} file is damaged or incomplete (perhaps cut off during upload); "
        "send it again or export it afresh."
    )


def megabytes(size: int) -> str:
    """A byte count as users read it: "1.5 MB" (mebibytes, rounded up to a tenth)."""
    return f"{math.ceil(size / MIB * 10) / 10:g} MB"


def _megapixels(pixels: int) -> str:
    return f"{round(pixels / 1e6, 1):g}"
