"""A delivered, paid job with its sheet and video on disk, as forgetting finds one; shared by
the Discord and Slack tests of `admin forget`."""

from __future__ import annotations

from pathlib import Path

from bot.jobs.record import Job, JobState, Origin, Result
from bot.model import Platform
from bot.money import Money
from bot.request import GenerationRequest
from commands.context import Services

PROMPT = "my private prompt about a fox"
COST = Money.usd("0.5")


async def seed_delivered(
    services: Services, platform: Platform, scope: str, user_id: str, job_id: str
) -> Job:
    """Stored, held and captured at 50 cents, with `sheets/<id>.png` and `videos/<id>.mp4`."""
    now = services.clock()
    data = services.settings.data_dir
    sheet, video = data / "sheets" / f"{job_id}.png", data / "videos" / f"{job_id}.mp4"
    for path in (sheet, video):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not really a picture or a video")
    job = Job(
        id=job_id,
        origin=Origin(platform=platform, scope=scope, channel_id="C1", user_id=user_id),
        request=GenerationRequest(prompt=PROMPT),
        quoted_megapixels=100,
        quoted_nanos=COST.nanos,
        created_at=now,
        updated_at=now,
        sheet_path=str(sheet),
    )
    for state in (JobState.HELD, JobState.SUBMITTED, JobState.SUCCEEDED):
        job = job.advance(state, now)
    result = Result(video_url="https://v3.fal.media/v.mp4", video_path=str(video))
    job = job.advance(JobState.DELIVERED, now, result=result, finished_at=now)
    await services.jobs.insert(job)
    team = f"{platform.value}:{scope}"
    await services.ledger.hold(
        job_id=job_id, scope=team, user_id=user_id, amount=COST, limits=[], at=now
    )
    await services.ledger.capture(job_id=job_id, amount=COST, at=now)
    return job


def files_left(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "sheets").rglob("*") if p.is_file()] + list(
        (data_dir / "videos").glob("*")
    )
