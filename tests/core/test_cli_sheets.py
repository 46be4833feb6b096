"""`ltxbot sheets` as a user runs it: save a composed sheet (its sentence kept from the PNG
`ltxbot sheet` wrote), list it in words and JSON, refuse what is wrong with exit 1 (usage: 2),
and `generate --saved NAME` makes the video from it through a local simulated fal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PIL import Image

from tests.ltxbot_fast import ltxbot_command

TINY = ("--resolution", "64x64", "--num-frames", "9")  # 1 MP: $0.0024075
PREFIX = "Reference sheet: a chef in white and an orange kitchen."


async def ltxbot(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *ltxbot_command(), *args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def pictures(tmp_path: Path) -> list[str]:
    Image.new("RGB", (600, 900), "white").save(tmp_path / "chef.png")
    Image.new("RGB", (1600, 900), "orange").save(tmp_path / "kitchen.jpg")
    return [str(tmp_path / "chef.png"), str(tmp_path / "kitchen.jpg")]


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_save_a_composed_sheet_list_it_and_generate_from_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    chef, kitchen = pictures(tmp_path)
    code, _, err = await ltxbot(env, tmp_path, "sheet", chef, kitchen, "--label", "a chef in white",
                                "--label", "an orange kitchen", "--out", "sheet.png")  # fmt: skip
    assert code == 0, err
    code, out, err = await ltxbot(env, tmp_path, "sheets", "save", "kitchen",
                                  "--sheet", "sheet.png")  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [
        "Saved sheet kitchen (1536x896) for everyone here.",
        f"Prompts made with it start: {PREFIX}",
    ]
    code, _, err = await ltxbot(env, tmp_path, "sheets", "save", "same", "--sheet", "sheet.png")
    assert code == 0, err
    assert len(files_in(Path(env["LTXBOT_DATA_DIR"]) / "saved-sheets")) == 1  # one picture
    code, out, err = await ltxbot(env, tmp_path, "sheets", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["name"], r["width"], r["height"], r["prompt_prefix"]) for r in rows] == [
        ("kitchen", 1536, 896, PREFIX), ("same", 1536, 896, PREFIX)
    ]  # fmt: skip
    code, out, err = await ltxbot(env, tmp_path, "generate", "--saved", "kitchen", "--prompt",
                                  "the chef cooks", *TINY, "--out", "v.mp4", "--yes")  # fmt: skip
    assert code == 0, err
    assert f"Prompt sent: {PREFIX} Generated video: the chef cooks" in out
    assert (tmp_path / "v.mp4").stat().st_size > 0
    code, out, err = await ltxbot(env, tmp_path, "sheets", "delete", "same")
    assert code == 0 and out.startswith("Deleted sheet same;"), err


async def test_refusals_exit_1_and_usage_errors_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    chef, _ = pictures(tmp_path)
    code, _, err = await ltxbot(env, tmp_path, "sheets", "save", "chef", "--sheet", chef)
    assert code == 0, err
    code, _, err = await ltxbot(env, tmp_path, "generate", "--saved", "chfe", "--prompt", "x",
                                *TINY)  # fmt: skip
    assert code == 1
    assert err.strip() == "ltxbot: No sheet is saved here as chfe. Close names: chef."
    code, _, err = await ltxbot(env, tmp_path, "sheets", "save", "bad name", "--sheet", chef)
    assert code == 1 and "1 to 40 letters, digits, - or _" in err
    code, _, err = await ltxbot(env, tmp_path, "sheets", "delete", "nope", "--json")
    assert code == 1 and json.loads(err)["error"].startswith("No sheet is saved here as nope.")
    for usage in (
        ("sheets", "save", "x"),
        ("sheets", "delete"),
        ("generate", "--prompt", "x"),
        ("generate", "--prompt", "x", "--sheet", chef, "--saved", "chef"),
    ):
        code, _, err = await ltxbot(env, tmp_path, *usage)
        assert code == 2, (usage, err)
