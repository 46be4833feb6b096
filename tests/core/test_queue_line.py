"""How a job waiting in fal's queue reads: fal's 0-based position as a person counts it, and
the wait, in the status text every adapter shows and on the terminal's progress line (which
says "next in line", "2nd in line")."""

from __future__ import annotations

import io

import pytest

from adapters.console.poster import ConsolePoster
from bot.events import Queued
from bot.model import Platform
from commands.render import ordinal, queue_line, status_text
from tests.storage.storage_testkit import make_job

ORDINALS = [
    "1st",
    "2nd",
    "3rd",
    "4th",
    "11th",
    "12th",
    "13th",
    "21st",
    "22nd",
    "23rd",
    "101st",
    "111th",
    "112th",
]


@pytest.mark.parametrize("text", ORDINALS)
def test_ordinals(text: str) -> None:
    assert ordinal(int(text[:-2])) == text


def test_the_queue_line_counts_from_one_and_says_how_long_it_waited() -> None:
    assert queue_line(0, 0) == "1st in fal's queue, waiting under a minute"
    assert queue_line(1, 3) == "2nd in fal's queue, waiting 3 min"
    assert queue_line(2, 125) == "3rd in fal's queue, waiting 2 h 5 min"
    assert queue_line(None, 4) == "in fal's queue, waiting 4 min"  # fal named no position
    assert queue_line(1, None) == "2nd in fal's queue"  # no submit time known
    job = make_job("j1")
    assert status_text(job, Queued(1, 3)).endswith("▱ 2nd in fal's queue, waiting 3 min")


async def test_the_terminal_progress_line_shows_it() -> None:
    stream = io.StringIO()
    poster = ConsolePoster(stream)
    await poster.progress(make_job("j1", platform=Platform.CONSOLE), Queued(0, 2))
    assert stream.getvalue() == "next in line · waited 2 min\n"  # fal's 0: nobody ahead
