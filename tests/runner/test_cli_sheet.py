"""`ltxbot sheet` writes a composed sheet and says what it holds; `ltxbot generate --sheet a
--sheet b` composes the same sheet, puts its sentence before the prompt and makes the video
through the simulated fal."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from clikit import bot_env, finished, start
from PIL import Image

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
from bot.jobs.record import JobState
from bot.request import auto_size
from storage import open_storage


def picture(path: Path, size: tuple[int, int], colour: str) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def pictures(tmp_path: Path) -> tuple[Path, Path]:
    return (
        picture(tmp_path / "chef.png", (600, 900), "white"),
        picture(tmp_path / "kitchen.jpg", (1600, 900), "orange"),
    )


def sheet_env(tmp_path: Path) -> dict[str, str]:
    """No fal at all: `ltxbot sheet` needs none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
    return {**env, "LTXBOT_DATA_DIR": str(tmp_path / "data")}


async def test_sheet_json_says_where_each_picture_went(tmp_path: Path) -> None:
    chef, kitchen = pictures(tmp_path)
    out = tmp_path / "sheet.png"
    run = await start(
        sheet_env(tmp_path),
        "sheet", str(chef), str(kitchen), "--label", "a chef", "--label", "a bright kitchen",
        "--kind", "character", "--kind", "location", "--aspect", "16:9", "--out", str(out),
        "--json",
    )  # fmt: skip
    text = await finished(run)
    assert run.returncode == 0, text
    said = json.loads(text)
    assert said.keys() == {"path", "width", "height", "panels", "prompt_prefix"}
    assert said["path"] == str(out)
    assert said["prompt_prefix"] == "Reference sheet: a chef and a bright kitchen."
    assert Image.open(out).size == (said["width"], said["height"])
    # 16:9 at the size `--resolution auto` renders for it, so a video made from this sheet
    # with `auto` has exactly the sheet's shape.
    assert (said["width"], said["height"]) == (1568, 864)
    assert auto_size(said["width"] / said["height"]) == auto_size(16 / 9)
    panels = said["panels"]
    assert [(p["image"], p["kind"], p["label"]) for p in panels] == [
        ("chef.png", "character", "a chef"),
        ("kitchen.jpg", "location", "a bright kitchen"),
    ]
    areas = [p["width"] * p["height"] for p in panels]
    assert sum(areas) == said["width"] * said["height"] and areas[0] > areas[1]


async def test_sheet_never_overwrites_without_force(tmp_path: Path) -> None:
    chef, kitchen = pictures(tmp_path)
    out = tmp_path / "sheet.png"
    out.write_bytes(b"keep me")
    args = ("sheet", str(chef), str(kitchen), "--out", str(out))
    refused = await start(sheet_env(tmp_path), *args)
    text = await finished(refused)
    assert refused.returncode == 1, text
    assert f"{out} exists; pass --force to overwrite" in text
    assert out.read_bytes() == b"keep me"
    forced = await start(sheet_env(tmp_path), *args, "--force")
    text = await finished(forced)
    assert forced.returncode == 0, text
    assert text.splitlines() == [
        f"saved {out} (1536x896, 2 panels)",
        "Reference sheet: a prop and a prop.",
    ]
    assert Image.open(out).size == (1536, 896)


async def test_a_disguised_picture_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    chef, _ = pictures(tmp_path)
    fake = tmp_path / "pan.png"
    fake.write_text("<html><head><title>Sign in</title></head></html>")
    out = tmp_path / "sheet.png"
    run = await start(sheet_env(tmp_path), "sheet", str(chef), str(fake), "--out", str(out))
    text = await finished(run)
    assert run.returncode == 1, text
    assert "Picture 2 (pan.png): That file is not an image (it looks like an HTML page" in text
    assert not out.exists()


async def test_generate_with_two_sheets_composes_them_and_prefixes_the_prompt(
    tmp_path: Path,
) -> None:
    chef, kitchen = pictures(tmp_path)
    video = tmp_path / "video.mp4"
    async with SimulatedFal(generation_seconds=0.05, queue_seconds=0.01) as fal:
        bundle = trust_bundle(fal.ca_file)
        try:
            run = await start(
                bot_env(tmp_path / "data", fal, bundle),
                "generate", "--sheet", str(chef), "--sheet", str(kitchen),
                "--label", "a chef in a white jacket", "--label", "a bright studio kitchen",
                "--kind", "character", "--kind", "location",
                "--prompt", "the chef tosses pasta", "--resolution", "256x160",
                "--num-frames", "9", "--out", str(video),
            )  # fmt: skip
            text = await finished(run)
        finally:
            bundle.unlink()
        (submission,) = fal.submissions
        sent = fal.storage.read_sheet(str(submission.arguments["image_url"]))
    assert run.returncode == 0, text
    prompt = (
        "Reference sheet: a chef in a white jacket and a bright studio kitchen. "
        "Generated video: the chef tosses pasta"
    )
    assert f"Prompt sent: {prompt}" in text
    assert submission.arguments["prompt"] == prompt
    assert sent is not None
    with Image.open(io.BytesIO(sent)) as uploaded:  # the composed sheet, at the video's size
        assert uploaded.size == (256, 160)
        pixels = uploaded.convert("RGB")
        assert pixels.getpixel((10, 80)) == (255, 255, 255)  # the chef's panel, on the left
        assert pixels.getpixel((250, 80))[0] > 240 > pixels.getpixel((250, 80))[2]  # kitchen
    assert video.stat().st_size > 0
    storage = await open_storage(f"sqlite:///{tmp_path / 'data' / 'ltxbot.sqlite3'}")
    try:
        (job,) = await storage.jobs.in_states(list(JobState))
    finally:
        await storage.close()
    assert job.state is JobState.DELIVERED and job.request.prompt == prompt


async def test_generate_refuses_a_bad_picture_before_anything_is_held(tmp_path: Path) -> None:
    chef, _ = pictures(tmp_path)
    tiny = picture(tmp_path / "basil.png", (40, 40), "green")
    run = await start(
        sheet_env(tmp_path),
        "generate", "--sheet", str(chef), "--sheet", str(tiny), "--label", "a chef",
        "--label", "basil", "--prompt", "the chef cooks", "--out", str(tmp_path / "v.mp4"),
    )  # fmt: skip
    text = await finished(run)
    assert run.returncode == 1, text
    assert "Picture 2 (basil.png): That image is only 40x40 pixels" in text
    # Refused before the bot opened its database: no job, no hold.
    assert not (tmp_path / "data" / "ltxbot.sqlite3").exists()
