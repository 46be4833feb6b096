"""The `/ltx` and `/ltx-admin` groups and their typed options, built from `commands.spec.COMMANDS`.

discord.py reads a command's options from its callback's signature, so each subcommand gets a
generated signature: `Range[int, lo, hi]` for bounded numbers, `Choice`s for enums, autocomplete
for options that also take free text (resolution), `discord.Attachment` for the sheet.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Choice

from commands.admin_spec import ADMIN_COMMANDS
from commands.options import CommandSpec, OptionKind, OptionSpec
from commands.spec import COMMANDS

Run = Callable[[discord.Interaction, str, dict[str, object]], Awaitable[None]]
GROUP = "ltx"
ADMIN_GROUP = "ltx-admin"
MAX_CHOICES = 25
MAX_TEXT = 6000  # Discord's own bound on a string option's max_length
# The options that name one of the scope's saved sheets: suggested as the user types.
SAVED_NAMES = {("generate", "sheet_name"), ("sheets", "name")}


def annotation(option: OptionSpec) -> object:
    """The type discord.py reads the option's kind and range from."""
    low, high = option.minimum, option.maximum
    match option.kind:
        case OptionKind.INTEGER:
            if low is None and high is None:
                return int
            return app_commands.Range[int, _int(low), _int(high)]
        case OptionKind.NUMBER:
            if low is None and high is None:
                return float
            return app_commands.Range[float, _float(low), _float(high)]
        case OptionKind.BOOLEAN:
            return bool
        case OptionKind.ATTACHMENT:
            return discord.Attachment
        case OptionKind.CHOICE if not option.free_text:
            return app_commands.Choice[str]
        case _ if option.max_length is not None:  # Discord stops longer text before sending
            return app_commands.Range[str, None, min(option.max_length, MAX_TEXT)]
        case _:
            return str


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def subcommand(
    spec: CommandSpec, run: Run, name: str | None = None, names: Suggest | None = None
) -> app_commands.Command[app_commands.Group, ..., None]:
    """The subcommand of `spec`; `names` suggests the scope's saved sheets where a saved
    sheet is named (generate's `sheet_name`, `sheets`' `name`)."""

    async def callback(interaction: discord.Interaction, **values: object) -> None:
        await run(interaction, spec.name, values)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in spec.options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation(option),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    # discord.py reads a command's options off its callback's signature; functions have no
    # typed __signature__ attribute.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__name__ = spec.name
    described = app_commands.describe(**{o.name: o.description[:100] for o in spec.options})
    callback = described(callback)
    choices = {
        o.name: [app_commands.Choice(name=c, value=c) for c in o.choices[:MAX_CHOICES]]
        for o in spec.options
        if o.kind is OptionKind.CHOICE and not o.free_text
    }
    if choices:
        callback = app_commands.choices(**choices)(callback)
    free = {o.name: _suggest(o.choices) for o in spec.options if o.free_text and o.choices}
    if names is not None:
        free |= {o.name: names for o in spec.options if (spec.name, o.name) in SAVED_NAMES}
    if free:
        callback = app_commands.autocomplete(**free)(callback)
    return app_commands.Command(
        name=name or spec.name, description=spec.description[:100], callback=callback
    )


# Any, Any: discord.py's autocomplete callbacks return `Coroutine[Any, Any, list[Choice]]`.
Suggest: TypeAlias = Callable[[discord.Interaction, str], Coroutine[Any, Any, list[Choice[str]]]]


def _suggest(values: tuple[str, ...]) -> Suggest:
    async def suggest(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        found = [app_commands.Choice(name=v, value=v) for v in values if typed in v.lower()]
        if typed and typed not in (v.lower() for v in values):
            found.insert(0, app_commands.Choice(name=current[:100], value=current[:100]))
        return found[:MAX_CHOICES]

    return suggest


def ltx_group(run: Run, names: Suggest | None = None) -> app_commands.Group:
    """One `/ltx` group, usable in servers only, with a subcommand per spec entry."""
    group = app_commands.Group(
        name=GROUP, description="Make short videos with LTX-2.3", guild_only=True
    )
    for spec in COMMANDS.values():
        group.add_command(subcommand(spec, run, names=names))
    return group


def admin_group(run: Run) -> app_commands.Group:
    """`/ltx-admin caps ...`: its own top-level command, because Discord lets only top-level
    commands carry default member permissions (Manage Server here, so members do not see it).
    Server admins may grant it to others, so the commands still refuse non-admins
    (Actor.is_admin)."""
    admin = app_commands.Group(
        name=ADMIN_GROUP,
        description="Budget caps, grants, usage (Manage Server or the admin role)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    for name, spec in ADMIN_COMMANDS.items():  # "admin caps" -> /ltx-admin caps
        admin.add_command(subcommand(spec, run, name=name.split(" ", 1)[-1]))
    return admin
