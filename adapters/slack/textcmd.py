"""`/ltx <subcommand> ...` text: the subcommand and its options, named as in commands.spec.

Options are written `key=value` or `--key value` (`--num-frames` and `--num_frames` alike);
`show` and `cancel` also take the job id as a bare word. Values stay strings: the request
model converts and range-checks them, so the messages match every other platform's.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from bot.errors import InvalidRequest
from commands.spec import COMMANDS, OptionKind

# Subcommands typed after /ltx; `generate` needs a file, so it goes through the modal instead.
TEXT_COMMANDS = ("estimate", "budget", "history", "show", "cancel")
USAGE = (
    "*Usage*\n"
    "`/ltx` opens the form (attach a reference sheet, write a prompt, pick options)\n"
    "`/ltx <prompt>` opens the form with that prompt\n"
    "`/ltx estimate num_frames=241 resolution=1280x720` prices a video\n"
    "`/ltx budget` · `/ltx history` · `/ltx show <job>` · `/ltx cancel <job>`"
)


@dataclass(frozen=True, slots=True)
class TextCommand:
    """What the user typed: a known subcommand and its options, or a prompt for the modal."""

    name: str | None  # None: no subcommand (open the modal), "help" for usage
    options: dict[str, object] = field(default_factory=dict)
    prompt: str = ""


def parse_text(text: str) -> TextCommand:
    """Split `/ltx` text; raises InvalidRequest with one sentence per problem."""
    text = text.strip()
    if not text:
        return TextCommand(None)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    head = words[0].lower() if words else ""
    if head in {"help", "-h", "--help"}:
        return TextCommand("help")
    if head not in TEXT_COMMANDS:
        # Anything else is a prompt: slash commands cannot carry files, so the form opens.
        return TextCommand(None, prompt=text)
    return TextCommand(head, _options(head, words[1:]))


def _options(command: str, words: list[str]) -> dict[str, object]:
    specs = {spec.name: spec for spec in COMMANDS[command].options if not spec.restricted}
    options: dict[str, object] = {}
    problems: list[str] = []
    bare: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--"):
            key, sep, value = word[2:].partition("=")
            key = key.replace("-", "_")
            if not sep:
                spec = specs.get(key)
                takes_value = spec is None or spec.kind is not OptionKind.BOOLEAN
                next_is_value = index < len(words) and not words[index].startswith("--")
                if takes_value or (next_is_value and _looks_boolean(words[index])):
                    if index >= len(words):
                        problems.append(f"--{key} needs a value")
                        continue
                    value, index = words[index], index + 1
                else:
                    value = "true"  # a bare boolean flag
        elif "=" in word:
            key, _, value = word.partition("=")
            key = key.replace("-", "_")
        else:
            bare.append(word)
            continue
        if key not in specs:
            known = ", ".join(sorted(specs)) or "none"
            problems.append(f"{key} is not an option of {command}; the options are: {known}")
            continue
        options[key] = value
    if bare:
        if "job" in specs and "job" not in options and len(bare) == 1:
            options["job"] = bare[0]
        else:
            problems.append(f"did not understand {' '.join(bare)!r}; write options as key=value")
    missing = [name for name, spec in specs.items() if spec.required and name not in options]
    problems += [f"{name} is required: `/ltx {command} <{name}>`" for name in missing]
    if problems:
        raise InvalidRequest(problems)
    return options


def _looks_boolean(word: str) -> bool:
    return word.lower() in {"true", "false", "yes", "no", "on", "off", "1", "0"}
