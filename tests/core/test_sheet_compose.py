"""The sheet composer: panels tile the whole canvas, each picture cover-cropped (never
stretched), characters biggest, the location next and wide; bad input refused, naming the
picture, before anything is composed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.errors import InvalidRequest, InvalidSheet
from bot.media import compose as compose_module
from bot.media.compose import SheetPicture, compose_sheet, prompt_prefix
from bot.media.sheet_layout import MAX_PANEL_ASPECT, Box, Kind, layout
from bot.model import Attachment
from bot.request import DEFAULT_HEIGHT, DEFAULT_WIDTH, auto_size
from commands import sheet as sheet_command
from commands.sheet import SheetAsk, compose, sheet_size, with_prefix

C, L, P = Kind.CHARACTER, Kind.LOCATION, Kind.PROP
COLOURS = [
    (200, 40, 40),
    (40, 160, 60),
    (50, 70, 200),
    (230, 200, 40),
    (160, 60, 200),
    (30, 200, 200),
]


def png(size: tuple[int, int], colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


class Counted:
    """An attachment that counts its reads: a refusal before fetching reads none."""

    def __init__(self, name: str, data: bytes) -> None:
        self.reads = 0

        async def read(limit: int) -> bytes:
            self.reads += 1
            return data[: limit + 1]

        self.attachment = Attachment(name, None, len(data), read)


def attachments(*named: tuple[str, bytes]) -> tuple[list[Attachment], list[Counted]]:
    counted = [Counted(name, data) for name, data in named]
    return [c.attachment for c in counted], counted


def coverage(boxes: Sequence[Box], width: int, height: int) -> np.ndarray:
    """How many panels cover each pixel of the canvas."""
    counts = np.zeros((height, width), dtype=np.int32)
    for box in boxes:
        counts[box.y : box.y + box.height, box.x : box.x + box.width] += 1
    return counts


@settings(max_examples=150, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(list(Kind)), min_size=1, max_size=6),
    aspect=st.floats(0.25, 4.0),
    long_side=st.integers(448, 2048),
    picture_aspects=st.lists(st.floats(0.3, 3.5), min_size=6, max_size=6),
)
def test_panels_tile_the_whole_canvas_once_and_kinds_rank_by_area(
    kinds: list[Kind], aspect: float, long_side: int, picture_aspects: list[float]
) -> None:
    width, height = (
        (long_side, round(long_side / aspect))
        if aspect >= 1
        else (
            round(long_side * aspect),
            long_side,
        )
    )
    boxes = layout(kinds, picture_aspects[: len(kinds)], width, height)
    assert len(boxes) == len(kinds)
    assert (coverage(boxes, width, height) == 1).all()  # no gap, no overlap, nothing outside
    areas = {
        kind: [b.area for b, k in zip(boxes, kinds, strict=True) if k is kind] for kind in Kind
    }
    smallest_character = min(areas[C], default=None)
    for other in areas[L] + areas[P]:
        assert smallest_character is None or smallest_character > other
    for prop in areas[P]:
        assert all(location > prop for location in areas[L])


def test_a_chef_a_kitchen_and_two_props_on_the_default_canvas() -> None:
    # A portrait character, a landscape location, two square props.
    boxes = layout([C, L, P, P], [2 / 3, 16 / 9, 1, 1], DEFAULT_WIDTH, DEFAULT_HEIGHT)
    chef, kitchen, pan, basil = boxes
    assert chef.area == max(b.area for b in boxes)
    assert chef.height == DEFAULT_HEIGHT and chef.aspect < 1  # a full-height portrait panel
    # The location is the background-sized one: the biggest after the character, and wide.
    assert kitchen.area > pan.area and kitchen.area > basil.area
    assert kitchen.aspect > 1.5
    assert all(1 / MAX_PANEL_ASPECT <= b.aspect <= MAX_PANEL_ASPECT for b in boxes)


def test_every_pixel_shows_a_picture_and_each_crop_has_its_panels_shape() -> None:
    kinds = [C, P, P, L, P, C]
    sizes = [(600, 900), (800, 800), (700, 500), (1600, 900), (300, 1000), (640, 1136)]
    pictures = [
        SheetPicture(Image.new("RGB", size, COLOURS[n]), f"p{n}.png", kind, f"thing {n}")
        for n, (size, kind) in enumerate(zip(sizes, kinds, strict=True))
    ]
    sheet = compose_sheet(pictures, 1280, 720)
    pixels = np.asarray(Image.open(io.BytesIO(sheet.png)).convert("RGB"))
    assert pixels.shape == (720, 1280, 3)
    for n, panel in enumerate(sheet.panels):
        box = panel.box
        inside = pixels[box.y : box.y + box.height, box.x : box.x + box.width]
        assert (inside == COLOURS[n]).all(), panel  # its own picture, edge to edge, no caption
        left, top, right, bottom = panel.crop
        assert abs((right - left) / (bottom - top) - box.aspect) < 0.01 * box.aspect
        # The crop is the largest of that shape: it spans the picture's width or height.
        assert abs(right - left - sizes[n][0]) <= 1 or abs(bottom - top - sizes[n][1]) <= 1
    assert (coverage([p.box for p in sheet.panels], 1280, 720) == 1).all()


def test_captions_are_drawn_only_when_asked() -> None:
    pictures = [SheetPicture(Image.new("RGB", (400, 400), COLOURS[0]), "a.png", P, "a red box")]
    plain = compose_sheet(pictures, 768, 448)
    captioned = compose_sheet(pictures, 768, 448, captions=True)
    plain_pixels = np.asarray(Image.open(io.BytesIO(plain.png)))
    captioned_pixels = np.asarray(Image.open(io.BytesIO(captioned.png)))
    assert (plain_pixels == COLOURS[0]).all()
    changed = (captioned_pixels != plain_pixels).any(axis=2)
    rows, columns = np.nonzero(changed)
    assert rows.size > 0
    # Small, in the lower left corner.
    assert rows.min() > 448 * 0.85 and columns.max() < 768 * 0.5


@pytest.mark.parametrize(
    ("labels", "sentence"),
    [
        (["a chef"], "Reference sheet: a chef."),
        (["a chef", "a copper pan"], "Reference sheet: a chef and a copper pan."),
        (
            ["a chef in a white jacket", "a copper pan", "fresh basil", "a bright studio kitchen"],
            "Reference sheet: a chef in a white jacket, a copper pan, fresh basil, and a bright "
            "studio kitchen.",
        ),
    ],
)
def test_the_prompt_prefix_names_every_panel_in_order(labels: list[str], sentence: str) -> None:
    pictures = [SheetPicture(Image.new("RGB", (64, 64)), "x.png", P, label) for label in labels]
    assert prompt_prefix(pictures) == sentence


def test_without_labels_the_prefix_names_the_kinds() -> None:
    pictures = [SheetPicture(Image.new("RGB", (64, 64)), "x.png", kind) for kind in (C, L)]
    assert prompt_prefix(pictures) == "Reference sheet: a character and a location."


def test_the_prefix_goes_before_the_prompt_as_the_models_structure() -> None:
    prefix = "Reference sheet: a chef and a pan."
    assert with_prefix(prefix, " the chef tosses pasta ") == (
        "Reference sheet: a chef and a pan. Generated video: the chef tosses pasta"
    )
    assert with_prefix(prefix, "Generated video: steam rises") == (
        "Reference sheet: a chef and a pan. Generated video: steam rises"
    )
    own = "Reference sheet: my own words. Generated video: x"
    assert with_prefix(prefix, own) == own


def test_sheet_sizes() -> None:
    assert sheet_size() == auto_size(None) and (DEFAULT_WIDTH, DEFAULT_HEIGHT) == (1536, 896)
    assert str(sheet_size("1280x720")) == "1280x720"
    assert sheet_size(aspect="16:9") == auto_size(16 / 9)
    assert sheet_size(aspect="9:16").height > sheet_size(aspect="9:16").width
    with pytest.raises(InvalidRequest, match="not both"):
        sheet_size("1280x720", "16:9")
    with pytest.raises(InvalidRequest, match="aspect ratio from 1:4 to 4:1"):
        sheet_size(aspect="10:1")
    with pytest.raises(InvalidRequest, match="resolution"):
        sheet_size("huge")


async def test_composes_from_attachments_at_the_size_asked() -> None:
    given_, _ = attachments(("chef.png", png((600, 900))), ("kitchen.png", png((1600, 900))))
    ask = SheetAsk(
        given_, sheet_size("1280x720"), ["a chef", "a kitchen"], ["character", "location"]
    )
    sheet = await compose(ask)
    assert (sheet.width, sheet.height) == (1280, 720)
    assert Image.open(io.BytesIO(sheet.png)).size == (1280, 720)
    assert [p.kind for p in sheet.panels] == [C, L]
    assert sheet.prompt_prefix == "Reference sheet: a chef and a kitchen."


@pytest.fixture
def no_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a refused sheet was composed")

    monkeypatch.setattr(sheet_command, "compose_sheet", refuse)
    monkeypatch.setattr(compose_module, "compose_sheet", refuse)


@pytest.mark.usefixtures("no_composing")
@pytest.mark.parametrize(
    ("count", "labels", "kinds", "refusal"),
    [
        (0, [], [], "needs 1 to 6 pictures; none was given"),
        (7, [], [], "at most 6 pictures; 7 were given: leave out 7 (p7.png)"),
        (3, ["a", "b"], [], "3 pictures but 2 labels: give one label per picture, in the "
         "pictures' order (picture 3 (p3.png) has none)"),
        (2, ["a", "b", "c"], [], "2 pictures but 3 labels: give one label per picture, in the "
         "pictures' order (label 3 ('c') has no picture)"),
        (2, [], ["prop"], "2 pictures but 1 kind: give one kind per picture, in the pictures' "
         "order (picture 2 (p2.png) has none)"),
        (2, [], ["prop", "food"], "Picture 2 (p2.png): kind 'food' is not one of character, "
         "prop, location"),
        (2, ["a", " . "], [], "Picture 2 (p2.png): its label is empty"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_naming_the_picture_before_any_is_read(
    count: int, labels: list[str], kinds: list[str], refusal: str
) -> None:
    given_, counted = attachments(*((f"p{n}.png", png((100, 100))) for n in range(1, count + 1)))
    with pytest.raises((InvalidSheet, InvalidRequest)) as refused:
        await compose(SheetAsk(given_, sheet_size(), labels, kinds))
    assert refusal in str(refused.value)
    assert all(c.reads == 0 for c in counted)


@pytest.mark.usefixtures("no_composing")
@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (b"<!doctype html><html><body>Sign in</body></html>", "it looks like an HTML page"),
        (png((8000, 6000)), "reference sheets can be at most 40 megapixels"),
        (png((40, 40)), "needs at least 64 pixels on each side"),
        (png((300, 300))[:-40], "damaged or incomplete"),
    ],
    ids=["disguised-html", "too-many-pixels", "too-small", "cut-off"],
)
async def test_a_picture_that_fails_the_sheet_checks_is_named(data: bytes, refusal: str) -> None:
    given_, _ = attachments(("chef.png", png((600, 900))), ("pan.png", data))
    with pytest.raises(InvalidSheet) as refused:
        await compose(SheetAsk(given_, sheet_size(), ["a chef", "a pan"]))
    assert str(refused.value).startswith("Picture 2 (pan.png): ")
    assert refusal in str(refused.value)


async def test_an_oversized_picture_is_refused_while_it_is_fetched() -> None:
    small = png((600, 900))
    noise = io.BytesIO()
    Image.effect_noise((400, 400), 80).save(noise, "PNG")
    given_, counted = attachments(("chef.png", small), ("huge.png", noise.getvalue()))
    with pytest.raises(InvalidSheet, match=r"^Picture 2 \(huge.png\): That file is"):
        await compose(SheetAsk(given_, sheet_size()), max_bytes=len(small) + 10)
    assert counted[1].reads == 0  # its declared size is refused before it is downloaded


def test_a_characters_crop_keeps_the_head() -> None:
    # A 600x900 figure whose head starts 40 px down, in a panel much wider than the picture.
    figure = Image.new("RGB", (600, 900), (40, 90, 160))
    figure.paste((230, 180, 150), (200, 40, 400, 200))
    picture = SheetPicture(figure, "chef.png", C, "a chef")
    sheet = compose_sheet([picture], 1100, 1000)
    (panel,) = sheet.panels
    _, top, _, bottom = panel.crop
    assert bottom - top < 900  # it had to lose height...
    assert top < 40  # ...and the head was kept
    assert (900 - bottom) >= 8 * top  # the feet gave most of it


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_LABELS = [
    "a chef in a white jacket",
    "a copper pan",
    "fresh basil",
    "a bright studio kitchen",
]


async def test_the_shipped_example_pictures_compose_into_the_readmes_sheet() -> None:
    """examples/pictures/ (what the README composes) pass the sheet checks: the chef gets the
    biggest panel, the kitchen the wide one, and the sentence names all four in order."""
    names = ["chef", "copper-pan", "basil", "kitchen"]
    given_, _ = attachments(*[(f"{n}.png", (EXAMPLES / "pictures" / f"{n}.png").read_bytes())
                              for n in names])  # fmt: skip
    kinds = ["character", "prop", "prop", "location"]
    sheet = await compose(SheetAsk(given_, sheet_size(), EXAMPLE_LABELS, kinds))
    assert (sheet.width, sheet.height) == (DEFAULT_WIDTH, DEFAULT_HEIGHT)
    areas = {p.name: p.box.width * p.box.height for p in sheet.panels}
    assert max(areas, key=areas.__getitem__) == "chef.png"
    assert sorted(areas.values())[-2] == areas["kitchen.png"]
    assert sheet.prompt_prefix == (
        "Reference sheet: a chef in a white jacket, a copper pan, fresh basil, and a bright "
        "studio kitchen."
    )
