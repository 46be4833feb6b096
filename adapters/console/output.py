"""What `ltxbot` prints, in words or with `--json`, and the exit code it goes with.

One mechanism for every command: a Reply's text (or its `data` as JSON) goes to stdout, a
refusal to stderr (`ltxbot: ...` or `{"error": "..."}`) with exit code 1. With `--json` a list
is one object per line, and the remarks meant for a person ("saved x.mp4") are left out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from adapters.console.exit_codes import EXIT_FAILED, EXIT_OK
from adapters.console.reply_text import plain, render
from bot.model import Reply

# Once per command that opens fal, on stderr: the one place a terminal user learns it.
SIMULATED_NOTICE = "No FAL_KEY: a local simulated fal makes the videos; nothing is charged."


@dataclass
class Output:
    json: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def reply(self, reply: Reply, **extra: object) -> int:
        """Print a command's reply (`extra`: keys added to its JSON); its exit code."""
        if reply.refused:
            return self.error(plain(reply.text))
        if self.json:
            self.data(reply_data(reply), **extra)
        else:
            self.say(render(reply))
        return EXIT_OK

    def data(
        self, data: Mapping[str, object] | tuple[Mapping[str, object], ...], **extra: object
    ) -> None:
        """With --json, JSON on stdout: one object, or one per line for a list."""
        if not self.json:
            return
        if isinstance(data, tuple):
            for item in data:
                self._write(self.out, {**item, **extra})
        else:
            self._write(self.out, {**data, **extra})

    def say(self, text: str) -> None:
        """A line for a person on stdout (nothing with --json)."""
        if not self.json:
            print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A line for a person on stderr (kept with --json: stdout stays JSON)."""
        print(text, file=self.err, flush=True)

    def error(self, text: str) -> int:
        """A refusal or failure on stderr; the exit code 1."""
        if self.json:
            self._write(self.err, {"error": text})
        else:
            print(f"ltxbot: {text}", file=self.err, flush=True)
        return EXIT_FAILED

    @staticmethod
    def _write(stream: TextIO, obj: Mapping[str, object]) -> None:
        print(json.dumps(obj, default=_json_default), file=stream, flush=True)


def reply_data(reply: Reply) -> Mapping[str, object] | tuple[Mapping[str, object], ...]:
    """The reply's data, or its words as data when it has none (the message and its fields)."""
    if reply.data is not None:
        return reply.data
    fields = {plain(name): plain(value) for name, value in reply.fields}
    return {"message": plain(reply.text), **({"fields": fields} if fields else {})}


def _json_default(value: object) -> str:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
