"""Job records and their state machine.

received -> held -> submitted -> running -> succeeded -> delivered, or failed / cancelled /
rejected. `Job.advance` checks each move; an illegal one is a bug and raises. Storage keeps the
record as a document and swaps it only if the state it read is still the state stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from bot.errors import IllegalTransition
from bot.model import Payload, Platform
from bot.request import GenerationRequest


class JobState(StrEnum):
    RECEIVED = "received"
    HELD = "held"
    SUBMITTED = "submitted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.RECEIVED: frozenset({JobState.HELD, JobState.REJECTED}),
    JobState.HELD: frozenset({JobState.SUBMITTED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUBMITTED: frozenset(
        {JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}),
    # FAILED: no way to get the video to the requester; the hold is released.
    JobState.SUCCEEDED: frozenset({JobState.DELIVERED, JobState.FAILED}),
    JobState.DELIVERED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.REJECTED: frozenset(),
}
ACTIVE = frozenset({JobState.HELD, JobState.SUBMITTED, JobState.RUNNING})
AT_FAL = frozenset({JobState.SUBMITTED, JobState.RUNNING})
FINAL = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELLED, JobState.REJECTED})


class Origin(BaseModel):
    """Where the job came from and where its messages live (ids as the platform gives them)."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    scope: str
    channel_id: str
    user_id: str
    user_name: str = ""
    thread_id: str | None = None
    # Filled in as the adapter posts: the public status message and the result message.
    status_message_id: str | None = None
    result_message_id: str | None = None
    origin_message_id: str | None = None
    delivered_via: str | None = None  # a bot.ports.DeliveryRoute: how the requester got it
    # A take 2..N's ending as told: take 1's status message, where the takes' messages live
    # (bot.jobs.takes_delivery.with_takes_status; passed to the poster, not stored).
    takes_status_id: str | None = None
    # The terminal's: where the video is saved (`generate --out`, absolute), for `resume`.
    out_path: str | None = None


class Rendered(BaseModel):
    """What fal actually rendered, as probed from the downloaded MP4."""

    model_config = ConfigDict(frozen=True)

    width: int
    height: int
    num_frames: int
    frames_per_second: float
    duration_seconds: float
    has_audio: bool
    file_size: int


class Result(BaseModel):
    """fal's answer, persisted the moment the job completes."""

    model_config = ConfigDict(frozen=True)

    video_url: str
    video_content_type: str | None = None
    video_file_size: int | None = None
    seed: int | None = None
    expanded_prompt: str | None = None
    billable_units: str | None = None  # x-fal-billable-units, kept verbatim for reconciliation
    raw: Payload = {}
    rendered: Rendered | None = None
    video_path: str | None = None  # the local MP4, once downloaded


class Delivering(BaseModel):
    """The delivery's own record, stored before each platform step of the post (see
    bot.jobs.delivery): a restart that finds it knows the video may be posted already."""

    model_config = ConfigDict(frozen=True)

    key: str  # the idempotency key, the same on every try (Discord's message nonce)
    started_at: datetime
    # What the poster noted before each step: the channel it posted in, Slack's file id, ...
    marks: dict[str, str] = {}


class Job(BaseModel):
    """One generation, from the command to the delivered video."""

    model_config = ConfigDict(frozen=True)

    id: str
    origin: Origin
    request: GenerationRequest  # resolution already explicit (see GenerationRequest.with_size)
    quoted_megapixels: int
    quoted_nanos: int
    state: JobState = JobState.RECEIVED
    version: int = 0  # bumped by advance()/with_changes(); storage swaps on it
    simulated: bool = False
    sheet_path: str | None = None  # the sanitised sheet, kept until the job ends
    sheet_url: str | None = None  # where fal storage holds it
    fal_request_id: str | None = None
    submit_token: str | None = None  # idempotency marker sent with the submit (see fal_gateway)
    result: Result | None = None
    held_at: datetime | None = None  # when the hold was made (the period its entries count in)
    # Money once fal has rendered (see bot.jobs.billing): what the capture takes once the
    # requester has the video, the capture itself, fal's bill (None when it sent none
    # readable), the price of the MP4 probed, and what fal billed above the hold.
    charge_nanos: int | None = None
    captured_nanos: int | None = None
    billed_megapixels: Decimal | None = None
    billed_nanos: int | None = None
    probed_megapixels: int | None = None
    # Stored as `actual_nanos` before fal's bill was read: old documents still load.
    probed_nanos: int | None = Field(
        default=None, validation_alias=AliasChoices("probed_nanos", "actual_nanos")
    )
    uncharged_nanos: int = 0
    failure: str | None = None  # the sentence shown to the user
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    rerolled_from: str | None = None
    # A draft renders at the draft size; `final_nanos` is the price of its final at the default
    # size (its Final button's label). A final names its draft (`final_of`) and reuses its seed.
    draft: bool = False
    final_nanos: int | None = None
    final_of: str | None = None
    # Takes: the videos of one request, each its own job with its own seed and hold, held
    # together (`Ledger.hold_many`). `take_ids` names them all in take order (empty: no takes).
    take_ids: tuple[str, ...] = ()
    # On take 1's record: the take whose delivery posts them all, decided by the store's
    # versioned swap, so one replica posts the group (bot.jobs.takes_delivery).
    takes_posted_by: str | None = None
    purged_at: datetime | None = None  # when retention removed its sheet and video from disk
    # Set when the user cancelled while fal was rendering: fal only *requests* a stop then, so
    # the job runs on; a video that comes anyway is charged and delivered, a stop is released.
    cancel_requested_at: datetime | None = None
    delivery: Delivering | None = None  # set before the video is posted (delivery exactly once)
    # When a fal webhook said the request ended, stored by a replica that does not drive the
    # job, for its driver (woken by a JobSignal) to fetch the result at once.
    fal_ended_at: datetime | None = None

    def advance(self, to: JobState, now: datetime, **changes: object) -> Job:
        """The same job in state `to`; raises IllegalTransition for a move the machine lacks."""
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"job {self.id}: {self.state} -> {to} is not allowed")
        update = {**changes, "state": to, "updated_at": now, "version": self.version + 1}
        return self.model_copy(update=update)

    def with_changes(self, now: datetime, **changes: object) -> Job:
        """The same state with other fields changed (request id, message ids, result)."""
        if "state" in changes:
            raise IllegalTransition("use advance() to change state")
        update = {**changes, "updated_at": now, "version": self.version + 1}
        return self.model_copy(update=update)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    @property
    def take(self) -> int | None:
        """This job's number among its takes (1..N), None when it is no take."""
        return self.take_ids.index(self.id) + 1 if self.id in self.take_ids else None


def charge_of(job: Job) -> int:
    """What the job's capture takes (records from before `charge_nanos` captured at once)."""
    if job.charge_nanos is not None:
        return job.charge_nanos
    return job.captured_nanos or 0
