"""`/ltx <subcommand> ...` text: the subcommand and its options, named as in commands.spec.

Options are written `key=value` or `--key value` (`--num-frames` and `--num_frames` alike);
`show` and `cancel` also take the job id as a bare word. Values stay strings for the request
model to convert and range-check, so the messages match every other platform's.

`/ltx admin <caps|limits|grant|usage|export|audit> ...` takes the options of
`commands.admin_spec.ADMIN_COMMANDS`. There, bare words are understood where they cannot be
mistaken: a choice's value (`set`, `user`, `week`), a mention (`who`), a dollar amount
(`amount`), then the required options in order, the last one taking the rest of the words
(`admin grant <@U1> 5 onboarding week`), a boolean option's name alone (`admin forget <@U1>
yes`). Mentions become member ids, integers and choices are
checked here, since the admin commands take what they are given as it is.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from adapters.slack.markup import (
    channel_id,
    readable,
    straight_quotes,
    subject_id,
)
from adapters.slack.text_values import (
    UNSET_WORDS,
    boolean_value,
    channel_value,
    integer_value,
    looks_boolean,
    user_value,
    who_value,
)
from bot.errors import InvalidRequest
from commands.admin_spec import ADMIN_COMMANDS
from commands.options import CommandSpec, OptionKind, OptionSpec
from commands.sheets import ACTIONS as SHEET_ACTIONS
from commands.sheets import NAME_RULE
from commands.spec import COMMANDS

# Subcommands typed after /ltx; `generate` needs a file, so it goes through the modal instead.
TEXT_COMMANDS = ("estimate", "budget", "history", "show", "cancel", "sheets")
ADMIN = "admin"
ADMIN_SUBCOMMANDS = tuple(name.split(" ", 1)[1] for name in ADMIN_COMMANDS)
_DOLLARS = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?$|^[-+]?\$?\.\d+$")
_NO_CAP_WORDS = {"none", "uncapped", "unlimited"}
USAGE = (
    "*Usage*\n"
    "`/ltx` opens the form (attach a reference sheet, write a prompt, pick options)\n"
    "`/ltx <prompt>` opens the form with that prompt\n"
    "`/ltx estimate num_frames=241 resolution=1280x720` prices a video\n"
    "`/ltx budget` · `/ltx history` · `/ltx show <job>` · `/ltx cancel <job>`\n"
    "`/ltx sheet` opens a form to compose a sheet from 1 to 6 pictures, then Generate or Draft\n"
    "`/ltx sheets` lists the team's saved sheets · `/ltx sheets save <name>` opens a form for "
    "the file · `/ltx sheets delete <name>` (the form's Saved sheet field uses one)\n"
    "`/ltx admin` lists the admin commands (workspace admins)"
)
ADMIN_USAGE = "\n".join(
    [
        "*Admin commands* (workspace admins and owners; answers are only shown to you)",
        *(
            f"`/ltx {name}` {spec.description.removesuffix(' (admins)')}"
            + (f": {', '.join(o.name for o in spec.options)}" if spec.options else "")
            for name, spec in ADMIN_COMMANDS.items()
        ),
        'e.g. `/ltx admin caps set user @alice 25 week reason="video lead"` · '
        "`/ltx admin limits confirm_above=2` · `/ltx admin grant pool 50 offsite` · "
        "`/ltx admin usage week` (the chart and the CSV come in a direct message)",
    ]
)


@dataclass(frozen=True, slots=True)
class TextCommand:
    """What the user typed: a known subcommand and its options, or a prompt for the modal."""

    name: str | None  # None: no subcommand (open the modal); "help", "admin help" for usage
    options: dict[str, object] = field(default_factory=dict)
    prompt: str = ""


def parse_text(text: str) -> TextCommand:
    """Split `/ltx` text; raises InvalidRequest with one sentence per problem."""
    text = straight_quotes(text.strip())
    if not text:
        return TextCommand(None)
    try:
        words = shlex.split(text)
    except ValueError:  # an apostrophe in "Bob's lead": take the words as they are
        words = text.split()
    head = words[0].lower() if words else ""
    if head in {"help", "-h", "--help"}:
        return TextCommand("help")
    if head == ADMIN:
        return _admin(words[1:])
    if head == "sheets":
        return _sheets(words[1:])
    if head not in TEXT_COMMANDS:
        # Anything else is a prompt: slash commands cannot carry files, so the form opens.
        return TextCommand(None, prompt=readable(text))
    return TextCommand(head, _options(COMMANDS[head], words[1:]))


def _sheets(words: list[str]) -> TextCommand:
    """`sheets [list|save|delete] [name]`: bare words, as the terminal takes them."""
    action = words[0].lower() if words else "list"
    if action not in SHEET_ACTIONS:
        raise InvalidRequest([f"sheets takes {', '.join(SHEET_ACTIONS)} (got {words[0]!r})"])
    if len(words) > 2:
        raise InvalidRequest([f"a sheet's name is one word ({NAME_RULE})"])
    return TextCommand("sheets", {"action": action, **({"name": words[1]} if words[1:] else {})})


def _admin(words: list[str]) -> TextCommand:
    sub = words[0].lower() if words else ""
    if sub in {"", "help", "-h", "--help"}:
        return TextCommand("admin help")
    name = f"{ADMIN} {sub}"
    if name not in ADMIN_COMMANDS:
        raise InvalidRequest(
            [f"{sub} is not an admin command; they are: {', '.join(ADMIN_SUBCOMMANDS)}"]
        )
    spec = ADMIN_COMMANDS[name]
    return TextCommand(name, _checked(spec, _options(spec, words[1:], admin=True)))


def _options(spec: CommandSpec, words: list[str], *, admin: bool = False) -> dict[str, object]:
    specs = {o.name: o for o in spec.options if not o.restricted}
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
                option = specs.get(key)
                takes_value = option is None or option.kind is not OptionKind.BOOLEAN
                next_is_value = index < len(words) and not words[index].startswith("--")
                if takes_value or (next_is_value and looks_boolean(words[index])):
                    if index >= len(words):
                        problems.append(f"--{key} needs a value")
                        continue
                    value, index = words[index], index + 1
                else:
                    value = "true"  # a bare boolean flag
        elif "=" in word and not word.startswith("<"):
            key, _, value = word.partition("=")
            key = key.replace("-", "_")
        else:
            bare.append(word)
            continue
        if key not in specs:
            known = ", ".join(sorted(specs)) or "none"
            problems.append(f"{key} is not an option of {spec.name}; the options are: {known}")
            continue
        # Admin values are checked (mentions to ids) after; others are plain text from here.
        options[key] = value if admin else readable(value)
    if admin:
        bare = _place_bare(specs, options, bare)
    elif bare and "job" in specs and "job" not in options and len(bare) == 1:
        options["job"], bare = bare[0], []
    if bare:
        problems.append(f"did not understand {' '.join(bare)!r}; write options as key=value")
    missing = [name for name, o in specs.items() if o.required and name not in options]
    problems += [f"{name} is required: `/ltx {spec.name} <{name}>`" for name in missing]
    if problems:
        raise InvalidRequest(problems)
    return options


def _place_bare(
    specs: dict[str, OptionSpec], options: dict[str, object], bare: list[str]
) -> list[str]:
    """Give bare words to the options they can only mean; returns the words left over."""
    left: list[str] = []

    def free(name: str) -> bool:
        return name in specs and name not in options

    for word in bare:
        lower = word.lower()
        choice = next(
            (
                o.name
                for o in specs.values()
                if free(o.name) and o.kind is OptionKind.CHOICE and lower in o.choices
            ),
            None,
        )
        if free("amount") and (_DOLLARS.match(word) or lower in _NO_CAP_WORDS):
            options["amount"] = word
        elif choice is not None:
            options[choice] = lower
        elif free("who") and (word.startswith(("<@", "<!subteam", "@")) or subject_id(word)):
            options["who"] = word
        elif free("user") and (word.startswith(("<@", "@")) or subject_id(word)):
            options["user"] = word  # `admin forget <@U1>`
        elif free(lower) and specs[lower].kind is OptionKind.BOOLEAN:
            options[lower] = "true"  # `admin forget <@U1> yes`: a flag's name alone sets it
        elif free("channel") and (word.startswith(("<#", "#")) or channel_id(word)):
            options["channel"] = word
        elif free("channel") and lower in UNSET_WORDS and options.get("action") == "admin":
            options["channel"] = lower  # `admin channel admin none`: no admin channel
        else:
            left.append(word)
    missing = [name for name, o in specs.items() if o.required and name not in options]
    for position, name in enumerate(missing):
        if not left:
            break
        if position == len(missing) - 1:  # the last one (a reason) takes the rest
            options[name], left = " ".join(left), []
        else:
            options[name] = left.pop(0)
    return left


def _checked(spec: CommandSpec, options: dict[str, object]) -> dict[str, object]:
    """Admin values as the admin commands expect them: ids, ints, known choices, plain text."""
    specs = {o.name: o for o in spec.options}
    problems: list[str] = []
    checked: dict[str, object] = {}
    for name, raw in options.items():
        option, value = specs[name], str(raw)
        if name == "who":
            checked[name] = who_value(spec, options, value, problems)
        elif name == "user":
            checked[name] = user_value(value, problems)
        elif name == "channel":
            checked[name] = channel_value(value, problems)
        elif option.kind is OptionKind.INTEGER:
            checked[name] = integer_value(option, value, problems)
        elif option.kind is OptionKind.BOOLEAN:
            checked[name] = boolean_value(option, value, problems)
        elif option.kind is OptionKind.CHOICE and not option.free_text:
            if value.lower() not in option.choices:
                problems.append(f"{name} is one of {', '.join(option.choices)} (got {value!r})")
            checked[name] = value.lower()
        else:
            checked[name] = readable(value)
    if problems:
        raise InvalidRequest(problems)
    return checked
