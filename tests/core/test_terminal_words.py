"""The terminal's own words: its syntax instead of chat's, `history` that says what the ledger
did, `show` with the times and the video's path, and an `estimate` that warns (exit 0) about
the refusal `generate` would meet. Run as a user runs `ltxbot`, on a local simulated fal."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_videos import TINY, ltxbot, sheet

from adapters.console.reply_text import plain


def test_chat_markup_reads_as_the_terminal() -> None:
    assert plain("Asked in <#terminal>, see <#C042|general>") == "Asked in the terminal, see #C042"


async def test_the_safety_hint_is_the_terminals_syntax(env, tmp_path: Path) -> None:
    code, _, err = await ltxbot(
        env, tmp_path, "generate", "--prompt", "x", "--sheet", sheet(tmp_path), *TINY,
        "--no-enable-safety-checker", "--yes", "--out", str(tmp_path / "v.mp4"),
    )  # fmt: skip
    assert code == 1 and "ltxbot admin limits --safety-optional" in err, err
    assert "safety_optional:true" not in err


async def test_history_and_show_say_what_happened_and_where(env, tmp_path: Path) -> None:
    out_path = tmp_path / "v.mp4"
    base = ("generate", "--prompt", "a fox", "--sheet", sheet(tmp_path), *TINY, "--yes")
    code, out, err = await ltxbot(env, tmp_path, *base, "--out", str(out_path))
    assert code == 0, err
    assert "the video will be saved to" in out and "posted here" not in out
    capped = {**env, "LTXBOT_DEFAULT_USER_CAP_USD": "0.003"}  # room for one 1 MP video
    code, _, err = await ltxbot(capped, tmp_path, *base, "--out", str(tmp_path / "w.mp4"))
    assert code == 1 and "cap" in err
    code, out, err = await ltxbot(env, tmp_path, "history")
    rejected, delivered = out.splitlines()[1:3]
    assert "· rejected · not charged ·" in rejected, out
    assert "· delivered · $0.0024075 charged ·" in delivered, out
    job_id = delivered.split()[0]
    code, out, err = await ltxbot(env, tmp_path, "show", job_id)
    fields = dict(line.strip().split(": ", 1) for line in out.splitlines()[1:])
    assert fields["Created"].endswith(" UTC") and fields["Finished"].endswith(" after)"), out
    assert fields["Saved to (--out)"] == str(out_path)
    assert fields["Video file"].endswith(f"{job_id}.mp4")


async def test_estimate_warns_of_the_refusals_and_exits_0(env, tmp_path: Path) -> None:
    tight = {**env, "LTXBOT_MAX_COST_PER_REQUEST_USD": "1", "LTXBOT_DEFAULT_USER_CAP_USD": "2"}
    asked = ("estimate", "--duration", "20", "--resolution", "1920x1080")
    code, out, err = await ltxbot(tight, tmp_path, *asked)
    assert code == 0, err
    warned = [line for line in out.splitlines() if line.startswith("⚠️")]
    assert "above the $1.00 limit for one video" in warned[0]
    assert "your daily cap has $2.00 left" in warned[1] and len(warned) == 2
    code, out, _ = await ltxbot(tight, tmp_path, *asked, "--json")
    assert code == 0 and len(json.loads(out)["warnings"]) == 2
    code, out, _ = await ltxbot(env, tmp_path, "estimate", "--json", *TINY)
    assert json.loads(out)["warnings"] == []
