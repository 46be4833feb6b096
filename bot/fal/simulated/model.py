"""The simulated model: input validation as a pydantic-backed fal app reports it, output sizes,
seeds and the "expanded" prompt."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bot.fal.simulated.errors import model_error_item
from bot.fal.simulated.wire import JSON, JSONObject, Payload

MODEL_ID = "fal-ai/ltx-2.3-quality/ingredient"
DEFAULT_SIZE = (1536, 896)
MIN_SIDE, MAX_SIDE = 64, 2560  # fal's ImageSize
# fal's standard ImageSize presets.
PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


@dataclass(frozen=True, slots=True)
class Input:
    """One input field as fal's schema documents it (types named as fal names them)."""

    type: str
    required: bool = False
    default: JSON = None
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[str, ...] = ()


# The endpoint's input schema, copied here on purpose: the simulated fal plays fal and imports
# nothing of the product (tests/fal/test_seed_schema.py holds it to the documented schema).
INPUTS: dict[str, Input] = {
    "prompt": Input("string", required=True),
    "image_url": Input("string", required=True),
    "num_frames": Input("integer", default=121, minimum=9, maximum=481),
    "resolution": Input(
        "ImageSize | Enum",
        default={"height": DEFAULT_SIZE[1], "width": DEFAULT_SIZE[0]},
        options=("auto", *PRESETS),
    ),
    "frames_per_second": Input("float", default=24, minimum=1, maximum=60),
    "guidance_scale": Input("float", default=1, minimum=1, maximum=20),
    "ingredient_strength": Input("float", default=1, minimum=0, maximum=2),
    "reference_strength": Input("float", default=1, minimum=0, maximum=2),
    "generate_audio": Input("boolean", default=True),
    "negative_prompt": Input(
        "string", default="worst quality, inconsistent motion, blurry, jittery, distorted"
    ),
    "seed": Input("integer"),
    "enable_prompt_expansion": Input("boolean", default=True),
    "enable_safety_checker": Input("boolean", default=True),
    "video_quality": Input(
        "VideoQualityEnum", default="high", options=("low", "medium", "high", "maximum")
    ),
    "video_write_mode": Input(
        "VideoWriteModeEnum", default="balanced", options=("fast", "balanced", "small")
    ),
    "sync_mode": Input("boolean", default=False),
}
EXPANSION = " Cinematic lighting, smooth camera motion, rich detail, consistent characters."


def argument(arguments: Payload, name: str) -> object:
    """An argument as the model reads it: the schema's default when it is not given."""
    value = arguments.get(name)
    return INPUTS[name].default if value is None else value


def number(arguments: Payload, name: str) -> float:
    """A numeric argument that `validate` accepted, or its default."""
    value = argument(arguments, name)
    if not isinstance(value, int | float):
        raise TypeError(f"{name} is not a number")
    return value


def validate(arguments: Payload) -> list[JSONObject]:
    """Pydantic-style problems with the arguments; empty when they are acceptable."""
    problems = []
    for name, field in INPUTS.items():
        value = arguments.get(name)
        if field.required and (not isinstance(value, str) or not value):
            problems.append(model_error_item(["body", name], "Field required", "missing"))
        elif value is None or name == "resolution":
            continue
        elif field.minimum is not None:
            problems += _number_problems(name, value, field)
        elif field.type == "boolean" and not isinstance(value, bool):
            item = model_error_item(
                ["body", name], "Input should be a valid boolean", "bool_type", input=value
            )
            problems.append(item)
        elif field.options and value not in field.options:
            listed = ", ".join(repr(option) for option in field.options)
            item = model_error_item(
                ["body", name], f"Input should be {listed}", "enum", input=value
            )
            problems.append(item)
    problems += _resolution_problems(arguments.get("resolution"))
    return problems


def _number_problems(name: str, value: JSON, field: Input) -> list[JSONObject]:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return [
            model_error_item(
                ["body", name], "Input should be a valid number", "float_type", input=value
            )
        ]
    if field.minimum is not None and value < field.minimum:
        return [range_problem(name, value, "ge", field.minimum)]
    if field.maximum is not None and value > field.maximum:
        return [range_problem(name, value, "le", field.maximum)]
    return []


def _resolution_problems(resolution: JSON) -> list[JSONObject]:
    if isinstance(resolution, dict):
        return [
            model_error_item(
                ["body", "resolution", side],
                f"Input should be an integer from {MIN_SIDE} to {MAX_SIDE}",
                "int_range",
                input=resolution.get(side),
            )
            for side in ("width", "height")
            if not isinstance(size := resolution.get(side), int) or not MIN_SIDE <= size <= MAX_SIDE
        ]
    if resolution is not None and resolution not in INPUTS["resolution"].options:
        return [
            model_error_item(
                ["body", "resolution"],
                "Input should be an ImageSize or a preset",
                "enum",
                input=resolution,
            )
        ]
    return []


def range_problem(name: str, value: JSON, bound: str, limit: float) -> JSONObject:
    words = "greater than or equal to" if bound == "ge" else "less than or equal to"
    kind = "greater_than_equal" if bound == "ge" else "less_than_equal"
    shown = int(limit) if float(limit).is_integer() else limit
    return model_error_item(
        ["body", name], f"Input should be {words} {shown}", kind, ctx={bound: shown}, input=value
    )


def output_size(arguments: Payload, sheet_aspect: float) -> tuple[int, int]:
    """Width and height the model renders for the `resolution` argument."""
    resolution = arguments.get("resolution")
    if isinstance(resolution, dict):
        return int(resolution["width"]), int(resolution["height"])
    if resolution in PRESETS:
        return PRESETS[resolution]
    if resolution == "auto":
        area = DEFAULT_SIZE[0] * DEFAULT_SIZE[1]
        height = math.sqrt(area / sheet_aspect)
        return _round32(height * sheet_aspect), _round32(height)
    return DEFAULT_SIZE


def _round32(value: float) -> int:
    return max(MIN_SIDE, min(MAX_SIDE, int(round(value / 32) * 32)))


def chosen_seed(arguments: Payload, rng: random.Random) -> int:
    seed = arguments.get("seed")
    return int(seed) if isinstance(seed, int) else rng.randint(0, 2**32 - 1)


def echoed_prompt(arguments: Payload) -> str:
    prompt = str(arguments.get("prompt", ""))
    return prompt + EXPANSION if argument(arguments, "enable_prompt_expansion") else prompt


def billable_megapixels(width: int, height: int, frames: int) -> int:
    """fal bills this endpoint per megapixel of width x height x frames, rounded up."""
    return -(-width * height * frames // 1_000_000)
