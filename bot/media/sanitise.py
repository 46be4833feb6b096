"""The sanitising half of a reference sheet's checks: Pillow's decode, metadata stripped, a
fresh PNG encoded.

The output is a fresh RGB PNG: EXIF orientation applied, every byte of metadata (EXIF with
GPS, XMP, text chunks, ICC) gone, colours converted to sRGB when the file carried another ICC
profile, alpha flattened onto white and the long side capped. PNG because sheets are mostly
flat panels and labels where JPEG would ring around edges and lose detail the model must keep;
a photographic sheet costs a few MB of upload (about 5 MB at 2048x1536), small beside a
minutes-long generation, and one content type keeps the rest of the bot simple.

`sanitise_sheet` runs every check of `bot.media.intake` again, then decodes; it runs inside the
job (`bot.media.sheet_files`), never on the reply path.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from PIL import Image, ImageCms, ImageOps

from bot.errors import InvalidSheet
from bot.media.intake import (
    DECODE_ERRORS,
    DECODERS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_SIDE,
    check_bytes,
    damaged,
    fit,
    guess_accepted_name,
    parse_without_decoding,
)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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
    clean, fmt = clean_image(
        data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side, min_side=min_side
    )
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


def clean_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
    min_side: int = DEFAULT_MIN_SIDE,
) -> tuple[Image.Image, str]:
    """Every check of `sanitise_sheet`, then the decoded picture: upright, sRGB, no metadata,
    long side capped; and the format's display name. The sheet composer
    (`bot.media.compose`) takes its images from here, so they pass the same checks.

    CPU-bound (run it in a thread); raises `InvalidSheet`.
    """
    check_bytes(data, max_bytes)
    fmt, _, _ = parse_without_decoding(data, max_pixels=max_pixels, min_side=min_side)
    image = _open(data)
    target = fit(image.size, max_side)
    if image.format in ("JPEG", "MPO") and target != image.size:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (never below the target): far less work.
        image.draft(image.mode, target)
    try:
        image.load()
        image = _apply_orientation(image)
        rgb = _to_srgb(image)
    except DECODE_ERRORS as error:
        raise InvalidSheet(damaged(fmt)) from error
    size = fit(rgb.size, max_side)
    if size != rgb.size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    clean = Image.new("RGB", rgb.size)  # a fresh image carries no info, EXIF or ICC to save
    clean.paste(rgb)
    return clean, fmt


class SheetLimits(TypedDict, total=False):
    """`sanitise_sheet`'s limits, passed along by `sanitise_sheet_async`."""

    max_bytes: int
    max_pixels: int
    max_side: int
    min_side: int


async def sanitise_sheet_async(data: bytes, **limits: Unpack[SheetLimits]) -> Sheet:
    """`sanitise_sheet` in a worker thread, so decoding never blocks the event loop."""
    return await asyncio.to_thread(sanitise_sheet, data, **limits)


def _open(data: bytes) -> Image.Image:
    # `verify` leaves the image unusable, so open again for the real decode.
    try:
        return Image.open(io.BytesIO(data), formats=DECODERS)
    except DECODE_ERRORS as error:
        raise InvalidSheet(damaged(guess_accepted_name(data))) from error


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except DECODE_ERRORS:
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
