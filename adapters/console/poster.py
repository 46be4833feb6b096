"""Progress bars and results on a terminal."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.events import Cancelled, Failed, JobEvent, Running, Succeeded
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryRoute
from commands.render import progress_bar, result_reply


class ConsolePoster:
    """Draws one progress line per job and remembers how each job ended, for the CLI to await."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream
        self._endings: dict[str, asyncio.Future[tuple[Job, JobEvent]]] = {}
        self._last_line = ""

    def ending(self, job_id: str) -> asyncio.Future[tuple[Job, JobEvent]]:
        """Resolves with (job, Succeeded | Failed | Cancelled) once the job ends."""
        return self._endings.setdefault(job_id, asyncio.get_running_loop().create_future())

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        self._draw(_line(job, event))
        if isinstance(event, Failed | Cancelled):
            self._finish(job, event)
        return f"console:{job.id}"

    async def deliver(self, job: Job, video: Path, event: JobEvent) -> Delivery:
        self._draw(_line(job, event))  # "done · $X charged"
        self.stream.write("\n")
        self._last_line = ""
        assert isinstance(event, Succeeded)
        reply = result_reply(job, event)
        lines = [reply.text.replace(f"<@{job.origin.user_id}> ", "").replace("**", "")]
        lines += [f"  {name}: {value}" for name, value in reply.fields]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self._finish(job, event)
        return Delivery(f"console:{video}", DeliveryRoute.FILE)

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Print what would be posted in a channel, with its buttons as the commands to type."""
        lines = [f"[{channel_id}] {reply.text.replace('**', '')}"]
        lines += [f"  {name}: {value}" for name, value in reply.fields]
        lines += [f"  [{b.label}] ({b.action.value} {b.job_id})" for b in reply.buttons]
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        return f"console:{channel_id}"

    def _finish(self, job: Job, event: JobEvent) -> None:
        future = self.ending(job.id)
        if not future.done():
            future.set_result((job, event))

    def _draw(self, line: str) -> None:
        if line == self._last_line:
            return
        self._last_line = line
        if self.stream.isatty():
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _line(job: Job, event: JobEvent) -> str:
    match event:
        case Running(elapsed_seconds=elapsed, fraction=fraction, log_line=log_line):
            tail = f" {log_line[:60]}" if log_line else ""
            return f"{progress_bar(fraction)} rendering {elapsed:4.0f} s{tail}"
        case Failed(reason=reason, refunded=refunded):
            return f"\nfailed: {reason} ({refunded} released)"
        case Cancelled(refunded=refunded):
            return f"\ncancelled ({refunded} released)"
        case _:
            from commands.render import status_text

            return status_text(job, event).splitlines()[-1]
