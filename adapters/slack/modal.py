"""The `/ltx` form: a Block Kit modal built from commands.spec, and its submission read back.

Every request option becomes a proper input (number inputs with the endpoint's ranges, static
selects for choices, a checkbox for each switch); block ids are `opt_<name>` so an error from
the request model lands under the input it is about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.errors import InvalidRequest
from bot.model import JSON, JSONObject, Payload
from bot.request_parsing import parse_request
from commands.options import OptionKind, OptionSpec, number_text
from commands.spec import PROMPT, REQUEST_OPTIONS, SHEET

CALLBACK_ID = "ltx_generate"
FILETYPES = ("png", "jpg", "jpeg", "webp")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
SHEET_BLOCK, PROMPT_BLOCK, CHANNEL_BLOCK, PRICE_BLOCK = "sheet", "prompt", "channel", "price"
OPTION_PREFIX = "opt_"
# Inputs that change the price: editing them asks for a fresh quote (block_actions).
PRICED = frozenset({"num_frames", "duration", "resolution", "frames_per_second"})
MODAL_OPTIONS = tuple(spec for spec in REQUEST_OPTIONS if not spec.restricted)


@dataclass(frozen=True, slots=True)
class SheetRef:
    """A file already chosen (the message shortcut): what the form carries in its metadata."""

    id: str
    name: str
    mimetype: str | None
    size: int | None
    url: str

    @classmethod
    def from_file(cls, file: Payload) -> SheetRef:
        url = file.get("url_private_download") or file.get("url_private") or ""
        return cls(
            file.get("id", ""),
            file.get("name") or "sheet",
            file.get("mimetype"),
            file.get("size"),
            url,
        )


def _text(text: str, limit: int = 75) -> JSONObject:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


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
        options: list[JSON] = [
            {"text": _text(choice), "value": choice} for choice in spec.choices[:100]
        ]
        return {
            "type": "static_select",
            "options": options,
            "placeholder": _text("default"),
            **action,
        }
    if spec.kind is OptionKind.BOOLEAN:
        option: JSONObject = {"text": _text("on"), "value": "on"}
        element = {"type": "checkboxes", "options": [option], **action}
        if spec.default is True:  # unticked means False, so the box starts at the default
            element["initial_options"] = [option]
        return element
    text: JSONObject = {"type": "plain_text_input", **action}
    if spec.max_length is not None:
        text["max_length"] = spec.max_length
    return text


def option_block(spec: OptionSpec) -> JSONObject:
    block: JSONObject = {
        "type": "input",
        "block_id": OPTION_PREFIX + spec.name,
        "optional": True,
        "label": _text(spec.name.replace("_", " ")),
        "hint": _text(spec.description, 2000),
        "element": _element(spec),
    }
    if spec.name in PRICED:
        block["dispatch_action"] = True
    return block


def generate_modal(
    *,
    channel_id: str | None,
    thread_ts: str | None = None,
    prompt: str = "",
    sheet: SheetRef | None = None,
    price: str | None = None,
) -> JSONObject:
    """The form; `price` is the quote for the options as they stand (shown and on the button)."""
    blocks: list[JSON] = []
    if sheet is not None:
        note = f"Using *{sheet.name}* from that message (or attach another below)."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": note}})
    blocks.append(
        {
            "type": "input",
            "block_id": SHEET_BLOCK,
            "optional": sheet is not None,
            "label": _text("Reference sheet"),
            "hint": _text(SHEET.description, 2000),
            "element": {
                "type": "file_input",
                "action_id": "sheet",
                "filetypes": list(FILETYPES),
                "max_files": 1,
            },
        }
    )
    prompt_element: JSONObject = {
        "type": "plain_text_input",
        "action_id": "prompt",
        "multiline": True,
        "max_length": PROMPT.max_length,
    }
    if prompt:
        prompt_element["initial_value"] = prompt[: PROMPT.max_length]
    blocks.append(
        {
            "type": "input",
            "block_id": PROMPT_BLOCK,
            "label": _text("Prompt"),
            "hint": _text(PROMPT.description, 2000),
            "element": prompt_element,
        }
    )
    channel: JSONObject = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel["initial_conversation"] = channel_id
    else:
        channel["default_to_current_conversation"] = True
    blocks.append(
        {"type": "input", "block_id": CHANNEL_BLOCK, "label": _text("Post in"), "element": channel}
    )
    blocks.append({"type": "header", "text": _text("Options (all optional)")})
    blocks.extend(option_block(spec) for spec in MODAL_OPTIONS)
    note = f"Price: *{price}*, held when you submit." if price else "Price: shown once valid."
    blocks.append(
        {"type": "context", "block_id": PRICE_BLOCK, "elements": [{"type": "mrkdwn", "text": note}]}
    )
    metadata = {"c": channel_id, "t": thread_ts, "f": None if sheet is None else vars_of(sheet)}
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _text("Animate with LTX", 24),
        "submit": _text(f"Generate ({price})" if price else "Generate", 24),
        "close": _text("Cancel", 24),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks,
    }


def vars_of(sheet: SheetRef) -> JSONObject:
    return {
        "id": sheet.id,
        "name": sheet.name,
        "mimetype": sheet.mimetype,
        "size": sheet.size,
        "url": sheet.url,
    }


@dataclass
class Submission:
    """A submitted (or edited) form, read back into command options."""

    options: dict[str, object] = field(default_factory=dict)
    sheet: SheetRef | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_view(view: Payload, *, max_sheet_bytes: int) -> Submission:
    """Options, the chosen file and channel, and per-block errors fit for response_action."""
    values: Payload = (view.get("state") or {}).get("values") or {}
    meta = _metadata(view)
    sub = Submission(channel_id=meta.get("c"), thread_ts=meta.get("t"))
    if meta.get("f"):
        sub.sheet = SheetRef(**meta["f"])
    files = (values.get(SHEET_BLOCK, {}).get("sheet") or {}).get("files") or []
    if files:
        sub.sheet = SheetRef.from_file(files[0])
    prompt = (values.get(PROMPT_BLOCK, {}).get("prompt") or {}).get("value")
    if prompt:
        sub.options["prompt"] = prompt
    chosen = (values.get(CHANNEL_BLOCK, {}).get("channel") or {}).get("selected_conversation")
    if chosen and chosen != sub.channel_id:
        sub.channel_id, sub.thread_ts = chosen, None  # another channel: not that thread
    for spec in MODAL_OPTIONS:
        state = values.get(OPTION_PREFIX + spec.name, {}).get(spec.name)
        value = _value(spec, state)
        if value is not None:
            sub.options[spec.name] = value
    sub.errors = _check(sub, max_sheet_bytes)
    return sub


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


def _check(sub: Submission, max_sheet_bytes: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    sheet = sub.sheet
    if sheet is None:
        errors[SHEET_BLOCK] = "Attach a reference sheet (PNG, JPEG or WebP)."
    elif sheet.mimetype and sheet.mimetype not in IMAGE_TYPES:
        errors[SHEET_BLOCK] = f"{sheet.name} is {sheet.mimetype}; use a PNG, JPEG or WebP image."
    elif sheet.size is not None and sheet.size > max_sheet_bytes:
        errors[SHEET_BLOCK] = (
            f"{sheet.name} is {sheet.size / 1e6:.1f} MB; sheets can be at most "
            f"{max_sheet_bytes / 1e6:.0f} MB."
        )
    if not sub.channel_id:
        errors[CHANNEL_BLOCK] = "Choose a channel to post the video in."
    try:
        parse_request(sub.options)
    except InvalidRequest as problem:
        for sentence in problem.problems:
            errors.setdefault(block_for(sentence), sentence)
    return errors


def block_for(sentence: str) -> str:
    """The input a request-model sentence is about ("num_frames = 5 is out of range...")."""
    word = sentence.split(" ", 1)[0].split(".", 1)[0]
    if word == "give":  # "give either duration or num_frames, not both"
        return OPTION_PREFIX + "duration"
    if any(spec.name == word for spec in MODAL_OPTIONS):
        return OPTION_PREFIX + word
    return PROMPT_BLOCK


def refreshed_modal(view: Payload, price: str | None) -> JSONObject:
    """The same form with a new price (block ids unchanged, so Slack keeps what was typed)."""
    meta = _metadata(view)
    values = (view.get("state") or {}).get("values") or {}
    prompt = (values.get(PROMPT_BLOCK, {}).get("prompt") or {}).get("value") or ""
    sheet = SheetRef(**meta["f"]) if meta.get("f") else None
    return generate_modal(
        channel_id=meta.get("c"), thread_ts=meta.get("t"), prompt=prompt, sheet=sheet, price=price
    )


def _metadata(view: Payload) -> Payload:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
