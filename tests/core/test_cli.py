"""The ltxbot command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.ltxbot_fast import ltxbot_command


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
    clean.update({"LTXBOT_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run(
        [*ltxbot_command(), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_estimate_json_prints_the_exact_price(tmp_path):
    done = run(tmp_path, "estimate", "--num-frames", "121", "--resolution", "1280x720", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "width": 1280, "height": 720, "num_frames": 121, "megapixels": 112,
        "cost_usd": "0.26964", "budget_left_usd": "10", "warnings": [],
    }  # fmt: skip


def test_estimate_without_json_is_one_human_summary(tmp_path):
    done = run(tmp_path, "estimate", "--duration", "5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "This video would cost $0.40."


def test_a_bad_option_is_one_clear_line(tmp_path):
    done = run(tmp_path, "estimate", "--num-frames", "999")
    assert done.returncode == 1 and done.stdout == ""
    said = "num_frames = 999 is out of range: allowed 9 to 481"
    assert done.stderr.strip() == f"ltxbot: {said}"
    done = run(tmp_path, "estimate", "--num-frames", "999", "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert json.loads(done.stderr) == {"error": said}


def test_a_bad_setting_names_the_setting_and_never_a_secret(tmp_path):
    done = run(tmp_path, "budget", LTXBOT_PRICE_PER_MEGAPIXEL="cheap", FAL_KEY="sekrit-key-123")
    assert done.returncode == 1
    assert "LTXBOT_PRICE_PER_MEGAPIXEL" in done.stderr
    assert "Traceback" not in done.stderr and "sekrit-key-123" not in done.stderr


def test_run_without_any_platform_says_which_tokens_to_set(tmp_path):
    done = run(tmp_path, "run", LTXBOT_BACKEND="simulated")
    assert done.returncode == 1
    assert "LTXBOT_DISCORD_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_a_data_dir_that_cannot_be_written_is_one_line(tmp_path):
    # A read-only /data volume in a container; a regular file in its place fails for root too.
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    for command in (["history"], ["run"]):
        done = run(tmp_path, *command, LTXBOT_DISCORD_TOKEN="x", LTXBOT_BACKEND="simulated")
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(f"ltxbot: setting LTXBOT_DATA_DIR: cannot write to {blocker}")
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_an_out_path_that_cannot_be_written_is_refused_before_anything_is_held(tmp_path):
    (tmp_path / "ro").write_text("a file, not a folder")
    sheet = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"
    done = run(
        tmp_path, "generate", "--sheet", str(sheet), "--prompt", "a chef",
        "--out", "ro/chef.mp4", LTXBOT_BACKEND="simulated",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"ltxbot: --out ro/chef.mp4: cannot write into {tmp_path / 'ro'}; nothing was held"
    )
    history = run(tmp_path, "history")
    assert history.returncode == 0 and "chef" not in history.stdout, history.stdout
