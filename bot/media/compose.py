"""Compose one reference sheet from separate pictures (characters, props, a location).

Pure and CPU-bound: the async caller runs `compose_sheet` in a thread. The pictures come in
already checked and cleaned (`bot.media.sanitise.clean_image`); the layout is
`bot.media.sheet_layout`'s. Each picture is cover-cropped into its panel (scaled to fill it,
the overflow trimmed, never stretched) and the panels meet edge to edge: no border, gutter or
backdrop the model could copy into the video. Captions are off unless asked for, and small:
the label in white with a thin dark outline, in the panel's lower left corner, no box behind
it. Off because in the simulated renders the camera's zoom cut the captions along the sheet's
edges mid-word while the one in the middle floated in the scene like a subtitle; the prompt's
sentence names every panel anyway, and text on a sheet is something the model may copy.

`prompt_prefix` writes the sentence that names the panels in the model's own structure
("Reference sheet: a chef in a white jacket, a copper pan, and a bright studio kitchen.").
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from bot.media.sheet_layout import Box, Kind, cover_crop, layout
from bot.model import JSONObject

CAPTION_SHARE = 0.025  # caption height as a share of the canvas's shorter side
MIN_CAPTION_PX = 11
# A character's face is near the top of its picture: a crop that must lose height takes a
# tenth of it from the top and the rest from the feet.
CENTERING = {Kind.CHARACTER: (0.5, 0.1), Kind.PROP: (0.5, 0.5), Kind.LOCATION: (0.5, 0.5)}
_WHITE, _INK = (255, 255, 255), (24, 24, 28)


@dataclass(frozen=True)
class SheetPicture:
    """One checked, cleaned picture with what the sheet says about it."""

    image: Image.Image = field(repr=False)
    name: str  # the file's name, to tell the user which picture went where
    kind: Kind = Kind.PROP
    label: str | None = None

    @property
    def clause(self) -> str:
        """How the prompt names it: its label, else its kind."""
        return self.label or f"a {self.kind.value}"


@dataclass(frozen=True)
class PlacedPanel:
    """Where a picture went: its panel on the sheet and the part of the picture it shows."""

    name: str
    kind: Kind
    label: str | None
    box: Box
    crop: tuple[int, int, int, int]  # left, top, right, bottom in the cleaned picture

    def as_json(self) -> JSONObject:
        return {
            "image": self.name,
            "label": self.label,
            "kind": self.kind.value,
            "x": self.box.x,
            "y": self.box.y,
            "width": self.box.width,
            "height": self.box.height,
            "crop": list(self.crop),
        }


@dataclass(frozen=True)
class ComposedSheet:
    """The sheet as a PNG, its panels and the sentence that names them."""

    png: bytes = field(repr=False)  # megabytes: keep it out of logs and reprs
    width: int
    height: int
    panels: tuple[PlacedPanel, ...]
    prompt_prefix: str


def compose_sheet(
    pictures: Sequence[SheetPicture], width: int, height: int, *, captions: bool = False
) -> ComposedSheet:
    """The sheet at `width` x `height`, every pixel covered by some picture (blocking)."""
    aspects = [p.image.width / p.image.height for p in pictures]
    boxes = layout([p.kind for p in pictures], aspects, width, height)
    canvas = Image.new("RGB", (width, height))
    panels = []
    for picture, box in zip(pictures, boxes, strict=True):
        crop = cover_crop(picture.image.size, (box.width, box.height), CENTERING[picture.kind])
        tile = picture.image.resize((box.width, box.height), Image.Resampling.LANCZOS, box=crop)
        canvas.paste(tile, (box.x, box.y))
        rounded = (round(crop[0]), round(crop[1]), round(crop[2]), round(crop[3]))
        panels.append(PlacedPanel(picture.name, picture.kind, picture.label, box, rounded))
    if captions:
        _draw_captions(canvas, [(p.label, b) for p, b in zip(pictures, boxes, strict=True)])
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=3)  # as the sanitiser does (bench_sheets)
    return ComposedSheet(out.getvalue(), width, height, tuple(panels), prompt_prefix(pictures))


def prompt_prefix(pictures: Sequence[SheetPicture]) -> str:
    """ "Reference sheet: A, B, and C." with one clause per panel, in the pictures' order
    (the comma before "and" as in the model's own example prompt)."""
    clauses = [picture.clause for picture in pictures]
    if len(clauses) <= 2:
        named = " and ".join(clauses)
    else:
        named = ", ".join(clauses[:-1]) + ", and " + clauses[-1]
    return f"Reference sheet: {named}."


def _draw_captions(canvas: Image.Image, labels: list[tuple[str | None, Box]]) -> None:
    size = max(MIN_CAPTION_PX, round(min(canvas.size) * CAPTION_SHARE))
    font = _font(size)
    draw = ImageDraw.Draw(canvas)
    inset, stroke = size // 2, max(1, size // 10)
    for label, box in labels:
        if not label:
            continue
        text = _fitted(draw, label, font, box.width - 2 * inset)
        if text:
            draw.text(
                (box.x + inset, box.y + box.height - inset),
                text,
                font=font,
                fill=_WHITE,
                anchor="ld",  # left, descender: the text sits on the inset line
                stroke_width=stroke,
                stroke_fill=_INK,
            )


def _fitted(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    room: int,
) -> str:
    """`text`, shortened with an ellipsis until it fits `room` pixels (empty if nothing does)."""
    if draw.textlength(text, font=font) <= room:
        return text
    while text and draw.textlength(text + "…", font=font) > room:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizing: its one bitmap size
        return ImageFont.load_default()
