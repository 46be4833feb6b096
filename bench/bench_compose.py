"""Time composing a reference sheet from 6 pictures at 1280x720 (`commands.sheet.compose`).

Run: `.venv/bin/python bench/bench_compose.py [runs]`. Prints numbers only; not a test. The
pictures are phone-sized photos (two 3000x4000 portrait characters, a 4000x3000 location,
three 2000x2000 props, JPEG); `checks+decode` is each picture's intake and clean decode,
`layout+draw` the composing of the cleaned pictures alone, `total` both as the command runs
them (in one worker thread).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_sheets import photo_like_jpeg
from bot.media.compose import SheetPicture, compose_sheet
from bot.media.sanitise import clean_image
from bot.media.sheet_layout import Kind
from bot.model import Attachment
from commands.sheet import SheetAsk, compose, sheet_size

PICTURES = [
    ("character", (3000, 4000)),
    ("character", (3000, 4000)),
    ("location", (4000, 3000)),
    ("prop", (2000, 2000)),
    ("prop", (2000, 2000)),
    ("prop", (2000, 2000)),
]


def attachment(name: str, data: bytes) -> Attachment:
    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    return Attachment(name, "image/jpeg", len(data), read)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    photos = [photo_like_jpeg(*size) for _, size in PICTURES]
    kinds = [kind for kind, _ in PICTURES]
    size = sheet_size("1280x720")
    ask = SheetAsk(
        [attachment(f"p{n}.jpg", data) for n, data in enumerate(photos, 1)],
        size,
        [f"thing {n}" for n in range(1, 7)],
        kinds,
    )
    cleaned = [clean_image(data)[0] for data in photos]
    pictures = [
        SheetPicture(image, f"p{n}.jpg", Kind(kind))
        for n, (image, kind) in enumerate(zip(cleaned, kinds, strict=True), 1)
    ]

    def decode() -> None:
        for data in photos:
            clean_image(data)

    def draw() -> None:
        compose_sheet(pictures, size.width, size.height)

    def total() -> None:
        sheet = asyncio.run(compose(ask))
        assert Image.open(io.BytesIO(sheet.png)).size == (1280, 720)

    print(f"pictures 6 input_jpeg_bytes {sum(map(len, photos))} sheet 1280x720")
    for name, work in (("checks+decode", decode), ("layout+draw", draw), ("total", total)):
        work()  # warm up: plugin imports, fonts, allocator
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        print(
            f"{name} runs {runs} median_s {statistics.median(times):.3f} "
            f"min_s {min(times):.3f} max_s {max(times):.3f}"
        )


if __name__ == "__main__":
    main()
