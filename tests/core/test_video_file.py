"""The terminal saves a video where it was asked, and never over a different file (run
synchronously: the files are set up and read around one save)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from adapters.console import video_file
from adapters.console.video_file import save_video
from bot.errors import UserError


def mp4(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_a_free_path_gets_the_video(tmp_path: Path) -> None:
    source = mp4(tmp_path / "job.mp4", b"video one")
    saved = asyncio.run(save_video(source, tmp_path / "out" / "a.mp4", "j1"))
    assert saved.path == tmp_path / "out" / "a.mp4" and saved.instead_of is None
    assert saved.path.read_bytes() == b"video one"
    assert saved.sentence() == f"saved {tmp_path / 'out' / 'a.mp4'}"


def test_the_same_video_already_there_is_not_copied_again(tmp_path: Path) -> None:
    source = mp4(tmp_path / "job.mp4", b"video one")
    target = mp4(tmp_path / "a.mp4", b"video one")
    saved = asyncio.run(save_video(source, target, "j1"))
    assert saved.path == target and saved.instead_of is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "job.mp4"]


def test_a_different_file_is_kept_and_the_video_goes_beside_it(tmp_path: Path) -> None:
    source = mp4(tmp_path / "job.mp4", b"video one")
    target = mp4(tmp_path / "a.mp4", b"someone else's")
    mp4(tmp_path / "a-j1.mp4", b"yet another")
    saved = asyncio.run(save_video(source, target, "j1"))
    assert saved.path == tmp_path / "a-j1-2.mp4" and saved.instead_of == target
    assert target.read_bytes() == b"someone else's"
    assert (tmp_path / "a-j1.mp4").read_bytes() == b"yet another"
    assert saved.path.read_bytes() == b"video one"
    assert saved.sentence() == f"{target} is a different file, kept; saved {saved.path} beside it"


def test_a_save_that_fails_says_where_the_video_is(tmp_path: Path) -> None:
    # A regular file where the folder should be: mkdir fails even for root.
    source = mp4(tmp_path / "job.mp4", b"video one")
    blocker = mp4(tmp_path / "out", b"not a folder")
    with pytest.raises(UserError) as caught:
        asyncio.run(save_video(source, blocker / "a.mp4", "j1"))
    assert str(caught.value).startswith(f"could not save {blocker / 'a.mp4'} (")
    assert str(caught.value).endswith(f"; the video is at {source}")


def test_a_save_killed_mid_copy_leaves_nothing_at_the_path_and_the_next_save_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = mp4(tmp_path / "job.mp4", b"video one")
    target = tmp_path / "out" / "a.mp4"
    real_copy = video_file.shutil.copyfile

    def dies_mid_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"video")  # half written, then the process is gone
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(video_file.shutil, "copyfile", dies_mid_copy)
        with pytest.raises(KeyboardInterrupt):
            asyncio.run(save_video(source, target, "j1"))
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert video_file.shutil.copyfile is real_copy
    mp4(target.parent / ".a.mp4.j1.part", b"vid")  # what a SIGKILL (no cleanup) leaves
    saved = asyncio.run(save_video(source, target, "j1"))  # `resume` saves it again
    assert saved.path == target and saved.instead_of is None
    assert target.read_bytes() == b"video one" and sorted(os.listdir(target.parent)) == ["a.mp4"]
