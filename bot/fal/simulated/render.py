"""Render the simulated video: a slow pan and zoom across the reference sheet, as a real MP4.

H.264 (libx264, yuv420p, preset ultrafast) with an AAC tone when audio is asked for. Blocking:
callers run `render_video` in a thread (asyncio.to_thread).
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

AUDIO_RATE = 48_000
AUDIO_FRAME_SAMPLES = 1024  # the AAC encoder's frame size
LABEL = "SIMULATED"


@dataclass(frozen=True)
class VideoSpec:
    """What to render; width and height are rounded down to even numbers for yuv420p."""

    width: int
    height: int
    num_frames: int
    frames_per_second: float
    generate_audio: bool
    seed: int = 0

    @property
    def even_size(self) -> tuple[int, int]:
        return max(2, self.width - self.width % 2), max(2, self.height - self.height % 2)

    @property
    def rate(self) -> Fraction:
        return Fraction(self.frames_per_second).limit_denominator(1001)


def render_video(sheet: bytes, spec: VideoSpec, out_path: Path) -> int:
    """Write the MP4 to `out_path` and return its size in bytes."""
    width, height = spec.even_size
    source = _prepared_source(sheet, width, height)
    with av.open(str(out_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=spec.rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "28"}
        audio = None
        if spec.generate_audio:
            audio = out.add_stream("aac", rate=AUDIO_RATE)
            audio.layout = "mono"
        for index in range(spec.num_frames):
            frame = _frame(source, width, height, index, spec.num_frames)
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            _write_tone(out, audio, spec.num_frames / spec.frames_per_second, spec.seed)
    return out_path.stat().st_size


def _prepared_source(sheet: bytes, width: int, height: int) -> np.ndarray:
    """The sheet as RGB pixels, upscaled once if needed so every crop window covers the
    output size, with the "SIMULATED" label burnt into a copy per frame later."""
    image = Image.open(io.BytesIO(sheet)).convert("RGB")
    src_w, src_h = image.size
    fit_w = min(src_w, src_h * width / height)  # widest output-shaped window the sheet holds
    scale = width * 1.15 / fit_w
    if scale > 1:
        image = image.resize((math.ceil(src_w * scale), math.ceil(src_h * scale)))
    return np.asarray(image)


def _frame(source: np.ndarray, width: int, height: int, index: int, count: int) -> av.VideoFrame:
    """The crop window zooms in by 15% and pans left to right over the clip; swscale does the
    scaling and the colour conversion in one pass (Pillow per frame was 3x slower)."""
    progress = index / max(1, count - 1)
    eased = 0.5 - 0.5 * math.cos(math.pi * progress)
    aspect = width / height
    src_h, src_w = source.shape[:2]
    base_w = min(src_w, src_h * aspect)
    zoom = 1.0 + 0.15 * eased
    crop_w = max(2, int(base_w / zoom))
    crop_h = max(2, min(src_h, int(crop_w / aspect)))
    left = int((src_w - crop_w) * eased)
    top = int((src_h - crop_h) * (0.5 - 0.2 * math.sin(math.pi * progress)))
    crop = np.array(source[top : top + crop_h, left : left + crop_w])
    _burn_label(crop, scale=crop_w / width)
    rgb = av.VideoFrame.from_ndarray(crop, format="rgb24")
    return rgb.reformat(width=width, height=height, format="yuv420p", interpolation="BILINEAR")


def _burn_label(pixels: np.ndarray, scale: float) -> None:
    """Blend a white "SIMULATED" on a dark box into the top-left corner, in place."""
    label = _label_pixels(max(8, int(pixels.shape[0] / scale / 12 * scale)))
    box_h, box_w = min(label.shape[0], pixels.shape[0]), min(label.shape[1], pixels.shape[1])
    y, x = pixels.shape[0] // 30, pixels.shape[1] // 40
    box_h, box_w = min(box_h, pixels.shape[0] - y), min(box_w, pixels.shape[1] - x)
    region = pixels[y : y + box_h, x : x + box_w].astype(np.uint16)
    blended = (region * 56 + label[:box_h, :box_w].astype(np.uint16) * 200) // 256
    pixels[y : y + box_h, x : x + box_w] = blended.astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _label_pixels(size: int) -> np.ndarray:
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizing
        font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    # Whole pixels (typeshed types the box as floats).
    left, top, right, bottom = map(int, probe.textbbox((0, 0), LABEL, font=font))
    pad = max(2, size // 4)
    label = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), (20, 20, 20))
    ImageDraw.Draw(label).text((pad - left, pad - top), LABEL, font=font, fill=(255, 255, 255))
    return np.asarray(label)


def _write_tone(
    out: av.container.OutputContainer, stream: av.AudioStream, seconds: float, seed: int
) -> None:
    """A soft sine (A3 to E4, picked by the seed) that fades in and out."""
    total = max(AUDIO_FRAME_SAMPLES, round(seconds * AUDIO_RATE))
    pitch = (220.0, 261.63, 293.66, 329.63)[seed % 4]
    t = np.arange(total, dtype=np.float32) / AUDIO_RATE
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.05)
    samples = (0.15 * np.sin(2 * np.pi * pitch * t) * fade).astype(np.float32)
    for start in range(0, total, AUDIO_FRAME_SAMPLES):
        chunk = samples[start : start + AUDIO_FRAME_SAMPLES]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
