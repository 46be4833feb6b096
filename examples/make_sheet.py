"""Draw `chef-sheet.png`, the example reference sheet, with nothing but Pillow.

Run `python examples/make_sheet.py` to regenerate it. The output is deterministic: the same
Pillow version draws the same pixels. Clean, labelled panels for the character, the props and
the location, in the spirit of the model's own example prompt ("a chef in a white jacket, a
copper pan, fresh basil, and a bright studio kitchen").
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1536, 896  # the model's default output size, so `auto` matches it exactly
SCALE = 2  # draw at twice the size and shrink: cheap anti-aliasing
OUTPUT = Path(__file__).with_name("chef-sheet.png")

PAPER = (246, 244, 239)
INK = (52, 52, 58)
PANEL = (255, 255, 255)
RULE = (200, 198, 192)
WHITE = (252, 252, 250)
SHADE = (214, 218, 224)
SKIN = (226, 180, 146)
COPPER = (184, 104, 52)
COPPER_LIGHT = (226, 150, 96)
COPPER_DARK = (124, 64, 30)
BASIL = (58, 138, 52)
BASIL_LIGHT = (104, 178, 80)


def s(*values: float) -> tuple[int, ...]:
    """Design coordinates (1536x896) to drawing coordinates."""
    return tuple(round(v * SCALE) for v in values)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size * SCALE)


def panel(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], label: str, tint: tuple
) -> None:
    """A rounded card with a tinted backdrop and its label on a strip at the bottom."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(
        s(x0, y0, x1, y1), radius=18 * SCALE, fill=PANEL, outline=RULE, width=2 * SCALE
    )
    draw.rounded_rectangle(s(x0 + 12, y0 + 12, x1 - 12, y1 - 62), radius=12 * SCALE, fill=tint)
    draw.text(s((x0 + x1) / 2, y1 - 32), label, fill=INK, font=font(24), anchor="mm")


def chef(draw: ImageDraw.ImageDraw, cx: float, top: float) -> None:
    """A front-facing chef: toque, white double-breasted jacket, red neckerchief, dark trousers."""
    outline = {"outline": (150, 156, 166), "width": 3 * SCALE}
    # Trousers and shoes.
    draw.rectangle(s(cx - 70, top + 430, cx - 8, top + 610), fill=(58, 60, 70))
    draw.rectangle(s(cx + 8, top + 430, cx + 70, top + 610), fill=(58, 60, 70))
    draw.rounded_rectangle(
        s(cx - 84, top + 600, cx - 4, top + 632), radius=12 * SCALE, fill=(30, 30, 34)
    )
    draw.rounded_rectangle(
        s(cx + 4, top + 600, cx + 84, top + 632), radius=12 * SCALE, fill=(30, 30, 34)
    )
    # Arms (behind the jacket body), hands.
    draw.rounded_rectangle(
        s(cx - 150, top + 215, cx - 92, top + 440), radius=26 * SCALE, fill=WHITE, **outline
    )
    draw.rounded_rectangle(
        s(cx + 92, top + 215, cx + 150, top + 440), radius=26 * SCALE, fill=WHITE, **outline
    )
    draw.ellipse(s(cx - 146, top + 425, cx - 96, top + 475), fill=SKIN)
    draw.ellipse(s(cx + 96, top + 425, cx + 146, top + 475), fill=SKIN)
    # Jacket body with a shaded fold and two rows of buttons.
    draw.rounded_rectangle(
        s(cx - 110, top + 200, cx + 110, top + 470), radius=34 * SCALE, fill=WHITE, **outline
    )
    draw.polygon(
        s(cx + 30, top + 215, cx + 104, top + 260, cx + 104, top + 455, cx + 30, top + 455),
        fill=SHADE,
    )
    for row in range(4):
        y = top + 260 + row * 48
        for dx in (-34, 34):
            draw.ellipse(s(cx + dx - 8, y - 8, cx + dx + 8, y + 8), fill=(70, 72, 80))
    # Neck, neckerchief and collar.
    draw.rectangle(s(cx - 24, top + 160, cx + 24, top + 205), fill=SKIN)
    draw.polygon(s(cx - 46, top + 196, cx + 46, top + 196, cx, top + 250), fill=(206, 48, 44))
    draw.polygon(
        s(cx - 60, top + 192, cx - 6, top + 200, cx - 40, top + 228), fill=WHITE, **outline
    )
    draw.polygon(
        s(cx + 60, top + 192, cx + 6, top + 200, cx + 40, top + 228), fill=WHITE, **outline
    )
    # Head: face, ears, eyes, smile, moustache.
    draw.ellipse(s(cx - 74, top + 96, cx - 50, top + 134), fill=SKIN)
    draw.ellipse(s(cx + 50, top + 96, cx + 74, top + 134), fill=SKIN)
    draw.ellipse(s(cx - 60, top + 60, cx + 60, top + 186), fill=SKIN)
    for dx in (-22, 22):
        draw.ellipse(s(cx + dx - 6, top + 106, cx + dx + 6, top + 118), fill=(40, 36, 36))
    draw.arc(
        s(cx - 26, top + 128, cx + 26, top + 166),
        start=20,
        end=160,
        fill=(120, 60, 50),
        width=4 * SCALE,
    )
    draw.chord(s(cx - 30, top + 126, cx + 30, top + 150), start=180, end=360, fill=(92, 62, 44))
    # Toque: a band and a puffy top of overlapping rounds.
    for dx, dy, r in ((-46, 0, 42), (46, 0, 42), (0, -22, 52), (-22, -36, 40), (24, -36, 40)):
        draw.ellipse(
            s(cx + dx - r, top + 10 + dy - r, cx + dx + r, top + 10 + dy + r), fill=WHITE, **outline
        )
    draw.rounded_rectangle(
        s(cx - 66, top + 20, cx + 66, top + 78), radius=8 * SCALE, fill=WHITE, **outline
    )
    draw.line(s(cx - 62, top + 52, cx + 62, top + 52), fill=SHADE, width=3 * SCALE)


