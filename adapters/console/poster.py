"""Progress lines and results on a terminal."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from adapters.console.progress import ProgressLines
from adapters.console.progress_words import step
from adapters.console.reply_text import plain
from bot.events import Cancelled, Failed, JobEvent, Succeeded
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute
from commands.render import SIMULATED_NOTE, result_reply


class ConsolePoster:
    """Draws one progress line per job and remembers how each job ended, for the CLI to await.
    `console`: the rich Console to draw on (tests force a terminal of a given width); `held`:
    draw nothing until `release` (the CLI prints its reply first)."""

    def __init__(
        self, stream: TextIO = sys.stderr, console: Console | None = None, *, held: bool = False
    ):
        self.stream = stream
        self.lines = ProgressLines(stream, console, held=held)
        self._endings: dict[str, asyncio.Future[tuple[Job, JobEvent]]] = {}

    def ending(self, job_id: str) -> asyncio.Future[tuple[Job, JobEvent]]:
        """Resolves with (job, Succeeded | Failed | Cancelled) once the job ends."""
        return self._endings.setdefault(job_id, asyncio.get_running_loop().create_future())

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        self.lines.show(job.id, step(job, event))
        match event:
            case Failed(reason=reason, refunded=refunded):
                self.lines.say(f"job {job.id} failed: {reason} ({refunded} released)")
                self._finish(job, event)
            case Cancelled(refunded=refunded):
                self.lines.say(f"job {job.id} was cancelled; {refunded} released")
                self._finish(job, event)
        return f"console:{job.id}"

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: DeliveryAttempt | None = None
    ) -> Delivery:
        """Print the result (the CLI saves the file: adapters.console.video_file writes it
        under a temporary name and renames it, so a crash never leaves half a video)."""
        assert isinstance(event, Succeeded)
        self.lines.show(job.id, step(job, event))  # "done · $X charged"
        reply = result_reply(job, event)
        # The simulated run was announced once when fal was opened; the Cost field says it too.
        text = reply.text.replace(f"\n{SIMULATED_NOTE}", "")
        text = text.replace(f"<@{job.origin.user_id}> ", "")
        lines = [plain(text)] + [f"  {name}: {value}" for name, value in reply.fields]
        self.lines.say("\n".join(lines))
        self._finish(job, event)
        return Delivery(f"console:{video}", DeliveryRoute.FILE)

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Print what would be posted in a channel, with its buttons as the commands to type."""
        lines = [f"[{channel_id}] {plain(reply.text)}"]
        lines += [f"  {name}: {value}" for name, value in reply.fields]
        lines += [f"  [{b.label}] ({b.action.value} {b.job_id})" for b in reply.buttons]
        self.lines.say("\n".join(lines))
        return f"console:{channel_id}"

    def release(self) -> None:
        """Start drawing, with what came while held back."""
        self.lines.release()

    def close(self) -> None:
        """Stop any live line (the cursor comes back)."""
        self.lines.close()

    def _finish(self, job: Job, event: JobEvent) -> None:
        future = self.ending(job.id)
        if not future.done():
            future.set_result((job, event))
