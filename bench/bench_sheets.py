"""Time `sanitise_sheet` on a phone-sized photo: a 4000x3000 JPEG (12 megapixels).

Run: `.venv/bin/python bench/bench_sheets.py [runs]`. Prints numbers only; not a test. The
naive line decodes at full size (no JPEG draft) and does the same clean-up, for comparison.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.media.sanitise import sanitise_sheet


def photo_like_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """Smooth colour gradients under fine grain: compresses and decodes like a real photo."""
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    grain = Image.effect_noise((width // 4, height // 4), 40).resize((width, height))
    blue = grain.filter(ImageFilter.GaussianBlur(1))
    out = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(out, "JPEG", quality=90)
    return out.getvalue()


def naive(data: bytes) -> bytes:
    """Full-size decode, rotate, flatten, resize, PNG: what one writes without thinking."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    image.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def timed(work: Callable[[bytes], object], data: bytes, runs: int) -> list[float]:
    work(data)  # warm up: plugin imports, allocator
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work(data)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    data = photo_like_jpeg()
    sheet = sanitise_sheet(data)
    print(f"input_jpeg_bytes {len(data)}")
    print(f"output_png_bytes {len(sheet.data)} size {sheet.width}x{sheet.height}")
    for name, work in (("sanitise_sheet", sanitise_sheet), ("naive", naive)):
        times = timed(work, data, runs)
        print(
            f"{name} runs {runs} median_s {statistics.median(times):.3f} "
            f"min_s {min(times):.3f} max_s {max(times):.3f}"
        )


if __name__ == "__main__":
    main()
