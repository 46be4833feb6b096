"""The `/ltx` form: a Block Kit modal built from commands.spec, and its submission read back.

Every request option a chat user wants becomes a proper input (`form_fields`: number inputs
with the endpoint's ranges, static selects for choices, a checkbox for each switch, human labels
and hints); what is wrong at submit comes back as per-block errors for `response_action`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from adapters.slack.form_fields import (
    CUSTOM_SIZE,
    FORM_OPTIONS,
    OPTION_PREFIX,
    SIZE,
    option_blocks,
    read_options,
)
from adapters.slack.form_fields import text as _text
from bot.errors import InvalidRequest
from bot.model import JSON, JSONObject, Payload
from bot.request_parsing import parse_request
from commands.creative import as_draft, split_choices
from commands.spec import DURATION, PROMPT, SHEET, SHEET_NAME

CALLBACK_ID = "ltx_generate"
FILETYPES = ("png", "jpg", "jpeg", "webp")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
SHEET_BLOCK, PROMPT_BLOCK, CHANNEL_BLOCK, PRICE_BLOCK = "sheet", "prompt", "channel", "price"
SAVED_BLOCK = "saved_sheet"  # a sheet saved for the team, by name, instead of a file
NO_SHEET = "Attach a reference sheet (PNG, JPEG or WebP) or name a saved one."


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
            "optional": True,  # a saved sheet's name will do (checked on submit)
            "label": _text(SHEET.label),
            "hint": _text(SHEET.description, 2000),
            "element": {
                "type": "file_input",
                "action_id": "sheet",
                "filetypes": list(FILETYPES),
                "max_files": 1,
            },
        }
    )
    blocks.append(
        {
            "type": "input",
            "block_id": SAVED_BLOCK,
            "optional": True,
            "label": _text(SHEET_NAME.label),
            "hint": _text(f"{SHEET_NAME.description} (`/ltx sheets` lists them)", 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": SHEET_NAME.name,
                "max_length": SHEET_NAME.max_length,
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
            "label": _text(PROMPT.label),
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
    blocks.extend(option_blocks())
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
    saved: str | None = None  # the name of a saved sheet, used instead of `sheet`
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
    saved = (values.get(SAVED_BLOCK, {}).get(SHEET_NAME.name) or {}).get("value")
    if saved and saved.strip():
        sub.saved = saved.strip()
        if files:
            sub.errors[SAVED_BLOCK] = "Attach a sheet or name a saved one, not both."
        sub.sheet = None  # the name wins over the message's file of a shortcut
    prompt = (values.get(PROMPT_BLOCK, {}).get("prompt") or {}).get("value")
    if prompt:
        sub.options["prompt"] = prompt
    chosen = (values.get(CHANNEL_BLOCK, {}).get("channel") or {}).get("selected_conversation")
    if chosen and chosen != sub.channel_id:
        sub.channel_id, sub.thread_ts = chosen, None  # another channel: not that thread
    sub.options.update(read_options(values))
    typed = (values.get(OPTION_PREFIX + CUSTOM_SIZE, {}).get(CUSTOM_SIZE) or {}).get("value")
    sub.errors |= _check(sub, max_sheet_bytes, custom_size=bool(typed and typed.strip()))
    return sub


def _check(sub: Submission, max_sheet_bytes: int, *, custom_size: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    sheet = sub.sheet
    if sheet is None:
        if sub.saved is None:
            errors[SHEET_BLOCK] = NO_SHEET
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
        options, choices = split_choices(sub.options)
        request = parse_request(options)
        if choices.draft:
            as_draft(request, options)
    except InvalidRequest as problem:
        for sentence in problem.problems:
            for block, said in form_errors(sentence, custom_size=custom_size).items():
                errors.setdefault(block, said)
    return errors


def form_errors(sentence: str, *, custom_size: bool = False) -> dict[str, str]:
    """The inputs a request-model sentence is about ("num_frames = 5 is out of range..."), and
    what to say under each."""
    word = sentence.split(" ", 1)[0].split(".", 1)[0]
    if word == "give":  # "give either duration or num_frames, not both": both inputs say so
        frames = next(spec for spec in FORM_OPTIONS if spec.name == "num_frames")
        both = f"Give {frames.label} or {DURATION.label}, not both."
        return {OPTION_PREFIX + "num_frames": both, OPTION_PREFIX + DURATION.name: both}
    if word == SIZE and custom_size:
        return {OPTION_PREFIX + CUSTOM_SIZE: sentence}
    if any(spec.name == word for spec in FORM_OPTIONS):
        return {OPTION_PREFIX + word: sentence}
    return {PROMPT_BLOCK: sentence}


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
