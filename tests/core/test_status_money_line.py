"""The status message's money line says what the ledger did: held while the job runs (a stop
asked of fal included), then charged or released; the terminal's lines say the same."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console.poster import ConsolePoster
from bot.events import Cancelled, Failed, JobEvent, Queued, Running, StopAsked, Succeeded
from bot.jobs.record import Job, JobState, Origin
from bot.model import Platform
from bot.money import Money
from bot.request import GenerationRequest
from commands.render import status_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOLD = Money(288_900_000)  # $0.29


def job(**changes: object) -> Job:
    made = Job(
        id="j1", origin=Origin(platform=Platform.CONSOLE, scope="local", channel_id="t",
                               user_id="alice"),
        request=GenerationRequest(prompt="a red fox in the snow"), quoted_megapixels=120,
        quoted_nanos=HOLD.nanos, state=JobState.RUNNING, created_at=T0, updated_at=T0,
    )  # fmt: skip
    return made.model_copy(update=changes)


@pytest.mark.parametrize(
    ("event", "money"),
    [
        (Queued(0, 1), "$0.29 held"),
        (Running(3.0), "$0.29 held"),
        (StopAsked(HOLD), "$0.29 held"),
        (Succeeded(Path("v.mp4"), Money.usd("0.25"), None), "$0.25 charged"),
        (Failed("fal failed", HOLD), "$0.29 released"),
        (Cancelled(HOLD), "$0.29 released"),
    ],
)
def test_the_money_line_follows_the_ledger(event: JobEvent, money: str) -> None:
    head = status_text(job(), event).splitlines()[1]
    assert head.endswith(f" · {money} · job `j1`")


def test_a_stop_asked_says_what_happens_and_never_released() -> None:
    asked = job(cancel_requested_at=T0)
    for event in (StopAsked(HOLD), Running(9.0, "step 3/30", 0.1)):
        text = status_text(asked, event)
        said = "Asked fal to stop. If fal finishes anyway, the video is saved and up to $0.29"
        assert f"{said} charged." in text
        assert "released" not in text
    done = status_text(asked, Succeeded(Path("v.mp4"), HOLD, None))
    assert "done · fal finished before it could stop · $0.29 charged" in done


def test_a_simulated_run_ends_released_and_charges_nothing() -> None:
    text = status_text(job(simulated=True), Succeeded(Path("v.mp4"), Money.zero(), None))
    assert " · $0.29 released · job" in text and "done · nothing charged" in text


async def test_the_terminal_lines_say_the_same(tmp_path: Path) -> None:
    out = io.StringIO()
    poster = ConsolePoster(out)
    asked = job(cancel_requested_at=T0)
    await poster.progress(asked, StopAsked(HOLD))
    assert "Asked fal to stop" in out.getvalue() and "released" not in out.getvalue()
    assert not poster.ending("j1").done()  # a stop asked is not an ending
    video = tmp_path / "v.mp4"
    await poster.deliver(asked, video, Succeeded(video, HOLD, None))
    assert "done · fal finished before it could stop · $0.29 charged" in out.getvalue()
    assert poster.ending("j1").done()
