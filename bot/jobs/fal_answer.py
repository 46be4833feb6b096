"""fal's answer read into the job's Result: the video, the seed, fal's bill, safety refusals."""

from __future__ import annotations

from bot.errors import GenerationFailed
from bot.jobs.record import Result
from bot.model import Payload
from bot.ports import FalResult


def result_from_payload(fal: FalResult) -> Result:
    """fal's answer as a Result; raises GenerationFailed when it carries no usable video."""
    payload = fal.payload
    if any(payload.get("has_nsfw_concepts") or ()):
        raise GenerationFailed(
            "fal's safety checker refused the generated video. Try a different prompt or "
            "reference sheet. Nothing was charged."
        )
    video = payload.get("video")
    if not isinstance(video, dict):
        raise GenerationFailed("fal finished but its answer had no video in it")
    url = video.get("url")
    if not isinstance(url, str) or not url:
        raise GenerationFailed("fal finished but its answer had no video in it")
    size = video.get("file_size")
    seed = payload.get("seed")
    prompt = payload.get("prompt")
    return Result(
        video_url=url,
        video_content_type=video.get("content_type"),
        video_file_size=size if isinstance(size, int) else None,
        seed=seed if isinstance(seed, int) else None,
        expanded_prompt=prompt if isinstance(prompt, str) else None,
        billable_units=fal.billable_units,
        raw=_without_inline_video(payload),
    )


def _without_inline_video(payload: Payload) -> Payload:
    # sync_mode puts the whole MP4 in the URL: keep the record small, the file is downloaded.
    video = payload.get("video")
    if isinstance(video, dict) and str(video.get("url", "")).startswith("data:"):
        return {**payload, "video": {**video, "url": "data:(inline video, not kept)"}}
    return payload
