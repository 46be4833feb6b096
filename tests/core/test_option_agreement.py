"""Every request field is offered alike everywhere: the spec, the terminal's argparse, Discord's
slash options and Slack's form agree with the request model on name, kind, range, choices,
default and whether the option is required.

The expectation is read from pydantic's JSON schema of `GenerationRequest`, not from
`commands.options`, so a mistake in deriving the spec fails here too.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest

from adapters.console.cli import build_parser
from adapters.discord.slash import ltx_group
from adapters.slack.modal import generate_modal
from bot.request import GenerationRequest
from commands.admin_spec import ADMIN_COMMANDS
from commands.options import help_text
from commands.spec import COMMANDS, OptionSpec

SCHEMA = GenerationRequest.model_json_schema()
FIELDS: dict[str, dict[str, Any]] = SCHEMA["properties"]
REQUIRED = set(SCHEMA.get("required", ()))
GENERATE = COMMANDS["generate"]
SPECS = {option.name: option for option in GENERATE.options}


@dataclass(frozen=True)
class Offer:
    """How one option is offered, in the same words for every platform."""

    kind: str  # integer, number, boolean, text or choice
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None  # as the description shows it: "121", "on", "high"
    required: bool = False


def expected(name: str, *, suggestions: bool = True) -> Offer:
    """What the model says; `suggestions=False` where free text is offered as plain text."""
    field = FIELDS[name]
    members = [m for m in field.get("anyOf", [field]) if m.get("type") != "null"]
    members = [SCHEMA["$defs"][m["$ref"].rsplit("/", 1)[-1]] if "$ref" in m else m for m in members]
    enum = tuple(str(v) for m in members for v in m.get("enum", ()))
    free_text = takes_free_text(name)
    kinds = {"integer": "integer", "number": "number", "boolean": "boolean", "string": "text"}
    kind = "choice" if enum else kinds[members[0]["type"]]
    choices = (*map(str, field.get("examples", ())), *enum) if free_text else enum
    default = _shown(field.get("default"), kind)
    if free_text and not suggestions:
        kind, choices = "text", ()
    bounded = [m for m in members if "minimum" in m]
    return Offer(
        kind,
        bounded[0]["minimum"] if bounded else None,
        bounded[0]["maximum"] if bounded else None,
        choices,
        default,
        name in REQUIRED,
    )


def takes_free_text(name: str) -> bool:
    """An ImageSize typed as WIDTHxHEIGHT, besides the named sizes."""
    return any("$ref" in m and "ImageSize" in m["$ref"] for m in FIELDS[name].get("anyOf", ()))


def _shown(default: Any, kind: str) -> str | None:
    if default is None or kind == "text":  # a text default is too long for a description
        return None
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, dict):
        return f"{default['width']}x{default['height']}"
    return str(default)


def default_in(text: str) -> str | None:
    found = re.search(r"\(default ([^)]+)\)$", text)
    return found[1] if found else None


def offer_of(spec: OptionSpec) -> Offer:
    kind = "choice" if spec.choices else spec.kind.value
    shown = default_in(spec.description)
    return Offer(kind, spec.minimum, spec.maximum, spec.choices, shown, spec.required)


def test_the_spec_offers_every_field_in_the_models_order() -> None:
    names = [o.name for o in GENERATE.options if o.name in FIELDS]
    assert names == list(FIELDS)
    # draft, takes and raw_prompt: choices beside the request (commands.creative), offered last
    offered = ["sheet", "sheet_name", "prompt", "num_frames", "duration", *list(FIELDS)[2:]]
    assert [o.name for o in GENERATE.options] == [*offered, "draft", "takes", "raw_prompt"]


@pytest.mark.parametrize("name", list(FIELDS))
def test_the_spec_agrees_with_the_model(name: str) -> None:
    spec = SPECS[name]
    field = FIELDS[name]
    assert offer_of(spec) == expected(name)
    assert spec.label == field["title"]  # the words people read, written on the field
    assert spec.description.startswith(field["description"])
    assert spec.max_length == field.get("maxLength")
    assert spec.restricted == bool(field.get("restricted"))
    assert spec.free_text == takes_free_text(name)


def test_channel_presets_are_offered_as_the_request_offers_them() -> None:
    options = ADMIN_COMMANDS["admin defaults"].options
    presets = [o for o in options if o.name in FIELDS]
    assert [o.name for o in presets] == [
        "resolution",
        "num_frames",
        "video_quality",
        "generate_audio",
    ]
    for spec in presets:  # no default: leaving a preset out leaves it as it is
        assert offer_of(spec) == replace(expected(spec.name), default=None), spec.name
    clear = next(o for o in options if o.name == "clear")
    assert clear.choices == ("all", *(o.name for o in presets))


def _argparse_actions() -> dict[str, argparse.Action]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action for action in commands.choices["generate"]._actions}


def _required_group(action: argparse.Action) -> bool:
    """--prompt: required as one of --prompt / --prompt-file."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    groups = commands.choices["generate"]._mutually_exclusive_groups
    return any(g.required and action.dest in {a.dest for a in g._group_actions} for g in groups)


