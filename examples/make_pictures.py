"""Draw the separate pictures in `pictures/` that `ltxbot sheet` composes into one sheet.

Run `python examples/make_pictures.py` to regenerate them. They are the subjects of
`chef-sheet.png` (drawn by the same functions of `make_sheet.py`), each alone on a plain
backdrop with no label: what a team has before it has a reference sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from make_sheet import basil, chef, copper_pan, kitchen, s
from PIL import Image, ImageDraw

FOLDER = Path(__file__).with_name("pictures")
Drawing = Callable[[ImageDraw.ImageDraw], None]

# name: (width, height, backdrop, what is drawn), in design pixels.
PICTURES: dict[str, tuple[int, int, tuple[int, int, int], Drawing]] = {
    "chef": (480, 800, (222, 232, 242), lambda d: chef(d, 240, 110)),
    "copper-pan": (560, 400, (240, 234, 226), lambda d: copper_pan(d, 250, 210)),
    "basil": (420, 480, (238, 244, 232), lambda d: basil(d, 210, 250)),
    "kitchen": (960, 640, (250, 248, 240), lambda d: kitchen(d, 0, 0, 960, 640)),
}


def draw(width: int, height: int, backdrop: tuple[int, int, int], what: Drawing) -> Image.Image:
    image = Image.new("RGB", s(width, height), backdrop)
    what(ImageDraw.Draw(image))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, (width, height, backdrop, what) in PICTURES.items():
        path = FOLDER / f"{name}.png"
        draw(width, height, backdrop, what).save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size // 1024} KB, {width}x{height})")


if __name__ == "__main__":
    main()
