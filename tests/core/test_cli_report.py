"""What `ltxbot generate` says and returns when its job ended elsewhere (the waiting itself is
in tests/runner/test_cli_endings.py and test_cli_store_watch.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.console.cli_generate import report
from adapters.console.job_watch import Ending
from bot.jobs.record import JobState, Result
from bot.model import Platform
from tests.storage.storage_testkit import T0, make_job

JOB = make_job("j1", platform=Platform.CONSOLE, scope="local")


def test_a_video_another_process_delivered_is_still_saved(tmp_path: Path, capsys) -> None:
    video = tmp_path / "data" / "j1.mp4"
    video.parent.mkdir()
    video.write_bytes(b"the video")
    result = Result(video_url="https://fal.media/j1.mp4", video_path=str(video))
    job = JOB.model_copy(update={"state": JobState.DELIVERED, "result": result})
    code = asyncio.run(report(Ending("j1", job), tmp_path / "a.mp4"))
    assert code == 0
    assert (tmp_path / "a.mp4").read_bytes() == b"the video"
    said = capsys.readouterr().out.strip()
    assert said == f"job j1 was delivered by another process; saved {tmp_path / 'a.mp4'}"


def test_a_job_failed_elsewhere_is_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    job = JOB.model_copy(
        update={"state": JobState.FAILED, "failure": "fal lost the runner", "finished_at": T0}
    )
    assert asyncio.run(report(Ending("j1", job), tmp_path / "a.mp4")) == 1
    assert capsys.readouterr().err == "ltxbot: job j1 failed: fal lost the runner\n"
    assert not (tmp_path / "a.mp4").exists()


def test_a_job_nobody_here_follows_any_more_points_to_resume(tmp_path: Path, capsys) -> None:
    job = JOB.model_copy(update={"state": JobState.SUCCEEDED})
    assert asyncio.run(report(Ending("j1", job), tmp_path / "a.mp4")) == 1
    assert "job j1 is still succeeded" in capsys.readouterr().err