@pytest.mark.parametrize("name", list(FIELDS))
def test_the_terminal_flag_agrees_with_the_model(name: str) -> None:
    action = _argparse_actions()[name]
    assert action.option_strings[0] == "--" + name.replace("_", "-")
    kinds = {int: "integer", float: "number", str: "choice" if action.choices else "text"}
    boolean = isinstance(action, argparse.BooleanOptionalAction)
    metavar = str(action.metavar or "")
    low, _, high = metavar.partition("..") if ".." in metavar else ("", "", "")
    found = re.search(r"\(default ([^)]+)\)", action.help or "")  # anywhere: the range follows
    offer = Offer(
        "boolean" if boolean else kinds[action.type],  # type: ignore[index]
        float(low) if low else None,
        float(high) if high else None,
        tuple(action.choices or ()),
        found[1] if found else None,
        action.required or _required_group(action),
    )
    assert offer == expected(name, suggestions=False)
    assert action.default is None  # unset: the model's default applies
    # The help is the spec's description with its range, choices or named sizes.
    assert action.help == help_text(SPECS[name]).replace("%", "%%")
    assert action.help.startswith(SPECS[name].description)


async def run(*_: Any) -> None:
    """A slash command's callback; never called here."""


async def test_the_discord_options_agree_with_the_model() -> None:
    command = ltx_group(run).get_command("generate")
    assert command is not None
    parameters = {p.name: p for p in command.parameters}  # type: ignore[union-attr]
    # discord.py puts the required options first (Discord asks for them first); else in order.
    in_order = sorted(GENERATE.options, key=lambda o: not o.required)
    assert list(parameters) == [o.name for o in in_order]
    kinds = {"integer": "integer", "number": "number", "boolean": "boolean", "string": "text"}
    for name in FIELDS:
        parameter = parameters[name]
        choices = tuple(str(c.value) for c in parameter.choices)
        if parameter.autocomplete:  # free text with suggestions: what it suggests at first
            suggest: Any = command._params[name].autocomplete  # type: ignore[union-attr]
            choices = tuple(str(c.value) for c in await suggest(None, ""))
        kind = "choice" if choices else kinds[parameter.type.name]
        low, high = parameter.min_value, parameter.max_value
        if kind == "text":  # a string's bounds are its length: Discord's max_length
            assert high == FIELDS[name].get("maxLength"), name
            low = high = None
        offer = Offer(
            kind, low, high, choices, default_in(parameter.description), parameter.required
        )
        assert offer == expected(name), name
        assert parameter.description == SPECS[name].description  # whole: within Discord's 100
        assert len(parameter.description) <= 100


def test_the_slack_form_offers_a_typed_size_beside_the_named_ones() -> None:
    custom = _slack_blocks()["opt_resolution_custom"]
    assert custom["element"]["type"] == "plain_text_input" and custom["optional"]
    low, high = (
        SCHEMA["$defs"]["ImageSize"]["properties"]["width"][k] for k in ("minimum", "maximum")
    )
    assert f"{low} to {high}" in custom["hint"]["text"]


def _slack_blocks() -> dict[str, dict[str, Any]]:
    view = generate_modal(channel_id="C1")
    return {block["block_id"]: block for block in view["blocks"] if "block_id" in block}


@pytest.mark.parametrize("name", list(FIELDS))
def test_the_slack_input_agrees_with_the_model(name: str) -> None:
    blocks = _slack_blocks()
    block = blocks.get(name if name == "prompt" else "opt_" + name)
    if FIELDS[name].get("restricted") or name == "sync_mode":
        # offered only where an admin allows it; an inline video is nothing a chat user wants
        assert block is None
        return
    assert block is not None
    element = block["element"]
    kind = {
        "number_input": "number" if element.get("is_decimal_allowed") else "integer",
        "checkboxes": "boolean",
        "static_select": "choice",
        "plain_text_input": "text",
    }[element["type"]]
    offer = Offer(
        kind,
        float(element["min_value"]) if "min_value" in element else None,
        float(element["max_value"]) if "max_value" in element else None,
        tuple(o["value"] for o in element.get("options", ())) if kind == "choice" else (),
        default_in(block["hint"]["text"]),
        not block.get("optional", False),
    )
    assert offer == expected(name)
    assert block["label"]["text"] == FIELDS[name]["title"]
    hint = block["hint"]["text"]
    assert hint.startswith(FIELDS[name]["description"])
    if offer.minimum is not None:  # the range in the model's own numbers
        low, high = (f"{v:.15g}" for v in (offer.minimum, offer.maximum))
        assert f", {low} to {high}" in hint
    assert element.get("max_length") == FIELDS[name].get("maxLength")
    if kind == "boolean":  # an unticked box means off, so it starts at the default
        assert bool(element.get("initial_options")) == FIELDS[name]["default"]
