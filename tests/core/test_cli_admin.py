"""`ltxbot admin ...` and the price confirmation of `ltxbot generate`, run as a user runs them:
the real `ltxbot` script in a subprocess, on its own data dir, against a local simulated fal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from PIL import Image

from bot.jobs.record import JobState
from bot.ports import CapKind
from storage import open_storage
from tests.ltxbot_fast import ltxbot_command

# 768x448, 25 frames: 9 MP, $0.0216675; above the $0.01 these tests set for confirmations.
SMALL = ("--prompt", "the chef tosses pasta", "--resolution", "768x448", "--num-frames", "25")


async def ltxbot(
    env: dict[str, str], cwd: Path, *args: str, stdin: int | None = None
) -> tuple[int, str, str]:
    """Run `ltxbot args...`; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *ltxbot_command(), *args, cwd=cwd, env=env,
        stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "sheet.png"
    Image.new("RGB", (320, 192), (200, 120, 40)).save(path)
    return path


async def stored_jobs(data: Path) -> tuple[list, list[str]]:
    storage = await open_storage(f"sqlite:///{data / 'ltxbot.sqlite3'}")
    try:
        return await storage.jobs.in_states(list(JobState)), await storage.ledger.open_holds()
    finally:
        await storage.close()


async def test_caps_grant_audit_usage_and_export_from_the_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "admin", "caps", "set", "--target", "user",
                                  "--who", "bob", "--amount", "25", "--period", "week",
                                  "--reason", "video lead")  # fmt: skip
    assert code == 0, err
    assert out.startswith("Set @bob: $25.00 per week")
    code, out, err = await ltxbot(env, tmp_path, "admin", "grant", "--who", "bob", "--amount",
                                  "5", "--reason", "onboarding")  # fmt: skip
    assert code == 0 and out.startswith("Granted $5.00 to @bob"), err
    # Readers side by side (the writers above went one at a time: SQLite, one fresh schema).
    (code, out, err), (exported, listed, _), (audited, audit, _) = await asyncio.gather(
        ltxbot(env, tmp_path, "admin", "usage", "--period", "month", "--out", "usage.png"),
        ltxbot(env, tmp_path, "admin", "export"),
        ltxbot(env, tmp_path, "admin", "audit"),
    )
    assert code == 0, err
    assert "@bob: $0.00 spent (0 videos) · $0.00 in flight (0 videos) · $5.00 granted" in out
    assert out.rstrip().endswith("saved usage.png")
    chart = await asyncio.to_thread((tmp_path / "usage.png").read_bytes)
    assert chart.startswith(b"\x89PNG\r\n\x1a\n")
    assert exported == 0 and "Ledger this month: 1 entries." in listed
    saved = Path(listed.rstrip().splitlines()[-1].removeprefix("saved "))
    assert saved.parent == tmp_path / "data" / "reports"  # no --out: next to the data, printed
    rows = (await asyncio.to_thread(saved.read_text)).splitlines()
    assert rows[0].startswith("entry_id,kind,user_id") and ",grant,bob," in rows[1]
    assert audited == 0 and "caps set: user bob = $25.00 per week — “video lead”" in audit
    assert "grant: 5 USD to @bob" in audit and "<@" not in audit

    storage = await open_storage(f"sqlite:///{tmp_path / 'data' / 'ltxbot.sqlite3'}")
    try:
        [cap] = await storage.policy.caps(scope="console:local")
    finally:
        await storage.close()
    assert (cap.kind, cap.subject, str(cap.amount), cap.period) == (
        CapKind.USER, "bob", "$25.00", "week")  # fmt: skip


