"""Where each picture of a composed reference sheet goes: pure geometry, no pixels.

What is known about the model decides the rules. Panels tile the whole canvas, which has the
video's own aspect ratio: empty bands on a sheet came back as letterboxing in the videos. A
panel's area is fixed by its kind (`SHARES`: a character three shares, a location two, a prop
one), so a character always gets the biggest panel and a location the next, background-sized
one. What is left to choose is the arrangement: characters first (left or top), then
locations, then props, each group cut off the canvas across or along, and each group's panels
in even rows or columns. Every arrangement is scored by how far each panel's shape is from its
picture's (what its cover-crop throws away, weighted by the panel's shares), and the best wins;
ties go to the first tried, so the same input always gives the same sheet.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    CHARACTER = "character"
    PROP = "prop"
    LOCATION = "location"


SHARES = {Kind.CHARACTER: 3, Kind.LOCATION: 2, Kind.PROP: 1}
GROUP_ORDER = (Kind.CHARACTER, Kind.LOCATION, Kind.PROP)
MAX_PANEL_ASPECT = 4.0


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in pixels: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def aspect(self) -> float:
        return self.width / self.height

    @property
    def area(self) -> int:
        return self.width * self.height


Placement = list[tuple[int, Box]]  # (the picture's index, its panel)


def layout(kinds: Sequence[Kind], aspects: Sequence[float], width: int, height: int) -> list[Box]:
    """The panel of each picture, in the pictures' order; together they tile the canvas.

    `aspects` are the pictures' own width/height ratios, used only to crop them least.
    """
    if not kinds or len(kinds) != len(aspects):
        raise ValueError("one aspect per picture, at least one picture")
    groups = [[i for i, k in enumerate(kinds) if k is kind] for kind in GROUP_ORDER]
    groups = [group for group in groups if group]
    canvas = Box(0, 0, width, height)
    shares = [SHARES[kind] for kind in kinds]
    scored = [
        (round(_loss(placement, aspects, shares), 9), placement)
        for placement in _arrangements(canvas, groups, shares)
    ]
    # A panel thinner than 1:4 reads as a band (bands came back as letterboxing); take such
    # an arrangement only when there is no other.
    sane = [pair for pair in scored if all(_sane(box) for _, box in pair[1])] or scored
    _, best = min(sane, key=lambda pair: pair[0])
    return [box for _, box in sorted(best, key=lambda pair: pair[0])]


def cover_crop(
    source: tuple[int, int], panel: tuple[int, int], centering: tuple[float, float] = (0.5, 0.5)
) -> tuple[float, float, float, float]:
    """The largest box of `source` with the panel's aspect ratio (left, top, right, bottom),
    placed by `centering` (0..1 across and down), as `PIL.ImageOps.fit` places it. Resizing
    that box to the panel fills it without stretching."""
    src_w, src_h = source
    aspect = panel[0] / panel[1]
    if src_w / src_h > aspect:  # wider than the panel: trim the sides
        crop_w, crop_h = src_h * aspect, float(src_h)
    else:  # taller: trim top and bottom
        crop_w, crop_h = float(src_w), src_w / aspect
    left = (src_w - crop_w) * centering[0]
    top = (src_h - crop_h) * centering[1]
    return left, top, left + crop_w, top + crop_h


def _sane(box: Box) -> bool:
    return 1 / MAX_PANEL_ASPECT <= box.aspect <= MAX_PANEL_ASPECT


def _loss(placement: Placement, aspects: Sequence[float], shares: Sequence[int]) -> float:
    """How far each panel's shape is from its picture's (squared log of the ratio, weighted
    by shares). Squared so that one sliver that keeps a fifth of a picture scores worse than
    several panels that each trim a little."""
    return sum(shares[i] * math.log(aspects[i] / box.aspect) ** 2 for i, box in placement)


def _arrangements(rect: Box, groups: list[list[int]], shares: Sequence[int]) -> Iterator[Placement]:
    first, rest = groups[0], groups[1:]
    if not rest:
        yield from _grids(rect, first)
        return
    weight = sum(shares[i] for i in first)
    fraction = weight / (weight + sum(shares[i] for group in rest for i in group))
    for across in (False, True):  # the first group's block on the left, or on top
        head, tail = _split(rect, [fraction, 1 - fraction], across)
        tails = list(_arrangements(tail, rest, shares))
        for own, others in itertools.product(_grids(head, first), tails):
            yield own + others


def _grids(rect: Box, members: list[int]) -> Iterator[Placement]:
    """The group's equal panels in `lines` even rows (or columns), for every line count; a
    line's thickness follows how many panels it holds, so every panel has the same area."""
    count = len(members)
    for lines in range(1, count + 1):
        sizes = [count // lines + (1 if n < count % lines else 0) for n in range(lines)]
        for across in (True, False):
            if lines == 1 and not across:
                continue  # one column of them all is also `count` rows of one, tried below
            strips = _split(rect, [size / count for size in sizes], across)
            placement: Placement = []
            taken = iter(members)
            for strip, size in zip(strips, sizes, strict=True):
                cells = _split(strip, [1 / size] * size, not across)
                placement.extend((next(taken), cell) for cell in cells)
            yield placement


def _split(rect: Box, fractions: Sequence[float], across: bool) -> list[Box]:
    """`rect` cut into consecutive strips of these fractions: stacked top to bottom when
    `across`, else side by side. Edges are rounded from the running total, so the strips
    tile `rect` exactly, with no pixel lost or shared."""
    length = rect.height if across else rect.width
    edges = [0]
    running = 0.0
    for fraction in fractions:
        running += fraction
        edges.append(round(length * running))
    edges[-1] = length
    boxes = []
    for start, end in itertools.pairwise(edges):
        if across:
            boxes.append(Box(rect.x, rect.y + start, rect.width, end - start))
        else:
            boxes.append(Box(rect.x + start, rect.y, end - start, rect.height))
    return boxes
