"""`ltxbot generate --takes N` and `ltxbot estimate --takes N` as a user runs them, against a
local simulated fal: the exact total, N seeds, N files `out-1.mp4`..., all held or none."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from test_cli import run
from test_cli_admin import stored_jobs
from test_cli_videos import jobs_and_holds, ltxbot, sheet

from bot.jobs.record import JobState

TINY = ("--num-frames", "9", "--resolution", "64x64")  # 1 MP: $0.0024075 a take


def test_estimate_shows_the_exact_total_of_the_takes(tmp_path: Path) -> None:
    done = run(tmp_path, "estimate", "--draft", "--num-frames", "121", "--takes", "4", "--json")
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["takes"], said["take_usd"], said["cost_usd"]) == (4, "0.101115", "0.40446")
    words = run(tmp_path, "estimate", "--draft", "--num-frames", "121", "--takes", "4")
    assert "4 takes x $0.101115 = $0.40446" in words.stdout, words.stdout


def test_five_takes_are_refused_in_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, "estimate", "--takes", "5")
    assert done.returncode != 0 and done.stdout == ""
    assert "takes" in done.stderr and "5" in done.stderr, done.stderr


async def test_three_takes_with_a_seed_make_three_files_with_three_seeds(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "--json", "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", *TINY, "--seed", "41", "--takes", "3",
                                  "--out", "v.mp4")  # fmt: skip
    assert code == 0, err
    takes = [json.loads(line) for line in out.splitlines()]
    assert [t["request"]["seed"] for t in takes] == [41, 42, 43]  # what was sent to fal
    assert [t["seed"] for t in takes] == [41, 42, 43]  # what fal rendered with
    assert [t["video"] for t in takes] == [str(tmp_path / f"v-{k}.mp4") for k in (1, 2, 3)]
    for k in (1, 2, 3):
        assert (await asyncio.to_thread((tmp_path / f"v-{k}.mp4").stat)).st_size > 0
    assert not (tmp_path / "v.mp4").exists()
    assert all(t["state"] == "delivered" and t["quoted_usd"] == "0.0024075" for t in takes)
    assert await jobs_and_holds(tmp_path / "data") == (3, [])  # each take captured


async def test_takes_without_a_seed_get_distinct_seeds(env: dict[str, str], tmp_path: Path) -> None:
    code, out, err = await ltxbot(env, tmp_path, "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", *TINY, "--takes", "2",
                                  "--out", "v.mp4")  # fmt: skip
    assert code == 0, err
    assert "2 takes x $0.0024075 = $0.004815" in out, out
    assert (
        "the videos will be saved to " + ", ".join(str(tmp_path / f"v-{k}.mp4") for k in (1, 2))
        in out
    ), out
    assert "Take 1/2 · seed" in err and "Take 2/2 · seed" in err, err  # the poster's lines
    saved = [line for line in out.splitlines() if line.startswith("saved ")]
    assert [" · take 1/2 · " in saved[0], " · take 2/2 · " in saved[1]] == [True, True], out
    seeds = {line.split(" · seed ")[1].split()[0] for line in saved}
    assert len(seeds) == 2


async def test_takes_over_the_cap_hold_nothing(env: dict[str, str], tmp_path: Path) -> None:
    capped = {**env, "LTXBOT_DEFAULT_USER_CAP_USD": "0.008"}  # 3 takes fit ($0.0072225), 4 not
    code, out, err = await ltxbot(capped, tmp_path, "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", *TINY, "--takes", "4",
                                  "--out", "v.mp4")  # fmt: skip
    assert code == 1 and out == "", out
    assert "$0.00963" in err, err  # the total was refused
    assert await jobs_and_holds(tmp_path / "data") == (4, [])  # four rejected, nothing held
    assert not await asyncio.to_thread(lambda: any(tmp_path.glob("v*.mp4")))


async def test_final_take_k_of_draft_takes_uses_that_takes_seed(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "--json", "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", "--draft", "--num-frames", "9",
                                  "--seed", "5", "--takes", "2", "--out", "d.mp4")  # fmt: skip
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["draft"] and second["draft"] and (first["seed"], second["seed"]) == (5, 6)
    code, out, err = await ltxbot(env, tmp_path, "--json", "final", first["job_id"], "--take", "2",
                                  "--out", "f.mp4")  # fmt: skip
    assert code == 0, err
    final = json.loads(out)
    assert final["final_of"] == second["job_id"] and final["seed"] == 6
    code, out, err = await ltxbot(env, tmp_path, "final", first["job_id"], "--take", "3")
    assert code == 1 and "takes 1 to 2" in err, err


async def test_takes_waiting_for_an_admin_are_all_aborted_on_the_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Three takes ($0.0072225) above the approval threshold go to an admin as one group; the
    # terminal cannot wait for one, so every take is aborted and nothing is held.
    for args in (("limits", "--approval-above", "0.005"), ("channel", "admin")):
        code, _, err = await ltxbot(env, tmp_path, "admin", *args)
        assert code == 0, err
    code, out, err = await ltxbot(env, tmp_path, "generate", "--sheet", sheet(tmp_path),
                                  "--prompt", "a fox", *TINY, "--takes", "3",
                                  "--out", "v.mp4")  # fmt: skip
    assert code == 1 and out == "", out
    assert "These 3 takes cost $0.0072225, above the $0.005" in err, err
    assert "the terminal cannot wait for an approval" in err and "Traceback" not in err
    jobs, holds = await stored_jobs(tmp_path / "data")
    assert [job.state for job in jobs] == [JobState.REJECTED] * 3 and holds == []
