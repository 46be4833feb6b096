"""`ltxbot generate --draft`, `ltxbot final JOB` and `ltxbot estimate --draft` as a user runs
them, against a local simulated fal: the draft's size and price, the final's seed and size,
an over-budget final refused with nothing held, `--raw-prompt` and the hint line."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from test_cli import run
from test_cli_videos import jobs_and_holds, ltxbot, sheet

FRAMES = ("--num-frames", "9")  # 9 x 768x448 = 4 MP ($0.00963); 9 x 1536x896 = 13 MP


def test_estimate_prices_a_draft_at_768x448(tmp_path: Path) -> None:
    done = run(tmp_path, "estimate", "--draft", "--num-frames", "121", "--json")
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["width"], said["height"], said["num_frames"]) == (768, 448, 121)
    assert (said["megapixels"], said["cost_usd"]) == (42, "0.101115")


def test_a_draft_with_a_size_is_refused_in_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, "estimate", "--draft", "--resolution", "1280x720")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("ltxbot: resolution = 1280x720 does not go with a draft")


async def test_a_draft_then_its_final_with_the_same_seed(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "--json", "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox in the snow", "--draft", *FRAMES,
                                  "--out", "draft.mp4")  # fmt: skip
    assert code == 0, err
    draft = json.loads(out)
    assert draft["draft"] is True and draft["request"]["resolution"] == {
        "width": 768,
        "height": 448,
    }
    assert (draft["quoted_usd"], draft["final_usd"]) == ("0.00963", "0.0312975")
    assert draft["rendered"]["width"] == 768 and draft["seed"] is not None
    code, out, err = await ltxbot(env, tmp_path, "--json", "estimate", "--final", draft["job_id"])
    assert code == 0, err
    assert json.loads(out)["cost_usd"] == draft["final_usd"] == "0.0312975"
    code, out, err = await ltxbot(env, tmp_path, "--json", "final", draft["job_id"])
    assert code == 0, err
    final = json.loads(out)
    assert final["final_of"] == draft["job_id"] and final["draft"] is False
    assert final["seed"] == draft["seed"] and final["request"]["seed"] == draft["seed"]
    assert (final["rendered"]["width"], final["rendered"]["height"]) == (1536, 896)
    assert final["quoted_usd"] == "0.0312975" and final["prompt"] == draft["prompt"]
    assert final["video"] == str(tmp_path / "final.mp4") and (tmp_path / "final.mp4").stat().st_size
    assert await jobs_and_holds(tmp_path / "data") == (2, [])


async def test_an_over_budget_final_is_refused_with_nothing_held(
    env: dict[str, str], tmp_path: Path
) -> None:
    capped = {**env, "LTXBOT_DEFAULT_USER_CAP_USD": "0.02"}  # the draft fits, the final not
    code, out, err = await ltxbot(capped, tmp_path, "--json", "generate", "--sheet",
                                  sheet(tmp_path), "--prompt", "a fox", "--draft", *FRAMES,
                                  "--out", "draft.mp4")  # fmt: skip
    assert code == 0, err
    draft = json.loads(out)
    code, out, err = await ltxbot(capped, tmp_path, "final", draft["job_id"])
    assert code == 1 and out == ""
    assert err.startswith("ltxbot: ") and "$0.0312975" in err, err
    assert not (tmp_path / "final.mp4").exists()
    assert await jobs_and_holds(tmp_path / "data") == (2, [])  # the draft, the refused final


async def test_the_hint_line_for_an_uploaded_sheet(env: dict[str, str], tmp_path: Path) -> None:
    code, out, err = await ltxbot(env, tmp_path, "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", *FRAMES, "--resolution", "64x64",
                                  "--out", "v.mp4")  # fmt: skip
    assert code == 0, err
    tip = "Tip: the model keeps a sheet's panels apart best with a prompt in two parts"
    assert f'{tip}: "Reference sheet: <what each panel shows>.' in out


async def test_raw_prompt_sends_the_prompt_as_written(env: dict[str, str], tmp_path: Path) -> None:
    chef, pan = tmp_path / "chef.png", tmp_path / "pan.png"
    Image.new("RGB", (600, 900), "white").save(chef)
    Image.new("RGB", (600, 600), "gray").save(pan)
    labelled = ("--sheet", str(chef), "--sheet", str(pan), "--label", "a chef", "--label", "a pan")
    code, out, err = await ltxbot(env, tmp_path, "--json", "generate", *labelled, "--raw-prompt",
                                  "--prompt", "the chef flips the pan", *FRAMES,
                                  "--resolution", "256x160", "--out", "v.mp4")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["prompt"] == "the chef flips the pan"


async def test_a_prompt_the_sheets_description_takes_past_4000_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    chef, pan = tmp_path / "chef.png", tmp_path / "pan.png"
    Image.new("RGB", (600, 900), "white").save(chef)
    Image.new("RGB", (600, 600), "gray").save(pan)
    labelled = ("--sheet", str(chef), "--sheet", str(pan), "--label", "a chef", "--label", "a pan")
    prompt = "p" * 3990  # fits alone, not after "Reference sheet: a chef and a pan."
    code, out, err = await ltxbot(env, tmp_path, "generate", *labelled, "--prompt", prompt,
                                  *FRAMES, "--out", "v.mp4")  # fmt: skip
    assert code == 1 and "Held" not in out, out
    over = len("Reference sheet: a chef and a pan. Generated video: ") + 3990 - 4000
    assert f"The sheet's description (34 characters) plus the prompt is {over} characters " \
        "over the 4,000 the model takes" in err  # fmt: skip
    assert "--raw-prompt" in err
    assert await jobs_and_holds(tmp_path / "data") == (0, [])  # nothing recorded or held
