import pytest

from bot.errors import InvalidRequest
from bot.request import (
    DEFAULT_NEGATIVE_PROMPT,
    GenerationRequest,
    ImageSize,
    auto_size,
)
from bot.request_parsing import parse_request


def test_defaults_are_the_endpoints_own():
    request = parse_request({"prompt": "a chef"})
    assert request.num_frames == 121
    assert request.size() == ImageSize(width=1536, height=896)
    assert request.frames_per_second == 24
    assert request.guidance_scale == 1
    assert request.ingredient_strength == request.reference_strength == 1
    assert request.generate_audio and request.enable_prompt_expansion
    assert request.enable_safety_checker
    assert request.negative_prompt == DEFAULT_NEGATIVE_PROMPT
    assert request.seed is None
    assert request.video_quality == "high" and request.video_write_mode == "balanced"


def test_every_field_of_the_seed_schema_is_settable():
    fields = set(GenerationRequest.model_fields)
    seed_fields = {
        "prompt", "num_frames", "resolution", "frames_per_second", "guidance_scale",
        "ingredient_strength", "reference_strength", "generate_audio", "negative_prompt", "seed",
        "enable_prompt_expansion", "enable_safety_checker", "video_quality", "video_write_mode",
        "sync_mode",
    }  # fmt: skip
    assert fields == seed_fields  # image_url is added from the sanitised upload, never the user


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"num_frames": 999}, "num_frames = 999 is out of range: allowed 9 to 481"),
        ({"num_frames": 8}, "num_frames = 8 is out of range: allowed 9 to 481"),
        ({"frames_per_second": 61}, "frames_per_second = 61 is out of range: allowed 1 to 60"),
        ({"guidance_scale": 0.5}, "guidance_scale = 0.5 is out of range: allowed 1 to 20"),
        ({"ingredient_strength": 2.5}, "ingredient_strength = 2.5 is out of range: allowed 0 to 2"),
        ({"reference_strength": -1}, "reference_strength = -1 is out of range: allowed 0 to 2"),
        ({"seed": -3}, "seed = -3 is out of range"),
        ({"resolution": "10x720"}, "resolution.width = 10 is out of range: allowed 64 to 2560"),
        ({"resolution": "huge"}, "resolution = 'huge' is not a size"),
        ({"video_quality": "ultra"}, "video_quality = 'ultra' is not one of low, medium"),
        ({"video_write_mode": "slow"}, "video_write_mode = 'slow' is not one of fast"),
        ({"generate_audio": "maybe"}, "generate_audio = 'maybe' is not true or false"),
        ({"image_url": "http://x"}, "image_url is not an option"),
        ({"prompt": "   "}, "prompt is empty"),
    ],
)
def test_bad_values_are_refused_naming_field_value_and_range(options, expected):
    with pytest.raises(InvalidRequest) as refused:
        parse_request({"prompt": "a chef", **options})
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidRequest) as refused:
        parse_request({"prompt": "x", "num_frames": 1000, "guidance_scale": 50})
    assert len(refused.value.problems) == 2


@pytest.mark.parametrize("text", ["1280x720", "1280X720", " 1280 x 720 ", "1280×720", "1280*720"])
def test_resolution_shorthand(text):
    assert parse_request({"prompt": "x", "resolution": text}).size() == ImageSize(
        width=1280, height=720
    )


def test_named_sizes_become_explicit_sizes():
    request = parse_request({"prompt": "x", "resolution": "landscape_16_9"})
    assert request.size() == ImageSize(width=1024, height=576)


def test_auto_follows_the_sheet_aspect_at_the_default_pixel_count():
    request = parse_request({"prompt": "x", "resolution": "auto"})
    portrait = request.size(sheet_aspect=9 / 16)
    assert portrait.height > portrait.width
    assert portrait.width % 32 == 0 and portrait.height % 32 == 0
    assert abs(portrait.width * portrait.height - 1536 * 896) / (1536 * 896) < 0.05
    assert auto_size(None) == ImageSize(width=1536, height=896)


def test_duration_in_seconds_becomes_frames():
    assert parse_request({"prompt": "x", "duration": 5}).num_frames == 121
    assert parse_request({"prompt": "x", "duration": 2, "frames_per_second": 30}).num_frames == 61
    with pytest.raises(InvalidRequest, match="either duration or num_frames"):
        parse_request({"prompt": "x", "duration": 5, "num_frames": 121})
    with pytest.raises(InvalidRequest, match="out of range"):
        parse_request({"prompt": "x", "duration": 60})


def test_fal_arguments_carry_every_field_and_the_uploaded_sheet():
    request = parse_request({"prompt": "x", "resolution": "1280x720", "seed": 7})
    body = request.with_size(request.size()).fal_arguments("https://cdn.example/sheet.png")
    assert body["image_url"] == "https://cdn.example/sheet.png"
    assert body["resolution"] == {"width": 1280, "height": 720}
    assert body["seed"] == 7 and body["video_quality"] == "high"
    with pytest.raises(ValueError):
        parse_request({"prompt": "x", "resolution": "auto"}).fal_arguments("u")
