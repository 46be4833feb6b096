"""The simulated fal and the request model against the endpoint's documented input schema.

The schema is tests/fixtures/ltx-2.3-quality-ingredient.md, the input-schema part of the seed
(shared/seed/ltx-2.3-quality-ingredient.md, outside the repository) copied verbatim.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.fal.simulated import model
from bot.request import GenerationRequest, bounds

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "ltx-2.3-quality-ingredient.md"
SEED = ROOT.parent / "shared" / "seed" / "ltx-2.3-quality-ingredient.md"
NO_DEFAULT = object()


@dataclass
class SeedField:
    type: str
    required: bool
    default: Any = NO_DEFAULT
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[str, ...] = ()


_FIELD = re.compile(r"^- \*\*`(\w+)`\*\* \(`([^`]+)`, _(required|optional)_\):$")
_DETAIL = re.compile(r"^  - (Default|Range|Options): (.+)$")
_QUOTED = re.compile(r"`([^`]*)`")


def seed_fields(text: str) -> dict[str, SeedField]:
    """`- **`name`** (`type`, _optional_):` and its `- Default:`, `- Range:`, `- Options:`."""
    fields: dict[str, SeedField] = {}
    current: SeedField | None = None
    for line in text.splitlines():
        if found := _FIELD.match(line):
            current = fields[found[1]] = SeedField(found[2], found[3] == "required")
        elif (found := _DETAIL.match(line)) and current is not None:
            values = [json.loads(value) for value in _QUOTED.findall(found[2])]
            if found[1] == "Default":
                current.default = values[0]
            elif found[1] == "Range":
                current.minimum, current.maximum = values
            else:
                current.options = tuple(values)
    return fields


SCHEMA = seed_fields(FIXTURE.read_text())


def test_the_fixture_reads_as_the_whole_schema() -> None:
    assert len(SCHEMA) == 16 and SCHEMA["prompt"].required and SCHEMA["image_url"].required
    assert SCHEMA["num_frames"] == SeedField("integer", False, 121, 9, 481)
    assert SCHEMA["video_quality"].options == ("low", "medium", "high", "maximum")


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is not next to this clone")
def test_the_fixture_is_the_seeds_input_schema_verbatim() -> None:
    copied = FIXTURE.read_text().split("-->\n\n", 1)[1]
    seed = SEED.read_text()
    assert copied.strip() in seed
    assert seed_fields(seed.split("### Input Schema", 1)[1].split("### Output", 1)[0]) == SCHEMA


def test_the_simulated_fal_knows_every_input_field() -> None:
    assert list(model.INPUTS) == list(SCHEMA)


@pytest.mark.parametrize("name", list(SCHEMA))
def test_the_simulated_fal_agrees_with_the_schema(name: str) -> None:
    seed, copy = SCHEMA[name], model.INPUTS[name]
    assert (copy.type, copy.required) == (seed.type, seed.required)
    assert copy.default == (None if seed.default is NO_DEFAULT else seed.default)
    assert (copy.minimum, copy.maximum) == (seed.minimum, seed.maximum)
    if seed.options:  # the resolution's named sizes are not listed ("One of: ImageSize | Enum")
        assert copy.options == seed.options


def test_the_simulated_fal_accepts_the_documented_defaults_and_refuses_the_rest() -> None:
    defaults = {name: field.default for name, field in SCHEMA.items()}
    assert model.validate({**defaults, "prompt": "a chef", "image_url": "https://x/s.png"}) == []
    refused = model.validate(
        {"prompt": "a chef", "image_url": "u", "video_quality": "ultra", "sync_mode": "yes"}
    )
    assert sorted(item["loc"][1] for item in refused) == ["sync_mode", "video_quality"]


def test_the_request_covers_every_seed_field_but_the_sheet() -> None:
    # image_url is the sanitised sheet the gateway uploads, never something a user sets.
    assert list(GenerationRequest.model_fields) == [n for n in SCHEMA if n != "image_url"]


@pytest.mark.parametrize("name", [n for n in SCHEMA if n != "image_url"])
def test_the_request_agrees_with_the_schema(name: str) -> None:
    seed, info = SCHEMA[name], GenerationRequest.model_fields[name]
    assert info.is_required() == seed.required
    if not seed.required:
        default = GenerationRequest.model_validate({"prompt": "x"}).model_dump(mode="json")[name]
        assert default == (None if seed.default is NO_DEFAULT else seed.default)
    low, high = bounds(info)
    if seed.minimum is not None:  # the request may be stricter only where fal says nothing
        assert (low, high) == (seed.minimum, seed.maximum)
    if seed.options:
        enum: Any = info.annotation
        assert tuple(member.value for member in enum) == seed.options
    kinds = {"integer": int, "float": float, "boolean": bool, "string": str}
    if seed.type in kinds:
        assert info.annotation in (kinds[seed.type], kinds[seed.type] | None)