async def test_a_tiny_job_is_priced_held_and_spent_exactly_in_the_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    tiny = ("--prompt", "a fox", "--resolution", "64x64", "--num-frames", "9")  # 1 MP
    image = str(sheet(tmp_path))
    code, out, err = await ltxbot(
        env, tmp_path, "generate", "--sheet", image, *tiny, "--out", "v.mp4"
    )
    assert code == 0, err
    assert out.startswith("Held $0.0024075 for job"), out
    assert "= 1 MP x $0.0024075/MP = $0.0024075\n" in out  # exact already: no "(exactly"
    assert "$0.00 " not in out and "$0.00," not in out
    code, out, err = await ltxbot(env, tmp_path, "budget")
    assert code == 0 and "$0.0024075 spent · $0.00 in flight" in out, err


async def test_admin_mistakes_are_argparse_errors(env: dict[str, str], tmp_path: Path) -> None:
    (wrong, _, choice), (short, _, missing) = await asyncio.gather(
        ltxbot(env, tmp_path, "admin", "caps", "set", "--target", "usr"),
        ltxbot(env, tmp_path, "admin", "grant", "--who", "bob"),
    )
    assert wrong == 2 and "invalid choice: 'usr'" in choice
    assert short == 2 and "--amount" in missing and "--reason" in missing


async def test_a_price_above_the_threshold_is_asked_confirmed_or_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = await ltxbot(env, tmp_path, "admin", "limits", "--confirm-above", "0.01")
    assert code == 0 and "confirm: above $0.01" in out, err
    image = str(sheet(tmp_path))
    controller, terminal = os.openpty()
    os.write(controller, b"n\n")  # typed ahead: the terminal keeps it until the bot reads it
    try:
        (asked, asked_out, asked_err), (piped, piped_out, piped_err), (yes, yes_out, yes_err), (
            approval, approval_err) = await asyncio.gather(
                ltxbot(env, tmp_path, "generate", "--sheet", image, *SMALL, stdin=terminal),
                ltxbot(env, tmp_path, "generate", "--sheet", image, *SMALL),
                ltxbot(env, tmp_path, "generate", "--sheet", image, *SMALL, "--yes",
                       "--out", "v.mp4"),
                over_the_cap_with_an_admin_channel(env, tmp_path / "other", image),
            )  # fmt: skip
    finally:
        os.close(controller)
        os.close(terminal)
    assert asked == 1, asked_err
    assert "This video costs $0.0216675" in asked_out and "above the $0.01" in asked_out
    assert "Confirm $0.0216675? [y/N] Aborted job" in asked_out
    assert piped == 1 and piped_out == ""
    assert "above the confirmation threshold here; nothing was held" in piped_err
    assert "--yes" in piped_err and "Traceback" not in piped_err
    assert yes == 0, yes_err
    assert "Confirm" not in yes_out and yes_out.startswith("Held $0.0216675 for job")
    video = await asyncio.to_thread((tmp_path / "v.mp4").read_bytes)
    assert "saved v.mp4" in yes_out and video[4:8] == b"ftyp"

    jobs, holds = await stored_jobs(tmp_path / "data")
    states = sorted(j.state.value for j in jobs)
    assert states == ["delivered", "rejected", "rejected"] and holds == []
    assert {j.failure for j in jobs if j.state is JobState.REJECTED} == {"not confirmed: aborted"}
    assert approval == 1, approval_err
    assert "the terminal cannot wait for an approval" in approval_err
    assert "Traceback" not in approval_err
    jobs, holds = await stored_jobs(tmp_path / "other" / "data")
    assert [j.state for j in jobs] == [JobState.REJECTED] and holds == []


async def over_the_cap_with_an_admin_channel(
    env: dict[str, str], home: Path, image: str
) -> tuple[int, str]:
    """Past a personal cap with an admin channel set, the core offers to ask an admin: the
    terminal cannot wait for one, so the job is aborted. (Its own data dir and terminal.)"""
    env = {**env, "LTXBOT_DATA_DIR": str(home / "data")}
    await asyncio.to_thread(home.mkdir)
    for args in (("caps", "set", "--target", "default", "--amount", "0.01"), ("channel", "admin")):
        code, _, err = await ltxbot(env, home, "admin", *args)
        assert code == 0, err
    code, _, err = await ltxbot(env, home, "generate", "--sheet", image, *SMALL)
    return code, err
