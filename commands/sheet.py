"""Compose a reference sheet from 1 to 6 pictures: the platform-neutral part of `ltxbot sheet`
and of `generate` with several sheets (Discord's and Slack's `/ltx sheet` will call it too).

Everything a user can get wrong is refused before any picture is decoded, each with a sentence
that names the picture: how many there are, labels or kinds that do not match them in number,
an unknown kind, an empty or overlong label. Each picture then passes the reference sheet's own
checks (`bot.media.intake.read_attachment` while it is fetched, `bot.media.sanitise.clean_image`
before it is used: size, type, decompression bombs, disguised files). Decoding and composing
run in a worker thread, never on the event loop. Nothing is held or charged here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InvalidRequest, InvalidSheet
from bot.media.compose import ComposedSheet, SheetPicture, compose_sheet
from bot.media.intake import DEFAULT_MAX_BYTES, DEFAULT_MAX_SIDE, fit, read_attachment
from bot.media.sanitise import clean_image
from bot.media.sheet_layout import Kind
from bot.model import Attachment
from bot.request import ImageSize, auto_size
from bot.request_parsing import parse_request

MAX_IMAGES = 6
MAX_LABEL_CHARS = 200
MAX_ASPECT = 4.0  # 4:1 to 1:4; further out the canvas is a band, not a frame
KINDS = ", ".join(kind.value for kind in Kind)
_ASPECT_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class SheetAsk:
    """What a user asked to compose; labels and kinds, when given, one per picture."""

    attachments: Sequence[Attachment]
    size: ImageSize
    labels: Sequence[str] = ()
    kinds: Sequence[str] = ()
    captions: bool = False  # off reads better: see bot.media.compose


async def compose(ask: SheetAsk, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ComposedSheet:
    """The composed sheet, or `InvalidSheet` / `InvalidRequest` naming the picture at fault."""
    labels, kinds = _checked(ask)
    originals = [await _fetched(n, a, max_bytes) for n, a in enumerate(ask.attachments, 1)]
    width, height = fit((ask.size.width, ask.size.height), DEFAULT_MAX_SIDE)

    def work() -> ComposedSheet:
        pictures = [
            _picture(n, attachment.file_name, data, kind, label, max_bytes)
            for n, (attachment, data, kind, label) in enumerate(
                zip(ask.attachments, originals, kinds, labels, strict=True), 1
            )
        ]
        return compose_sheet(pictures, width, height, captions=ask.captions)

    return await asyncio.to_thread(work)


def sheet_size(resolution: str | None = None, aspect: str | None = None) -> ImageSize:
    """The canvas: a resolution as the request takes it ("1280x720", a named size; `auto` is
    the default size), or an aspect ratio ("16:9") at the size `auto` renders for it, or else
    the model's default size."""
    if resolution is not None and aspect is not None:
        raise InvalidRequest(["give a resolution or an aspect ratio, not both"])
    if aspect is None:
        return parse_request({"prompt": "sheet", "resolution": resolution}).size()
    match = _ASPECT_TEXT.match(aspect)
    ratio = float(match[1]) / float(match[2]) if match and float(match[2]) else 0.0
    if not 1 / MAX_ASPECT <= ratio <= MAX_ASPECT:
        raise InvalidRequest(
            [f"aspect = {aspect!r} is not an aspect ratio from 1:4 to 4:1, such as 16:9 or 9:16"]
        )
    return auto_size(ratio)


def size_options(text: str) -> dict[str, str]:
    """One typed size as `sheet`'s options: "16:9" is an aspect ratio, "1280x720" or a named
    size a resolution; nothing typed, none."""
    typed = text.strip()
    if not typed:
        return {}
    return {"aspect" if _ASPECT_TEXT.match(typed) else "resolution": typed}


def with_prefix(prefix: str, prompt: str) -> str:
    """The prompt sent to fal: the sheet's sentence, then the user's prompt as the model's
    "Generated video:" part. A prompt that already starts with "Reference sheet:" is the
    user's own structure and is sent as written."""
    text = prompt.strip()
    if text.lower().startswith("reference sheet:"):
        return text
    if not text.lower().startswith("generated video:"):
        text = f"Generated video: {text}"
    return f"{prefix} {text}"


def as_attachment(sheet: ComposedSheet, file_name: str = "sheet.png") -> Attachment:
    """The composed PNG as a generate command takes a sheet (read from memory), carrying its
    sentence for the prompt."""

    async def read(limit: int) -> bytes:
        return sheet.png[: limit + 1]

    return Attachment(file_name, "image/png", len(sheet.png), read, sheet.prompt_prefix)


def _checked(ask: SheetAsk) -> tuple[list[str | None], list[Kind]]:
    """The labels and kinds per picture (None and `prop` where none were given)."""
    count, names = len(ask.attachments), [a.file_name for a in ask.attachments]
    if count == 0:
        raise InvalidSheet(f"A composed sheet needs 1 to {MAX_IMAGES} pictures; none was given.")
    if count > MAX_IMAGES:
        extra = ", ".join(f"{n} ({names[n - 1]})" for n in range(MAX_IMAGES + 1, count + 1))
        raise InvalidSheet(
            f"A composed sheet takes at most {MAX_IMAGES} pictures; {count} were given: "
            f"leave out {extra}."
        )
    labels = _matched("label", ask.labels, names)
    kinds = _matched("kind", ask.kinds, names)
    for n, label in enumerate(labels, 1):
        if label is not None and not label:
            raise InvalidRequest([f"Picture {n} ({names[n - 1]}): its label is empty."])
        if label is not None and len(label) > MAX_LABEL_CHARS:
            raise InvalidRequest(
                [
                    f"Picture {n} ({names[n - 1]}): its label is {len(label)} characters; "
                    f"at most {MAX_LABEL_CHARS}."
                ]
            )
    return labels, [_kind(n, names[n - 1], text) for n, text in enumerate(kinds, 1)]


def _matched(what: str, given: Sequence[str], names: list[str]) -> list[str | None]:
    """One per picture, or none at all; cleaned of spaces and end punctuation."""
    if not given:
        return [None] * len(names)
    if len(given) != len(names):
        if len(given) < len(names):
            n = len(given) + 1
            which = f"picture {n} ({names[n - 1]}) has none"
        else:
            which = f"{what} {len(names) + 1} ({given[len(names)]!r}) has no picture"
        raise InvalidRequest(
            [
                f"{len(names)} pictures but {_count(len(given), what)}: give one {what} per "
                f"picture, in the pictures' order ({which})."
            ]
        )
    return [" ".join(text.split()).rstrip(" .,;:") for text in given]


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _kind(n: int, name: str, text: str | None) -> Kind:
    if text is None:
        return Kind.PROP  # nothing said: equal panels
    try:
        return Kind(text.lower())
    except ValueError:
        raise InvalidRequest(
            [f"Picture {n} ({name}): kind {text!r} is not one of {KINDS}."]
        ) from None


async def _fetched(n: int, attachment: Attachment, max_bytes: int) -> bytes:
    try:
        return await read_attachment(attachment, max_bytes=max_bytes)
    except InvalidSheet as refused:
        raise InvalidSheet(f"Picture {n} ({attachment.file_name}): {refused}") from None


def _picture(
    n: int, name: str, data: bytes, kind: Kind, label: str | None, max_bytes: int
) -> SheetPicture:
    try:
        image, _ = clean_image(data, max_bytes=max_bytes)
    except InvalidSheet as refused:
        raise InvalidSheet(f"Picture {n} ({name}): {refused}") from None
    return SheetPicture(image, name, kind, label)
