"""The simulated model: input validation as a pydantic-backed fal app reports it, output sizes,
seeds and the "expanded" prompt."""

from __future__ import annotations

import math
import random
from typing import Any

from bot.fal.simulated.errors import model_error_item

MODEL_ID = "fal-ai/ltx-2.3-quality/ingredient"
DEFAULT_SIZE = (1536, 896)
# fal's standard ImageSize presets.
PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
_RANGES: dict[str, tuple[float, float]] = {
    "num_frames": (9, 481),
    "frames_per_second": (1, 60),
    "guidance_scale": (1, 20),
    "ingredient_strength": (0, 2),
    "reference_strength": (0, 2),
}
EXPANSION = " Cinematic lighting, smooth camera motion, rich detail, consistent characters."


def validate(arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """Pydantic-style problems with the arguments; empty when they are acceptable."""
    problems = []
    for name in ("prompt", "image_url"):
        if not isinstance(arguments.get(name), str) or not arguments[name]:
            problems.append(model_error_item(["body", name], "Field required", "missing"))
    for name, (low, high) in _RANGES.items():
        value = arguments.get(name)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(
                model_error_item(
                    ["body", name], "Input should be a valid number", "float_type", input=value
                )
            )
        elif value < low:
            problems.append(range_problem(name, value, "ge", low))
        elif value > high:
            problems.append(range_problem(name, value, "le", high))
    resolution = arguments.get("resolution")
    if isinstance(resolution, dict):
        for side in ("width", "height"):
            value = resolution.get(side)
            if not isinstance(value, int) or not 64 <= value <= 2560:
                problems.append(
                    model_error_item(
                        ["body", "resolution", side],
                        "Input should be an integer from 64 to 2560",
                        "int_range",
                        input=value,
                    )
                )
    elif resolution is not None and resolution not in (*PRESETS, "auto"):
        problems.append(
            model_error_item(
                ["body", "resolution"],
                "Input should be an ImageSize or a preset",
                "enum",
                input=resolution,
            )
        )
    return problems


def range_problem(name: str, value: Any, bound: str, limit: float) -> dict[str, Any]:
    words = "greater than or equal to" if bound == "ge" else "less than or equal to"
    kind = "greater_than_equal" if bound == "ge" else "less_than_equal"
    shown = int(limit) if float(limit).is_integer() else limit
    return model_error_item(
        ["body", name], f"Input should be {words} {shown}", kind, ctx={bound: shown}, input=value
    )


def output_size(arguments: dict[str, Any], sheet_aspect: float) -> tuple[int, int]:
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
    return max(64, min(2560, int(round(value / 32) * 32)))


def chosen_seed(arguments: dict[str, Any], rng: random.Random) -> int:
    seed = arguments.get("seed")
    return int(seed) if isinstance(seed, int) else rng.randint(0, 2**32 - 1)


def echoed_prompt(arguments: dict[str, Any]) -> str:
    prompt = str(arguments.get("prompt", ""))
    return prompt + EXPANSION if arguments.get("enable_prompt_expansion", True) else prompt


def billable_megapixels(width: int, height: int, frames: int) -> int:
    """fal bills this endpoint per megapixel of width x height x frames, rounded up."""
    return -(-width * height * frames // 1_000_000)
