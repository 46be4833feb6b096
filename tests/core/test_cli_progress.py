"""The terminal's progress line: plain lines through a pipe (a real `ltxbot generate` on the
simulated fal), and rich's live line on a forced 60-column terminal that never wraps."""

from __future__ import annotations

import io
import itertools
import os
import re
import subprocess
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console

from adapters.console.output import SIMULATED_NOTICE
from adapters.console.poster import ConsolePoster
from adapters.console.progress_words import in_line
from bot.events import Held, Queued, Running, Succeeded
from bot.model import Platform
from bot.money import Money
from tests.ltxbot_fast import ltxbot_command
from tests.storage.storage_testkit import make_job

SHEET = Path(__file__).parents[2] / "examples" / "chef-sheet.png"
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_the_queue_reads_as_a_person_counts() -> None:
    assert in_line(0, None) == "next in line"
    assert in_line(1, 0) == "2nd in line"
    assert in_line(2, 3) == "3rd in line · waited 3 min"
    assert in_line(None, None) == "in line at fal"  # fal named no position


def test_through_a_pipe_one_plain_line_per_change(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
    env |= {"LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_BACKEND": "simulated"}
    done = subprocess.run(
        [*ltxbot_command(), "generate", "--prompt", "a fox", "--sheet", str(SHEET),
         "--num-frames", "9", "--resolution", "256x160", "--yes", "--out", str(tmp_path / "v.mp4")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr  # no control codes
    lines = done.stderr.splitlines()
    assert lines.count(SIMULATED_NOTICE) == 1 and lines[0] == SIMULATED_NOTICE
    assert "WARNING" not in done.stderr and "SIMULATED:" not in done.stdout  # not a log line
    rendering = next(i for i, line in enumerate(lines) if "rendering" in line)
    assert not any("SIMULATED" in line for line in lines[1:rendering])  # only once it runs
    assert lines[rendering].startswith("SIMULATED rendering")
    progress = lines[1 : lines.index("done · nothing charged (simulated)") + 1]
    assert all(a != b for a, b in itertools.pairwise(progress))  # one per change
    assert any("in line" in line for line in progress), progress
    assert "the video will be saved to" in done.stdout and "posted here" not in done.stdout
    job_id = done.stdout.split("for job ", 1)[1].split(";", 1)[0]
    shown = subprocess.run(
        [*ltxbot_command(), "show", job_id], env=env, capture_output=True, text=True, timeout=60
    )
    assert "  Charged: nothing (simulated run)" in shown.stdout.splitlines(), shown.stdout


async def test_on_a_60_column_terminal_nothing_wraps() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=60, color_system=None)
    poster = ConsolePoster(screen, console=console)
    job = make_job("j1", platform=Platform.CONSOLE).model_copy(update={"simulated": True})
    long_log = "Denoising step 3/8 with a log line far too long for sixty columns of terminal"
    events = [
        Held(Money(job.quoted_nanos)),
        Queued(1, 0),
        Queued(0, 2),
        Running(0.5, "Loading model weights", None),
        Running(6.0, long_log, 3 / 8),
        Succeeded(Path("v.mp4"), Money.zero(), None),
    ]
    for event in events[:-1]:
        await poster.progress(job, event)
    await poster.deliver(job, Path("v.mp4"), events[-1])
    drawn = [CONTROL.sub("", part) for part in re.split(r"[\r\n]", screen.getvalue())]
    assert max(cell_len(line) for line in drawn) <= 60, drawn
    assert any("2nd in line" in line for line in drawn)
    assert any("next in line · waited 2 min" in line for line in drawn)
    assert any("38%" in line and "~10 s left" in line for line in drawn), drawn
    assert any(line.rstrip().endswith("…") for line in drawn)  # the log line is cut, not wrapped
    assert any("done · nothing charged (simulated)" in line for line in drawn)
    before = [line for line in drawn if "SIMULATED" in line]
    assert before and all("rendering" in line for line in before)
    assert "\x1b[?25h" in screen.getvalue()  # the cursor is given back when the job ends


async def test_a_held_poster_draws_nothing_until_released() -> None:
    """The CLI prints its reply first (stdout may be the same terminal), then lets it draw."""
    screen = io.StringIO()
    poster = ConsolePoster(screen, held=True)
    job = make_job("j1", platform=Platform.CONSOLE)
    await poster.progress(job, Queued(1, 0))
    await poster.deliver(job, Path("v.mp4"), Succeeded(Path("v.mp4"), Money.zero(), None))
    assert screen.getvalue() == "" and poster.ending("j1").done()  # the ending is not held
    poster.release()
    assert screen.getvalue().splitlines()[:2] == ["2nd in line", "done · $0.00 charged"]
