"""The creative loop's choices beside the request: a cheap draft first, and the prompt's
"Reference sheet: ... Generated video: ..." structure (or the prompt sent as written).

`draft` and `raw_prompt` are options of generate (and `draft` of estimate) but no fields of
the request: `split_choices` takes them out before the request is parsed, so every path that
prices or checks a request (generate, estimate, the forms' live price and checks) reads them
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.errors import InvalidRequest
from bot.model import Platform, Reply
from bot.request import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    DRAFT_HEIGHT,
    DRAFT_WIDTH,
    MAX_PROMPT_CHARS,
    GenerationRequest,
    ImageSize,
)
from commands.sheet import with_prefix

DRAFT, RAW_PROMPT, TAKES = "draft", "raw_prompt", "takes"
MAX_TAKES = 4
# The sheet, a saved one by name, or a composed one by id: not the request.
SHEET_OPTIONS = ("sheet", "sheet_name", "composed_sheet")
DRAFT_SIZE = ImageSize(width=DRAFT_WIDTH, height=DRAFT_HEIGHT)
FINAL_SIZE = ImageSize(width=DEFAULT_WIDTH, height=DEFAULT_HEIGHT)
STRUCTURED = "reference sheet:"
HINT = (
    "Tip: the model keeps a sheet's panels apart best with a prompt in two parts: \"Reference "
    'sheet: <what each panel shows>. Generated video: <what happens>."'
)
_TRUE = {"true", "yes", "on", "1"}
RAW_PROMPT_WORDS = {
    Platform.CONSOLE: "--raw-prompt",
    Platform.DISCORD: "/ltx generate raw_prompt:True",
    Platform.SLACK: "the Raw prompt box of /ltx generate",
}


@dataclass(frozen=True, slots=True)
class Choices:
    """What the user chose beside the request's own fields."""

    draft: bool = False
    raw_prompt: bool = False
    takes: int = 1  # videos of the one request, each with its own seed


def split_choices(options: Mapping[str, object]) -> tuple[dict[str, object], Choices]:
    """The request's options (the sheet or saved sheet's name left out too), and the choices
    beside them."""
    beside = (DRAFT, RAW_PROMPT, TAKES, *SHEET_OPTIONS)
    rest = {k: v for k, v in options.items() if k not in beside}
    choices = Choices(
        _flag(options.get(DRAFT)), _flag(options.get(RAW_PROMPT)), _takes(options.get(TAKES))
    )
    return rest, choices


def _takes(value: object) -> int:
    """1 to MAX_TAKES; a sentence naming the option otherwise (forms put it under the input)."""
    if value is None or value == "":
        return 1
    try:
        number = float(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number != int(number):
        raise InvalidRequest([f"takes = {value} is not a whole number: 1 to {MAX_TAKES}"])
    if not 1 <= number <= MAX_TAKES:
        raise InvalidRequest(
            [f"takes = {int(number)} is out of range: 1 to {MAX_TAKES} videos of one request"]
        )
    return int(number)


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return value is True


def as_draft(request: GenerationRequest, asked: Mapping[str, object]) -> GenerationRequest:
    """The request at the draft size. `asked`: the user's own options (a channel's preset
    size gives way to the draft; a size the user typed is refused, not dropped unsaid)."""
    if asked.get("resolution") is not None:
        raise InvalidRequest(
            [
                f"resolution = {asked['resolution']} does not go with a draft: a draft renders "
                f"at {DRAFT_SIZE}, the size the model was trained at. Leave the size out, and "
                "choose the final's size when you make the final."
            ]
        )
    return request.with_size(DRAFT_SIZE)


def structured_prompt(
    prompt: str, prefix: str | None, choices: Choices, platform: Platform = Platform.CONSOLE
) -> str:
    """The prompt sent to fal: a composed sheet's sentence, then the prompt as "Generated
    video:", unless the user sends it as written or wrote the structure already. Refused with
    a sentence when the sentence would take it past the model's limit."""
    if prefix is None or choices.raw_prompt:
        return prompt
    sent = with_prefix(prefix, prompt)
    if len(sent) > MAX_PROMPT_CHARS:
        raise InvalidRequest([too_long(len(prefix), len(sent), platform)])
    return sent


def too_long(prefix_chars: int, sent_chars: int, platform: Platform) -> str:
    """The refusal of a prompt the sheet's sentence takes past the model's limit: by how much,
    and the three ways out."""
    over = sent_chars - MAX_PROMPT_CHARS
    return (
        f"The sheet's description ({prefix_chars:,} characters) plus the prompt is "
        f"{over:,} character{'s' if over != 1 else ''} over the {MAX_PROMPT_CHARS:,} the model "
        f"takes ({sent_chars:,} in all). Shorten the prompt by {over:,}, or the sheet's labels, "
        f"or send the prompt as written without the description ({RAW_PROMPT_WORDS[platform]})."
    )


def hint_for(prompt: str, prefix: str | None, choices: Choices) -> str | None:
    """One line on the prompt's structure for an uploaded sheet and a prompt without it; it
    never blocks anything."""
    if prefix is not None or choices.raw_prompt or prompt.lower().startswith(STRUCTURED):
        return None
    return HINT


def with_prompt_notes(reply: Reply, sent: str, asked: str, hint: str | None) -> Reply:
    """The reply with the prompt sent when it is not the one typed, and the hint line."""
    if reply.refused:
        return reply
    fields = reply.fields + ((("Prompt sent", sent),) if sent != asked else ())
    text = f"{reply.text}\n{hint}" if hint else reply.text
    return replace(reply, text=text, fields=fields)
