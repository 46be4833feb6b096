"""The form's option inputs, built from commands.spec, and their values read back.

Each input is labelled with the option's human name ("Frames", "Guidance") and hinted with its
description, range and default (`OptionSpec.hint`), the words the other platforms use too. The
size is a select of the named sizes plus a field for a custom WIDTHxHEIGHT. Block ids are
`opt_<name>`, so an error from the request model lands under the input it is about.
"""

from __future__ import annotations

from bot.model import JSON, JSONObject, Payload
from bot.request import AUTO, MAX_SIDE, MIN_SIDE, NAMED_SIZES
from commands.options import OptionKind, OptionSpec, number_text
from commands.spec import DRAFT, RAW_PROMPT, REQUEST_OPTIONS, TAKES

OPTION_PREFIX = "opt_"
SIZE = "resolution"
CUSTOM_SIZE = "resolution_custom"  # the action id of the WIDTHxHEIGHT field beside the select
# Not in the form: sync_mode returns the video inline in fal's answer, which only makes the
# reply slower and bigger for someone who is shown the video in the channel anyway.
NOT_IN_FORM = frozenset({"sync_mode"})
FORM_OPTIONS = (
    *(spec for spec in REQUEST_OPTIONS if not spec.restricted and spec.name not in NOT_IN_FORM),
    DRAFT,
    TAKES,
    RAW_PROMPT,
)
# Inputs that change the price: editing them asks for a fresh quote (block_actions).
PRICED = frozenset(
    {"num_frames", "duration", SIZE, CUSTOM_SIZE, "frames_per_second", DRAFT.name, TAKES.name}
)


def text(value: str, limit: int = 75) -> JSONObject:
    """Slack's plain_text object, clipped to the field's limit."""
    return {
        "type": "plain_text",
        "text": value if len(value) <= limit else value[: limit - 1] + "…",
    }


def size_words(choice: str) -> str:
    """How the size select shows a choice: "square_hd · 1024x1024", "auto · the sheet's shape"."""
    if choice == AUTO:
        return "auto · the sheet's shape"
    if choice in NAMED_SIZES:
        width, height = NAMED_SIZES[choice]
        return f"{choice} · {width}x{height}"
    return choice


def _element(spec: OptionSpec) -> JSONObject:
    action: JSONObject = {"action_id": spec.name}
    if spec.kind in (OptionKind.INTEGER, OptionKind.NUMBER):
        element: JSONObject = {
            "type": "number_input",
            "is_decimal_allowed": spec.kind is OptionKind.NUMBER,
            **action,
        }
        if spec.minimum is not None:
            element["min_value"] = number_text(spec.minimum)
        if spec.maximum is not None:
            element["max_value"] = number_text(spec.maximum)
        return element
    if spec.kind is OptionKind.CHOICE:
        shown = size_words if spec.name == SIZE else str
        options: list[JSON] = [
            {"text": text(shown(choice)), "value": choice} for choice in spec.choices[:100]
        ]
        return {
            "type": "static_select",
            "options": options,
            "placeholder": text("default"),
            **action,
        }
    if spec.kind is OptionKind.BOOLEAN:
        option: JSONObject = {"text": text("on"), "value": "on"}
        element = {"type": "checkboxes", "options": [option], **action}
        if spec.default is True:  # unticked means False, so the box starts at the default
            element["initial_options"] = [option]
        return element
    field: JSONObject = {"type": "plain_text_input", **action}
    if spec.max_length is not None:
        field["max_length"] = spec.max_length
    return field


def option_block(spec: OptionSpec) -> JSONObject:
    block: JSONObject = {
        "type": "input",
        "block_id": OPTION_PREFIX + spec.name,
        "optional": True,
        "label": text(spec.label),
        "hint": text(spec.hint, 2000),
        "element": _element(spec),
    }
    if spec.name in PRICED:
        block["dispatch_action"] = True
    return block


def custom_size_block() -> JSONObject:
    """A typed WIDTHxHEIGHT, for a size the select does not list (it wins over the select)."""
    return {
        "type": "input",
        "block_id": OPTION_PREFIX + CUSTOM_SIZE,
        "optional": True,
        "label": text("Custom size"),
        "hint": text(
            f"WIDTHxHEIGHT, each side {MIN_SIDE} to {MAX_SIDE}, e.g. 1280x720; used instead of "
            "Size",
            2000,
        ),
        "dispatch_action": True,
        "element": {
            "type": "plain_text_input",
            "action_id": CUSTOM_SIZE,
            "max_length": 11,
            "placeholder": text("1280x720"),
        },
    }


def option_blocks() -> list[JSON]:
    blocks: list[JSON] = []
    for spec in FORM_OPTIONS:
        blocks.append(option_block(spec))
        if spec.name == SIZE:
            blocks.append(custom_size_block())
    return blocks


def read_options(values: Payload) -> dict[str, object]:
    """The options the form's inputs hold; a custom size replaces the chosen one."""
    options: dict[str, object] = {}
    for spec in FORM_OPTIONS:
        value = _value(spec, values.get(OPTION_PREFIX + spec.name, {}).get(spec.name))
        if value is not None:
            options[spec.name] = value
    custom = (values.get(OPTION_PREFIX + CUSTOM_SIZE, {}).get(CUSTOM_SIZE) or {}).get("value")
    if custom and str(custom).strip():
        options[SIZE] = str(custom).strip()
    return options


def _value(spec: OptionSpec, state: Payload | None) -> object:
    if not state:
        return None
    if spec.kind is OptionKind.BOOLEAN:
        return bool(state.get("selected_options"))
    if spec.kind is OptionKind.CHOICE:
        selected = state.get("selected_option")
        return selected.get("value") if selected else None
    value = state.get("value")
    return value if value not in (None, "") else None