def copper_pan(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    """A copper sauté pan seen from above at an angle, with a long cast handle."""
    draw.polygon(
        s(cx + 96, cy - 10, cx + 200, cy - 44, cx + 210, cy - 22, cx + 104, cy + 14),
        fill=(96, 98, 106),
    )
    draw.ellipse(s(cx + 188, cy - 46, cx + 218, cy - 20), fill=(96, 98, 106))
    draw.ellipse(s(cx - 140, cy - 72, cx + 140, cy + 92), fill=COPPER_DARK)
    draw.ellipse(s(cx - 140, cy - 92, cx + 140, cy + 72), fill=COPPER)
    draw.ellipse(s(cx - 118, cy - 76, cx + 118, cy + 56), fill=(190, 192, 198))  # tin lining
    draw.ellipse(s(cx - 100, cy - 62, cx + 100, cy + 48), fill=(172, 174, 182))
    draw.arc(
        s(cx - 132, cy - 86, cx + 132, cy + 66),
        start=200,
        end=290,
        fill=COPPER_LIGHT,
        width=7 * SCALE,
    )
    draw.arc(
        s(cx - 60, cy - 40, cx + 20, cy + 10),
        start=200,
        end=260,
        fill=(226, 228, 232),
        width=5 * SCALE,
    )


def basil_leaf(draw: ImageDraw.ImageDraw, x: float, y: float, angle: float, length: float) -> None:
    """A pointed oval leaf from (x, y) along `angle` degrees, with a paler midrib."""
    a = math.radians(angle)
    ux, uy = math.cos(a), math.sin(a)
    px, py = -uy, ux
    half_width = length * 0.36
    ts = [i / 24 for i in range(25)]

    def edge(side: int) -> list[tuple[int, ...]]:
        """One side of the leaf (+1 or -1), from stalk to tip."""
        points = []
        for t in ts:
            w = side * half_width * math.sin(math.pi * t) ** 0.8
            points.append(s(x + ux * length * t + px * w, y + uy * length * t + py * w))
        return points

    # The whole leaf in the darker green, then one half lighter, as if lit from one side.
    draw.polygon(edge(1) + edge(-1)[::-1], fill=BASIL)
    draw.polygon(edge(1), fill=BASIL_LIGHT)
    draw.line(
        s(x, y, x + ux * length * 0.92, y + uy * length * 0.92),
        fill=(172, 214, 150),
        width=3 * SCALE,
    )


def basil(draw: ImageDraw.ImageDraw, cx: float, cy: float) -> None:
    """A sprig of fresh basil: a stem with pairs of leaves and a small crown on top."""
    draw.line(s(cx, cy + 150, cx, cy - 110), fill=(74, 120, 52), width=8 * SCALE)
    for y, length, spread in ((cy + 80, 118, 28), (cy + 5, 104, 34), (cy - 62, 86, 40)):
        basil_leaf(draw, cx, y, 180 + spread, length)
        basil_leaf(draw, cx, y, -spread, length)
    for angle in (-120, -90, -60):
        basil_leaf(draw, cx, cy - 104, angle, 58)


def kitchen(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float) -> None:
    """A bright studio kitchen: tiled wall, window, pendant lights, hob and hood, island."""
    draw.rectangle(s(x0, y0, x1, y1), fill=(250, 248, 240))
    for ty in range(int(y0) + 250, int(y1) - 230, 26):  # subway tiles behind the counter
        draw.line(s(x0, ty, x1, ty), fill=(226, 226, 220), width=SCALE)
        shift = 0 if (ty // 26) % 2 else 26
        for tx in range(int(x0) + shift, int(x1), 52):
            draw.line(s(tx, ty, tx, ty + 26), fill=(226, 226, 220), width=SCALE)
    # Window with daylight.
    draw.rectangle(s(x0 + 40, y0 + 50, x0 + 230, y0 + 230), fill=(236, 236, 232))
    draw.rectangle(s(x0 + 52, y0 + 62, x0 + 218, y0 + 218), fill=(176, 216, 240))
    draw.line(s(x0 + 135, y0 + 62, x0 + 135, y0 + 218), fill=(236, 236, 232), width=6 * SCALE)
    draw.line(s(x0 + 52, y0 + 140, x0 + 218, y0 + 140), fill=(236, 236, 232), width=6 * SCALE)
    # Range hood over the hob.
    hx = x1 - 170
    draw.polygon(
        s(hx - 40, y0, hx + 40, y0, hx + 40, y0 + 170, hx - 40, y0 + 170), fill=(200, 204, 210)
    )
    draw.polygon(
        s(hx - 120, y0 + 170, hx + 120, y0 + 170, hx + 96, y0 + 240, hx - 96, y0 + 240),
        fill=(184, 188, 196),
    )
    # Pendant lights, glowing.
    for lx in (x0 + 300, x0 + 400):
        draw.line(s(lx, y0, lx, y0 + 120), fill=(80, 80, 86), width=2 * SCALE)
        draw.pieslice(
            s(lx - 34, y0 + 104, lx + 34, y0 + 172), start=180, end=360, fill=(60, 66, 74)
        )
        draw.ellipse(s(lx - 14, y0 + 130, lx + 14, y0 + 152), fill=(255, 236, 170))
    # Back counter with hob, cabinets below.
    counter = y1 - 230
    draw.rectangle(s(x0, counter, x1, counter + 18), fill=(236, 232, 226))
    draw.rectangle(s(x0, counter + 18, x1, y1), fill=(206, 224, 220))
    for cx in range(int(x0) + 20, int(x1) - 60, 120):
        draw.rectangle(
            s(cx, counter + 34, cx + 104, y1 - 16), outline=(176, 198, 194), width=2 * SCALE
        )
        draw.line(
            s(cx + 40, counter + 60, cx + 64, counter + 60), fill=(120, 124, 130), width=4 * SCALE
        )
    draw.rectangle(s(hx - 96, counter - 8, hx + 96, counter), fill=(40, 40, 44))
    # Island in front, a pale wood top.
    draw.rectangle(s(x0 + 60, y1 - 130, x1 - 60, y1 - 108), fill=(214, 176, 130))
    draw.rectangle(s(x0 + 80, y1 - 108, x1 - 80, y1), fill=(244, 244, 242))


def draw_sheet() -> Image.Image:
    image = Image.new("RGB", s(WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text(s(36, 44), "REFERENCE SHEET", fill=INK, font=font(34), anchor="lm")
    draw.text(
        s(WIDTH - 36, 44),
        "chef · copper pan · fresh basil · studio kitchen",
        fill=(120, 120, 126),
        font=font(22),
        anchor="rm",
    )
    top, bottom = 84, HEIGHT - 24
    panel(draw, (24, top, 444, bottom), "CHEF: white jacket and toque", (222, 232, 242))
    panel(draw, (464, top, 864, (top + bottom) / 2 - 10), "COPPER PAN", (240, 234, 226))
    panel(draw, (464, (top + bottom) / 2 + 10, 864, bottom), "FRESH BASIL", (238, 244, 232))
    panel(draw, (884, top, WIDTH - 24, bottom), "BRIGHT STUDIO KITCHEN", PANEL)
    chef(draw, 234, top + 86)
    copper_pan(draw, 626, (top + (top + bottom) / 2) / 2 - 24)
    basil(draw, 664, ((top + bottom) / 2 + bottom) / 2 - 30)
    kitchen(draw, 896, top + 12, WIDTH - 36, bottom - 62)
    return image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def main() -> None:
    # Plain RGB: flat art compresses to about a hundred KB, no palette banding on soft edges.
    draw_sheet().save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} KB, {WIDTH}x{HEIGHT})")


if __name__ == "__main__":
    main()
