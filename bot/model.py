"""Small frozen types that cross the boundary between adapters, commands and the core.

Adapters build `Actor`, `Place` and `Attachment` from platform events and render `Reply`;
none of them carries a platform object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeAlias


class Platform(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"
    CONSOLE = "console"

    @property
    def scope_word(self) -> str:
        """What people here call the scope a budget belongs to: a Discord server, a Slack
        workspace, the terminal's team."""
        return _SCOPE_WORDS[self]

    def command(self, name: str, **options: object) -> str:
        """`name` ("admin grant") as people type it here, with `options` in its syntax:
        `/ltx-admin grant who:pool` on Discord (admin commands are their own command there),
        `/ltx admin grant who=pool` on Slack, `ltxbot admin grant --who pool` on the terminal."""
        if self is Platform.CONSOLE:
            words = [f"ltxbot {name}"]
            for key, value in options.items():
                flag = "--" + key.replace("_", "-")
                if isinstance(value, bool):
                    words.append(flag if value else "--no-" + flag[2:])
                else:
                    words.append(f"{flag} {value}")
            return " ".join(words)
        head = "ltx " + name
        if self is Platform.DISCORD and name.startswith("admin "):
            head = "ltx-admin " + name.removeprefix("admin ")
        sep = ":" if self is Platform.DISCORD else "="
        words = ["/" + head] + [f"{k}{sep}{_chat_value(v)}" for k, v in options.items()]
        return " ".join(words)


def scope_word_of(scope_key: str) -> str:
    """The scope word for a ledger scope ("discord:G1" -> "server"); "team" when unknown."""
    try:
        return Platform(scope_key.partition(":")[0]).scope_word
    except ValueError:
        return _SCOPE_WORDS[Platform.CONSOLE]


_SCOPE_WORDS = {Platform.DISCORD: "server", Platform.SLACK: "workspace", Platform.CONSOLE: "team"}


def _chat_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: a user within a scope (Discord guild, Slack workspace, or the console)."""

    platform: Platform
    scope: str
    user_id: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    is_admin: bool = False

    @property
    def account(self) -> str:
        """The ledger's name for this user's budget: "platform:scope:user"."""
        return f"{self.platform.value}:{self.scope}:{self.user_id}"

    @property
    def scope_key(self) -> str:
        """The ledger's name for the whole team's pool: "platform:scope"."""
        return f"{self.platform.value}:{self.scope}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where the conversation happens; the job's messages go back here."""

    platform: Platform
    scope: str
    channel_id: str
    thread_id: str | None = None
    out_path: str | None = None  # the terminal's: the file its video goes to (`--out`)
    # The adapter's verdict: why a job's result could not be posted here (its sentence names
    # what is missing, in the platform's words); None when it can. Nothing is held while set.
    delivery_problem: str | None = None
    # The same for a video only a posted file can bring (sync_mode: no link to post instead).
    attach_problem: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the platform handed us; `read()` fetches at most `limit` bytes."""

    file_name: str
    content_type: str | None
    size: int | None
    read: Callable[[int], Awaitable[bytes]]
    # A sheet composed from labelled pictures: its "Reference sheet: ..." sentence, which
    # generate puts before the prompt (None: an uploaded sheet, whose panels nobody named).
    prompt_prefix: str | None = None

    @classmethod
    def from_path(cls, path: Path) -> Attachment:
        import asyncio
        import mimetypes
        import os

        async def read(limit: int) -> bytes:
            def load() -> bytes:
                with path.open("rb") as handle:
                    # read(n) allocates n bytes up front: ask for no more than the file holds
                    size = os.fstat(handle.fileno()).st_size
                    return handle.read(min(limit, size) + 1)

            return await asyncio.to_thread(load)

        content_type, _ = mimetypes.guess_type(path.name)
        return cls(path.name, content_type, path.stat().st_size, read)


class ButtonAction(StrEnum):
    CANCEL = "cancel"
    REROLL = "reroll"
    FINAL = "final"  # a draft's: the same request and seed at the full size
    DETAILS = "details"
    CONFIRM = "confirm"
    ABORT = "abort"
    # Approvals: the requester asks, an admin approves or denies (the id is the job's).
    REQUEST_APPROVAL = "ask_approval"
    APPROVE = "approve"
    DENY = "deny"
    # A composed sheet's (`/ltx sheet`): the id is the sheet's SHA-256, not a job's. Each
    # opens a prompt form in the adapter, whose submit runs generate with that sheet.
    SHEET_GENERATE = "sheet_generate"
    SHEET_DRAFT = "sheet_draft"
    SHEET_SAVE = "sheet_save"  # its form asks for a name, then runs `sheets save`


@dataclass(frozen=True, slots=True)
class Button:
    action: ButtonAction
    job_id: str
    label: str
    danger: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A platform-neutral answer to a command."""

    text: str
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = True
    file: Path | None = None
    file_name: str | None = None  # what the user sees the file as (None: its own name)
    job_id: str | None = None
    # A refusal or failure (bad input, a cap, no such job): the terminal exits 1 on it.
    refused: bool = False
    # The answer as data for `--json` (json.dumps must take it): exact amounts as decimal
    # strings; a tuple is a list, one object per line. None: the text and fields say it all.
    data: Mapping[str, object] | tuple[Mapping[str, object], ...] | None = None


@dataclass(frozen=True, slots=True)
class Invocation:
    """One command call, as the adapter understood it."""

    command: str
    actor: Actor
    place: Place
    options: dict[str, object] = field(default_factory=dict)
    attachment: Attachment | None = None
    # Several files in one call (`sheet`: the pictures to compose, in order).
    attachments: tuple[Attachment, ...] = ()
    # Platform message ids the job may want later (the interaction, the user's message).
    origin_message_id: str | None = None
    # The new job's id when the adapter knows it ahead (a stored Slack form: the same id on
    # every run, so a run after a crash finds the job taken in); None: a fresh one.
    job_id: str | None = None


# JSON as it crosses the wire (Slack blocks and bodies, fal's payloads).
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, JSON]
# A parsed body read defensively (`.get()` and isinstance; shapes vary by event): its values
# stay Any, as json.loads, bolt and fal_client hand them over.
Payload: TypeAlias = dict[str, Any]
