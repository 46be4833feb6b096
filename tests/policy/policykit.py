"""A core with real SQLite storage, the policy store, an injected clock and a runner that only
records what it is asked (the policy tests' world)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from bot.events import Cancelled
from bot.jobs.record import Job
from bot.model import Actor, Attachment, ButtonAction, Invocation, Place, Platform, Reply
from bot.money import Money
from bot.ports import Delivery
from commands import Commands
from commands.context import Services
from storage import Storage
from tests.clocks import Clock


@dataclass
class RecordingRunner:
    started: list[Job] = field(default_factory=list)

    async def start(self, job: Job) -> None:
        self.started.append(job)

    async def cancel(self, job_id: str) -> Cancelled | None:
        return None


@dataclass
class Posted:
    scope: str
    channel_id: str
    reply: Reply


@dataclass
class RecordingPoster:
    """A Poster that keeps what was announced (jobs' own messages are not these tests')."""

    posts: list[Posted] = field(default_factory=list)
    broken: bool = False  # announce raises, as a platform that refuses the post

    async def progress(self, job: Job, event: object) -> str | None:
        return None

    async def deliver(
        self, job: Job, video: object, event: object, attempt: object = None
    ) -> Delivery:
        return Delivery("")

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        if self.broken:
            raise RuntimeError("missing access")
        self.posts.append(Posted(scope, channel_id, reply))
        return f"m{len(self.posts)}"

    def to(self, channel_id: str) -> list[Reply]:
        return [p.reply for p in self.posts if p.channel_id == channel_id]


@dataclass
class PolicyKit:
    commands: Commands
    services: Services
    runner: RecordingRunner
    clock: Clock
    storage: Storage  # what the services are on (tests count its statements)
    poster: RecordingPoster = field(default_factory=RecordingPoster)

    def invoke(self, command: str, actor: Actor | None = None, **options: object):
        actor = actor or ALICE
        attachment = options.pop("attachment", None)
        place = Place(actor.platform, actor.scope, "C1")
        return self.commands.dispatch(
            Invocation(command, actor, place, dict(options), attachment=attachment)  # type: ignore[arg-type]
        )

    def generate(self, actor: Actor | None = None, channel: str = "C1", **options: object):
        actor = actor or ALICE
        invocation = Invocation(
            "generate",
            actor,
            Place(actor.platform, actor.scope, channel),
            {"prompt": "a fox", **options},
            attachment=png_attachment(),
        )
        return self.commands.dispatch(invocation)

    def press(self, action: ButtonAction, job_id: str, actor: Actor | None = None):
        actor = actor or ALICE
        return self.commands.press(action, job_id, actor, Place(actor.platform, actor.scope, "C1"))

    async def in_channel(self, command: str, where: str, actor: Actor | None = None,
                         **options: object) -> Reply:  # fmt: skip
        """`command` typed in channel `where` (by the admin unless told)."""
        actor = actor or ADMIN
        place = Place(actor.platform, actor.scope, where)
        return await self.commands.dispatch(Invocation(command, actor, place, dict(options)))

    async def admin(self, command: str, **options: object) -> Reply:
        reply = await self.invoke(f"admin {command}", ADMIN, **options)
        assert "Only an admin" not in reply.text and "went wrong" not in reply.text, reply.text
        return reply

    async def finish(self, job_id: str, spent: Money) -> None:
        assert await self.services.ledger.capture(job_id=job_id, amount=spent, at=self.clock())


ALICE = Actor(Platform.DISCORD, "G1", "alice", "Alice", roles=("111",))
BOB = Actor(Platform.DISCORD, "G1", "bob", "Bob", roles=("222", "111"))
CAROL = Actor(Platform.DISCORD, "G1", "carol", "Carol")
ADMIN = Actor(Platform.DISCORD, "G1", "root", "Root", is_admin=True)
# The default request (1536x896, 121 frames) costs exactly this.
VIDEO = Money.usd("0.4020525")


def png_attachment(width: int = 192, height: int = 112) -> Attachment:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "PNG")
    data = buffer.getvalue()

    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    return Attachment("sheet.png", "image/png", len(data), read)
