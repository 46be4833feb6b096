"""The generation request: every input field of fal-ai/ltx-2.3-quality/ingredient.

`GenerationRequest` is what a user may set. The reference sheet is not a field: it is always an
image the platform handed us, sanitised by `bot.media.sanitise` and uploaded by the gateway,
whose URL is added only when the fal arguments are built (`fal_arguments`). Loose user options
become a request, or sentences naming each problem, in `bot.request_parsing`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

from bot.errors import InvalidRequest
from bot.model import JSONObject
from bot.numbers import real_or_none

DEFAULT_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1536, 896
# A draft's size: the bucket the model's LoRA was trained at, the cheapest size it renders well
# (121 frames: 42 MP). Its final renders at the default size unless the user picks another.
DRAFT_WIDTH, DRAFT_HEIGHT = 768, 448
MIN_SIDE, MAX_SIDE = 64, 2560
MIN_FRAMES, MAX_FRAMES, DEFAULT_FRAMES = 9, 481, 121
MIN_FPS, MAX_FPS, DEFAULT_FPS = 1, 60, 24
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 4000

# fal's standard ImageSize presets. What the endpoint renders for each is not documented, so
# the bot sends explicit width and height and every quote prices a known size.
NAMED_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
AUTO = "auto"


class VideoQuality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    MAXIMUM = "maximum"


class VideoWriteMode(StrEnum):
    FAST = "fast"
    BALANCED = "balanced"
    SMALL = "small"


class ImageSize(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    width: Annotated[int, Field(ge=MIN_SIDE, le=MAX_SIDE)]
    height: Annotated[int, Field(ge=MIN_SIDE, le=MAX_SIDE)]

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


NamedSize = Literal[
    "auto",
    "square_hd",
    "square",
    "portrait_4_3",
    "portrait_16_9",
    "landscape_4_3",
    "landscape_16_9",
]

_SIZE_TEXT = re.compile(r"^\s*(\d+)\s*[x×*]\s*(\d+)\s*$", re.IGNORECASE)


class GenerationRequest(BaseModel):
    """What a user asks for; defaults are the endpoint's own.

    Each field's type, range, default, title (the label people read: "Frames", "Guidance") and
    description are what every adapter offers (`commands.spec` derives its options from them);
    `json_schema_extra` marks a field that only an admin's permission shows (`restricted`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    prompt: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_PROMPT_CHARS,
            title="Prompt",
            description="What happens in the video",
        ),
    ]
    num_frames: Annotated[
        int, Field(ge=MIN_FRAMES, le=MAX_FRAMES, title="Frames", description="Frames to generate")
    ] = DEFAULT_FRAMES
    # Free text too: a WIDTHxHEIGHT; the examples are what the adapters suggest.
    resolution: Annotated[
        ImageSize | NamedSize,
        Field(
            title="Size",
            description="Size: WIDTHxHEIGHT or a named size",
            examples=[f"{DEFAULT_WIDTH}x{DEFAULT_HEIGHT}", "1280x720", "768x448"],
        ),
    ] = ImageSize(width=DEFAULT_WIDTH, height=DEFAULT_HEIGHT)
    frames_per_second: Annotated[
        float,
        Field(ge=MIN_FPS, le=MAX_FPS, title="Frames per second", description="Frames per second"),
    ] = DEFAULT_FPS
    guidance_scale: Annotated[
        float, Field(ge=1, le=20, title="Guidance", description="Classifier-free guidance")
    ] = 1
    ingredient_strength: Annotated[
        float,
        Field(
            ge=0,
            le=2,
            title="Identity strength",
            description="How strongly the sheet's identities and props hold",
        ),
    ] = 1
    reference_strength: Annotated[
        float, Field(ge=0, le=2, title="Sheet strength", description="How fully the sheet guides")
    ] = 1
    generate_audio: Annotated[bool, Field(title="Sound", description="Include sound")] = True
    negative_prompt: Annotated[
        str,
        Field(
            max_length=MAX_PROMPT_CHARS,
            title="Things to avoid",
            description="What to steer away from",
        ),
    ] = DEFAULT_NEGATIVE_PROMPT
    seed: Annotated[
        int | None,
        Field(ge=0, le=MAX_SEED, title="Seed", description="Seed for a repeatable result"),
    ] = None
    enable_prompt_expansion: Annotated[
        bool, Field(title="Expand the prompt", description="Let the model expand the prompt")
    ] = True
    enable_safety_checker: Annotated[
        bool,
        Field(
            title="Safety checker",
            description="Safety checker",
            json_schema_extra={"restricted": True},
        ),
    ] = True
    video_quality: Annotated[VideoQuality, Field(title="Quality", description="Quality preset")] = (
        VideoQuality.HIGH
    )
    video_write_mode: Annotated[
        VideoWriteMode, Field(title="Encoding", description="Write mode")
    ] = VideoWriteMode.BALANCED
    sync_mode: Annotated[
        bool, Field(title="Inline video", description="Return the video inline")
    ] = False

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty")
        return value.strip()

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution_shorthand(cls, value: object) -> object:
        """Accept "1280x720" as well as {"width": 1280, "height": 720} and named sizes."""
        if isinstance(value, str):
            match = _SIZE_TEXT.match(value)
            if match:
                return {"width": int(match[1]), "height": int(match[2])}
            return value.strip().lower()
        return value

    def size(self, sheet_aspect: float | None = None) -> ImageSize:
        """The explicit size to render and price; `auto` follows the sheet's aspect ratio."""
        if isinstance(self.resolution, ImageSize):
            return self.resolution
        if self.resolution == AUTO:
            return auto_size(sheet_aspect)
        width, height = NAMED_SIZES[self.resolution]
        return ImageSize(width=width, height=height)

    @property
    def duration_seconds(self) -> float:
        return self.num_frames / self.frames_per_second

    def with_size(self, size: ImageSize) -> GenerationRequest:
        """The same request with the resolution made explicit (what is sent and stored)."""
        return self.model_copy(update={"resolution": size})

    def fal_arguments(self, image_url: str) -> JSONObject:
        """The JSON body for fal; the resolution must already be explicit."""
        if not isinstance(self.resolution, ImageSize):
            raise ValueError("resolve the size with with_size() before building fal arguments")
        body: JSONObject = self.model_dump(mode="json", exclude_none=True)
        body["image_url"] = image_url
        return body


def auto_size(aspect: float | None) -> ImageSize:
    """The default pixel count at the sheet's aspect ratio, sides rounded to multiples of 32."""
    if not aspect or aspect <= 0:
        return ImageSize(width=DEFAULT_WIDTH, height=DEFAULT_HEIGHT)
    pixels = DEFAULT_WIDTH * DEFAULT_HEIGHT
    width = (pixels * aspect) ** 0.5
    height = width / aspect

    def snap(side: float) -> int:
        return max(MIN_SIDE, min(MAX_SIDE, round(side / 32) * 32))

    return ImageSize(width=snap(width), height=snap(height))


def frames_for_seconds(seconds: float, frames_per_second: float = DEFAULT_FPS) -> int:
    """A duration in seconds as a frame count: 5 s at 24 fps is 121 frames (the default)."""
    if seconds <= 0:
        raise InvalidRequest([f"duration = {seconds:g} s must be more than 0 seconds"])
    return round(seconds * frames_per_second) + 1


def bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """A field's numeric range (`ge`/`le`) as declared; None where it has no bound."""
    low = next((m.ge for m in info.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
    return real_or_none(low), real_or_none(high)
