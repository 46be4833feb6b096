"""bot.media.video.probe on real MP4s from the simulated renderer, whole and damaged."""

from __future__ import annotations

from pathlib import Path

import pytest
from falkit import png_bytes

from bot.errors import GenerationFailed
from bot.fal.simulated.render import VideoSpec, render_video
from bot.media.video import probe_blocking


@pytest.fixture(scope="module")
def mp4s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    sound, silent = folder / "sound.mp4", folder / "silent.mp4"
    render_video(png_bytes(), VideoSpec(320, 192, 12, 25, True), sound)
    render_video(png_bytes(), VideoSpec(160, 96, 9, 24, False), silent)
    return {"sound": sound, "silent": silent}


def test_probe_reads_what_was_rendered(mp4s: dict[str, Path]) -> None:
    rendered = probe_blocking(mp4s["sound"])
    assert (rendered.width, rendered.height, rendered.num_frames) == (320, 192, 12)
    assert rendered.frames_per_second == pytest.approx(25)
    assert rendered.duration_seconds == pytest.approx(12 / 25, abs=0.01)
    assert rendered.has_audio and rendered.file_size == mp4s["sound"].stat().st_size
    silent = probe_blocking(mp4s["silent"])
    assert (silent.width, silent.height, silent.num_frames, silent.has_audio) == (
        160, 96, 9, False
    )  # fmt: skip


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_probe_refuses_a_truncated_file(mp4s: dict[str, Path], tmp_path: Path, keep: float) -> None:
    data = mp4s["sound"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(GenerationFailed, match="damaged or incomplete"):
        probe_blocking(cut)


def test_probe_refuses_something_that_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "video.mp4"
    fake.write_bytes(png_bytes())
    with pytest.raises(GenerationFailed, match="damaged or incomplete"):
        probe_blocking(fake)
