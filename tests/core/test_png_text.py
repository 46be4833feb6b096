"""A composed sheet's sentence inside its PNG: written without touching the pixels, read back
without decoding, dropped by the sanitiser (so it never reaches fal)."""

from __future__ import annotations

import io

from PIL import Image

from bot.media.png_text import prompt_prefix_of, with_prompt_prefix
from bot.media.sanitise import sanitise_sheet

PREFIX = "Reference sheet: a chef in a white jacket, a copper pan, and a café kitchen."


def png(size=(320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_the_sentence_rides_in_the_png_and_the_sanitiser_drops_it():
    plain = png()
    marked = with_prompt_prefix(plain, PREFIX)
    assert prompt_prefix_of(marked) == PREFIX
    assert prompt_prefix_of(plain) is None
    assert prompt_prefix_of(b"GIF89a...") is None
    assert prompt_prefix_of(marked[:40]) is None  # cut short: nothing, no error
    with Image.open(io.BytesIO(marked)) as image:
        assert image.size == (320, 200)
        assert image.convert("RGB").tobytes() == Image.open(io.BytesIO(plain)).tobytes()
    assert prompt_prefix_of(sanitise_sheet(marked).data) is None
