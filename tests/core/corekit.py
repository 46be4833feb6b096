"""A core with real SQLite storage and a runner that only records what it is asked."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from bot.events import Cancelled
from bot.jobs.record import Job
from bot.model import Actor, Attachment, Invocation, Place, Platform
from bot.money import Money
from commands import Commands
from commands.context import Services
from tests.clocks import Clock


@dataclass
class RecordingRunner:
    started: list[Job] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    cancel_outcome: Cancelled | None = field(
        default_factory=lambda: Cancelled(Money.usd("0.4020525"))
    )

    async def start(self, job: Job) -> None:
        self.started.append(job)

    async def cancel(self, job_id: str) -> Cancelled | None:
        self.cancelled.append(job_id)
        return self.cancel_outcome


@dataclass
class CoreKit:
    commands: Commands
    services: Services
    runner: RecordingRunner
    clock: Clock

    def invoke(self, command: str, actor: Actor | None = None, attachment=None, **options):
        actor = actor or ALICE
        place = Place(actor.platform, actor.scope, "C1")
        return self.commands.dispatch(
            Invocation(command, actor, place, dict(options), attachment=attachment)
        )


ALICE = Actor(Platform.DISCORD, "G1", "alice", "Alice")
BOB = Actor(Platform.DISCORD, "G1", "bob", "Bob")
ADMIN = Actor(Platform.DISCORD, "G1", "root", "Root", is_admin=True)


def png_attachment(width: int = 1536, height: int = 896, name: str = "sheet.png") -> Attachment:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    data = buffer.getvalue()

    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    return Attachment(name, "image/png", len(data), read)
