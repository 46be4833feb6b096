"""`ltxbot admin forget` as an operator runs it: the real `ltxbot` script, a video made through
the simulated fal, then its maker forgotten: files and prompts gone, the amounts still there."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from pathlib import Path

from test_cli_admin import ltxbot, sheet

from bot.jobs.record import JobState
from storage import open_storage
from tests.ltxbot_fast import ltxbot_command

TINY = ("--prompt", "a secret fox", "--resolution", "64x64", "--num-frames", "9")  # 1 MP


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # as adapters.console does without a login name
        return "local"


async def _usage(env: dict[str, str], cwd: Path) -> dict:
    code, out, err = await ltxbot(env, cwd, "admin", "usage", "--period", "none", "--json")
    assert code == 0, err
    return json.loads(out)


async def test_forget_asks_first_then_removes_files_and_prompts_and_keeps_amounts(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(
        env, tmp_path, "generate", "--sheet", str(sheet(tmp_path)), *TINY, "--out", "v.mp4"
    )
    assert code == 0, err
    data = Path(env["LTXBOT_DATA_DIR"])
    assert list((data / "videos").glob("*.mp4"))
    before = await _usage(env, tmp_path)
    me = _login()

    code, out, err = await ltxbot(env, tmp_path, "admin", "forget", me)  # no terminal: no --yes
    assert code == 1, out + err
    assert "1 video, 1 sheet and 1 prompt" in err and "--yes" in err and "amount" in err, err
    assert list((data / "videos").glob("*.mp4")), "nothing changes before --yes"

    code, out, err = await ltxbot(env, tmp_path, "admin", "forget", me, "--yes", "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["forgotten"] is True and done["jobs"] == 1 and done["files"] >= 2, done
    assert done["pseudonym"].startswith("forgotten-") and len(done["pseudonym"]) == 22
    assert not list((data / "videos").glob("*.mp4")) and (tmp_path / "v.mp4").exists()
    assert not [p for p in (data / "sheets").rglob("*") if p.is_file()]

    after = await _usage(env, tmp_path)
    assert after["spent_usd"] == before["spent_usd"]
    assert [u["spent_usd"] for u in after["users"]] == [u["spent_usd"] for u in before["users"]]
    assert [u["user_id"] for u in after["users"]] == [done["pseudonym"]]
    storage = await open_storage(f"sqlite:///{data / 'ltxbot.sqlite3'}")
    try:
        (job,) = await storage.jobs.in_states(list(JobState))
    finally:
        await storage.close()
    assert job.origin.user_id == done["pseudonym"] and "secret" not in job.model_dump_json()
    code, out, err = await ltxbot(env, tmp_path, "history")
    assert code == 0 and job.id not in out, out

    code, out, err = await ltxbot(env, tmp_path, "admin", "forget", me, "--yes")
    assert code == 0 and out.startswith("Nothing to forget"), out + err
    code, out, err = await ltxbot(env, tmp_path, "admin", "audit", "--json")
    assert code == 0 and out.count('"forget"') == 1 and me not in out.replace("actor", ""), out


async def _answer(env: dict[str, str], cwd: Path, typed: bytes, *args: str) -> tuple[int, str]:
    """Run `ltxbot args...` on a terminal (a pty) and type `typed` at its y/N question."""
    controller, tty = os.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            *ltxbot_command(), *args, cwd=cwd, env=env, stdin=tty,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert process.stdout is not None
        seen = b""
        async with asyncio.timeout(60):
            while b"[y/N] " not in seen:  # the question ends without a newline
                chunk = await process.stdout.read(1024)
                assert chunk, seen.decode()
                seen += chunk
            os.write(controller, typed)
            seen += await process.stdout.read()
            await process.wait()
    finally:
        os.close(controller)
        os.close(tty)
    assert process.returncode is not None
    return process.returncode, seen.decode()


async def test_on_a_terminal_forget_asks_and_only_yes_does_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    granted = ("admin", "grant", "--who", "bob", "--amount", "5", "--reason", "demo")
    code, out, err = await ltxbot(env, tmp_path, *granted)
    assert code == 0, err

    code, text = await _answer(env, tmp_path, b"n\n", "admin", "forget", "bob")
    assert code == 1 and "Forgetting" in text and "Nothing was changed." in text, text
    code, text = await _answer(env, tmp_path, b"y\n", "admin", "forget", "bob")
    assert code == 0 and "Forgot" in text and "forgotten-" in text, text
    code, out, err = await ltxbot(env, tmp_path, "admin", "usage", "--period", "none", "--json")
    assert code == 0 and '"bob"' not in out, out
