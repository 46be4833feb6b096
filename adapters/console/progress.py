"""The terminal's progress lines, one per job: drawn live by rich on a terminal, as plain
lines (one per change, no control codes) when the stream is a pipe or a file.

rich lays the line out to the terminal's width (the status is cut with an ellipsis rather
than wrapped), draws the bar, and hides and restores the cursor. It refreshes only when an
event comes (`auto_refresh=False`): no thread redraws behind the event loop's back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Column

from adapters.console.progress_words import Step


class ProgressLines:
    """One line per job, updated in place on a terminal, else appended when it changes."""

    def __init__(self, stream: TextIO, console: Console | None = None, *, held: bool = False):
        self.stream = stream
        self.console = console or Console(file=stream, highlight=False)
        # Held back: kept until `release`, so the command's own first words (on stdout, maybe
        # the same terminal) come out before a live line starts below them.
        self._held: list[Callable[[], None]] | None = [] if held else None
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._open: set[str] = set()
        self._last: dict[str, str] = {}

    @property
    def live(self) -> bool:
        return self.console.is_terminal

    def release(self) -> None:
        """Draw what was held back, and from now on as it comes."""
        held, self._held = self._held or [], None
        for draw in held:
            draw()

    def show(self, job_id: str, step: Step) -> None:
        if self._held is not None:
            self._held.append(lambda: self.show(job_id, step))
            return
        if not self.live:
            self._plain(job_id, step.plain())
            return
        progress = self._progress or self._start()
        percent, left = step.percent(), step.time_left()
        total = None if step.fraction is None else 1.0  # None: rich's bar pulses
        completed = step.fraction or 0.0
        if job_id not in self._tasks:
            self._tasks[job_id] = progress.add_task(
                step.status, total=total, percent=percent, left=left
            )
            self._open.add(job_id)
        task = self._tasks[job_id]
        progress.update(
            task,
            description=step.status,
            total=total,
            completed=completed,
            percent=percent,
            left=left,
        )
        progress.refresh()
        if step.ended:
            self._open.discard(job_id)
            if not self._open:
                self.close()  # the last line stays; what follows prints below it

    def say(self, text: str) -> None:
        """A sentence below the progress lines (it may wrap: it is not redrawn)."""
        if self._held is not None:
            self._held.append(lambda: self.say(text))
            return
        if self.live:
            self.console.print(text, markup=False, highlight=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Stop drawing (restores the cursor); a later job starts a new set of lines."""
        self.release()  # nothing that was said is lost
        if self._progress is not None:
            self._progress.stop()
        self._progress, self._tasks = None, {}

    def _start(self) -> Progress:
        self._progress = Progress(
            BarColumn(bar_width=12),
            TextColumn("{task.fields[percent]}", table_column=Column(width=4, no_wrap=True)),
            TextColumn("{task.fields[left]}", table_column=Column(no_wrap=True)),
            TextColumn(
                "{task.description}",
                markup=False,
                table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
            ),
            console=self.console,
            auto_refresh=False,
            expand=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()
        return self._progress

    def _plain(self, job_id: str, line: str) -> None:
        if self._last.get(job_id) == line:
            return
        self._last[job_id] = line
        self.stream.write(line + "\n")
        self.stream.flush()
