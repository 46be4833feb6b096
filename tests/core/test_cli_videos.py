"""`ltxbot generate`, `show`, `history` and `run` as a user runs them, against a local simulated
fal (and a local fake Discord): --json, a prompt on stdin, an --out that is never overwritten
without --force, and a refused Discord token in one line."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from PIL import Image

from storage import open_storage
from tests.fakes.discord_api.server import FakeDiscord
from tests.ltxbot_fast import ltxbot_command

TINY = ("--resolution", "64x64", "--num-frames", "9")  # 1 MP: $0.0024075


async def ltxbot(
    env: dict[str, str], cwd: Path, *args: str, stdin: bytes | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *ltxbot_command(), *args, cwd=cwd, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin or b""), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def sheet(tmp_path: Path) -> str:
    path = tmp_path / "sheet.png"
    Image.new("RGB", (320, 192), (200, 120, 40)).save(path)
    return str(path)


async def jobs_and_holds(data: Path) -> tuple[int, list[str]]:
    storage = await open_storage(f"sqlite:///{data / 'ltxbot.sqlite3'}")
    try:
        from bot.jobs.record import JobState

        return len(await storage.jobs.in_states(list(JobState))), await storage.ledger.open_holds()
    finally:
        await storage.close()


async def test_generate_json_with_the_prompt_on_stdin_then_show_and_history(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "--json", "generate", "--sheet", sheet(tmp_path),
                                  "--prompt-file", "-", *TINY, "--out", "v.mp4",
                                  stdin=b"a fox in the snow\n")  # fmt: skip
    assert code == 0, err
    [line] = out.splitlines()  # one object, nothing else on stdout
    done = json.loads(line)
    assert done["state"] == "delivered" and done["prompt"] == "a fox in the snow"
    assert done["video"] == str(tmp_path / "v.mp4")
    assert await asyncio.to_thread((tmp_path / "v.mp4").is_file)
    assert (done["quoted_usd"], done["charged_usd"]) == ("0.0024075", "0.0024075")
    assert done["budget_left_usd"] == "9.9975925" and isinstance(done["seed"], int)
    code, out, err = await ltxbot(env, tmp_path, "show", done["job_id"], "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["job_id"] == done["job_id"] and shown["charged_usd"] == "0.0024075"
    assert shown["out_path"] == str(tmp_path / "v.mp4") and shown["finished_at"]
    code, out, err = await ltxbot(env, tmp_path, "history", "--json")
    assert [json.loads(row)["job_id"] for row in out.splitlines()] == [done["job_id"]], err


async def test_an_existing_out_is_refused_before_anything_is_held_unless_forced(
    env: dict[str, str], tmp_path: Path
) -> None:
    await asyncio.to_thread((tmp_path / "v.mp4").write_bytes, b"my own film")
    image = sheet(tmp_path)
    code, out, err = await ltxbot(env, tmp_path, "generate", "--sheet", image, "--prompt", "a fox",
                                  *TINY, "--out", "v.mp4")  # fmt: skip
    assert (code, out) == (1, "")
    assert err.strip() == "ltxbot: v.mp4 exists; pass --force to overwrite"
    assert await asyncio.to_thread((tmp_path / "v.mp4").read_bytes) == b"my own film"
    assert await jobs_and_holds(tmp_path / "data") == (0, [])  # no job, no hold
    code, out, err = await ltxbot(env, tmp_path, "generate", "--sheet", image, "--prompt", "a fox",
                                  *TINY, "--out", "v.mp4", "--force")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "v.mp4").read_bytes()[4:8] == b"ftyp"
    beside = await asyncio.to_thread(lambda: list(tmp_path.glob("v-*.mp4")))
    assert "saved v.mp4 · job " in out and beside == []


async def test_a_refused_discord_token_is_one_line(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-token") as fake:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
        env = {**clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"),
               "LTXBOT_BACKEND": "simulated", "LTXBOT_DISCORD_TOKEN": "a-wrong-token",
               "LTXBOT_DISCORD_API_URL": fake.api_url}  # fmt: skip
        code, _, err = await ltxbot(env, tmp_path, "run")
    assert code == 1 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("ltxbot: setting LTXBOT_DISCORD_TOKEN: Discord refused this token")
    assert "a-wrong-token" not in err
