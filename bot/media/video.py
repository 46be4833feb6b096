"""Probe a downloaded MP4: what was actually rendered (size, frames, rate, audio).

PyAV work is blocking, so `probe` runs it in a thread. A file that cannot be opened, has no
video stream, or holds fewer packets than its index promises (a truncated download) raises
`GenerationFailed` with a sentence safe to show.
"""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

import av

from bot.errors import GenerationFailed
from bot.jobs.record import Rendered

DAMAGED = "the video file is damaged or incomplete"
# What ffmpeg may read and decode at open to guess the streams' parameters: next to nothing.
# An MP4's index (moov) already says the size, frame count and rates; by default ffmpeg
# decoded up to 5 s of frames on top (10 of a probe's 15 ms of CPU per job). The packet count
# below still reads every packet, so a cut-short download is still refused.
_OPEN_OPTIONS = {"probesize": "32", "analyzeduration": "0"}


async def probe(path: Path) -> Rendered:
    """Width, height, frame count, fps, duration, audio and size of the MP4 at `path`."""
    return await asyncio.to_thread(probe_blocking, path)


def probe_blocking(path: Path) -> Rendered:
    """`probe` without the thread, for callers already off the event loop."""
    try:
        file_size = path.stat().st_size
        with av.open(str(path), mode="r", options=_OPEN_OPTIONS) as container:
            return _inspect(container, file_size)
    except (av.FFmpegError, OSError, ValueError, StopIteration) as error:
        raise GenerationFailed(
            f"{DAMAGED} ({path.name})", retryable=True, detail=str(error)
        ) from error


def _inspect(container: av.container.InputContainer, file_size: int) -> Rendered:
    # ffmpeg opens almost anything (a PNG is a one-frame "video"): insist on an MP4.
    if "mp4" not in container.format.name.split(","):
        raise ValueError(f"not an MP4 but {container.format.name}")
    if not container.streams.video:
        raise ValueError("no video stream")
    video = container.streams.video[0]
    # The size comes from the MP4's sample description; decoding frames as well (ffmpeg's
    # default stream analysis, or one of our own) cost most of the probe and proved no more
    # than the size check below and the packet count (a cut-short download) do.
    if not (video.codec_context.width and video.codec_context.height):
        raise ValueError("the video stream has no readable size")
    promised = video.frames  # from the MP4 index (stsz); 0 when the container does not say
    packets = 0
    last_end = Fraction(0)
    for packet in container.demux(video):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        packets += 1
        if packet.pts is not None and packet.duration is not None and packet.time_base:
            last_end = max(last_end, (packet.pts + packet.duration) * packet.time_base)
    if packets == 0 or (promised and packets < promised):
        raise ValueError(f"{packets} of {promised or '?'} video packets present")
    rate = video.average_rate or video.guessed_rate or video.base_rate
    fps = float(rate) if rate else 0.0
    duration = float(last_end) if last_end else (packets / fps if fps else 0.0)
    return Rendered(
        width=video.codec_context.width,
        height=video.codec_context.height,
        num_frames=packets,
        frames_per_second=round(fps, 3),
        duration_seconds=round(duration, 3),
        has_audio=bool(container.streams.audio),
        file_size=file_size,
    )
