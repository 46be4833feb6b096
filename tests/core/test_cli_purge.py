"""`ltxbot admin purge` as a user runs it: the real `ltxbot` script, a video made through the
simulated fal, then its files removed at once while its record stays for `show`."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_admin import ltxbot, sheet

TINY = ("--prompt", "a fox", "--resolution", "64x64", "--num-frames", "9")  # 1 MP


async def test_purge_removes_the_files_and_says_what_it_freed(env, tmp_path: Path):
    code, out, err = await ltxbot(
        env, tmp_path, "generate", "--sheet", str(sheet(tmp_path)), *TINY, "--out", "v.mp4"
    )
    assert code == 0, err
    data = Path(env["LTXBOT_DATA_DIR"])
    assert list((data / "videos").glob("*.mp4")) and (tmp_path / "v.mp4").exists()
    code, out, err = await ltxbot(env, tmp_path, "admin", "purge", "--older-than", "0", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["jobs"] == 1 and body["files"] >= 2 and body["bytes"] > 0, body
    assert not list((data / "videos").glob("*.mp4")) and (tmp_path / "v.mp4").exists()
    code, out, err = await ltxbot(env, tmp_path, "history")
    job_id = next(word.strip("`") for word in out.split() if len(word.strip("`")) == 10)
    code, out, err = await ltxbot(env, tmp_path, "show", job_id)
    assert code == 0 and "removed" in out and "retention" in out, out + err
    code, out, err = await ltxbot(env, tmp_path, "admin", "purge")
    assert code == 0 and out.startswith("Nothing to remove"), out + err
