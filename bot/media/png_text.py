"""The "Reference sheet: ..." sentence carried inside a composed sheet's PNG.

`ltxbot sheet` writes it as an iTXt chunk right after the header, so saving that file as a
team's sheet later (on any platform) keeps the prompt structure it was composed with. The
sanitiser drops every chunk, so it never reaches fal; reading it back walks the chunks before
the image data without decoding a pixel.
"""

from __future__ import annotations

import struct
import zlib

KEY = b"ltxbot:prompt_prefix"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 4000  # far above a six-label sentence; anything longer is not ours


def with_prompt_prefix(png: bytes, prefix: str) -> bytes:
    """`png` with the sentence in an iTXt chunk after IHDR (the pixels untouched)."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    header_end = len(SIGNATURE) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    body = KEY + b"\0\0\0\0\0" + prefix.encode()  # no compression, no language, no translation
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    return png[:header_end] + chunk + png[header_end:]


def prompt_prefix_of(data: bytes) -> str | None:
    """The sentence `with_prompt_prefix` wrote, or None (another file, or none written)."""
    if not data.startswith(SIGNATURE):
        return None
    at = len(SIGNATURE)
    while at + 8 <= len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + size]
        if kind in (b"IDAT", b"IEND") or len(body) < size:
            return None
        if kind == b"iTXt" and body.startswith(KEY + b"\0\0\0\0\0") and size <= MAX_TEXT:
            try:
                return body[len(KEY) + 5 :].decode()
            except UnicodeDecodeError:
                return None
        at += 12 + size
    return None
