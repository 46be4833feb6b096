"""User options in, a `GenerationRequest` out, or a sentence for every problem.

The chat platforms and the terminal hand over loose values (text, numbers, booleans);
`parse_request` accepts the `duration` shorthand and turns pydantic's errors into sentences
that name the field, the value and the allowed range, read off the model's own fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from pydantic import ValidationError

from bot.errors import InvalidRequest
from bot.numbers import as_float
from bot.request import (
    DEFAULT_FPS,
    GenerationRequest,
    ImageSize,
    NamedSize,
    VideoQuality,
    VideoWriteMode,
    bounds,
    frames_for_seconds,
)

FIELD_NAMES = frozenset(GenerationRequest.model_fields)


def parse_request(options: Mapping[str, object]) -> GenerationRequest:
    """Validate user options; every problem becomes one sentence that names field and range.

    `duration` (seconds) is accepted as shorthand for `num_frames` at the request's frame rate.
    """
    values = {key: value for key, value in options.items() if value is not None}
    if "duration" in values:
        duration = values.pop("duration")
        if "num_frames" in values:
            raise InvalidRequest(["give either duration or num_frames, not both"])
        try:
            seconds = as_float(duration)
            fps = as_float(values.get("frames_per_second", DEFAULT_FPS))
        except (TypeError, ValueError):
            raise InvalidRequest([f"duration = {duration!r} is not a number of seconds"]) from None
        values["num_frames"] = frames_for_seconds(seconds, fps)
    try:
        return GenerationRequest.model_validate(values)
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> list[str]:
    """pydantic's errors as sentences a chat user can act on."""
    problems: list[str] = []
    errors = exc.errors(include_url=False)
    fields = [_field_name([str(part) for part in error["loc"]]) for error in errors]
    # A size object that is out of range also fails the named-size branch of the union:
    # report only the precise one.
    seen: set[str] = {"resolution"} if any(f.startswith("resolution.") for f in fields) else set()
    for error, field in zip(errors, fields, strict=True):
        if field in seen:
            continue
        value = error.get("input")
        kind = error["type"]
        ctx = error.get("ctx") or {}
        problem = _sentence(field, value, kind, ctx, error["msg"])
        if problem:
            seen.add(field)
            problems.append(problem)
    return problems


def _field_name(loc: list[str]) -> str:
    if loc and loc[0] == "resolution":
        tail = [part for part in loc[1:] if part in ("width", "height")]
        return f"resolution.{tail[0]}" if tail else "resolution"
    return ".".join(loc) or "request"


_FIELDS = dict(GenerationRequest.model_fields) | {
    f"resolution.{name}": info for name, info in ImageSize.model_fields.items()
}
_RANGES = {name: bounds(info) for name, info in _FIELDS.items() if bounds(info) != (None, None)}
_RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


def _sentence(field: str, value: object, kind: str, ctx: Mapping[str, object], msg: str) -> str:
    shown = _show(value)
    if kind == "extra_forbidden":
        return f"{field} is not an option; the options are: {', '.join(sorted(FIELD_NAMES))}"
    if kind == "missing":
        return f"{field} is required"
    if field in _RANGES and kind in _RANGE_ERRORS:
        low, high = _RANGES[field]
        return f"{field} = {shown} is out of range: allowed {low} to {high}"
    if field == "resolution":
        named = ", ".join(["WIDTHxHEIGHT", *get_args(NamedSize)])
        return f"resolution = {shown} is not a size: use one of {named}"
    if field in _RANGES:
        low, high = _RANGES[field]
        return f"{field} = {shown} is not a number: allowed {low} to {high}"
    if field == "video_quality":
        return f"video_quality = {shown} is not one of {', '.join(q.value for q in VideoQuality)}"
    if field == "video_write_mode":
        modes = ", ".join(m.value for m in VideoWriteMode)
        return f"video_write_mode = {shown} is not one of {modes}"
    if kind.startswith("bool"):
        return f"{field} = {shown} is not true or false"
    if field == "prompt" and kind in {"string_too_short", "value_error"}:
        return "prompt is empty: describe what should happen in the video"
    if kind == "string_too_long":
        return f"{field} is too long: at most {ctx.get('max_length')} characters"
    return f"{field} = {shown}: {msg}"


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
