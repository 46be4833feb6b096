"""How big a run is: the full run (the figures in bench/README.md, < 5 minutes on 2 cores) and
`--quick` (a smoke test of the harness in well under 20 s; its numbers mean nothing)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.falside import VideoShape


@dataclass(frozen=True)
class Config:
    name: str
    scales: tuple[int, ...]  # jobs in flight at once
    ack_burst: int  # generate commands dispatched at once for the ack target
    generation_seconds: float  # fal's fixed render time per job
    queue_seconds: float  # fal's fixed queue time per job
    video: VideoShape
    poll_interval: float  # the bot's first poll interval (production default 2 s)
    webhook_scales: tuple[int, ...]  # bursts at which ours also runs with fal webhooks
    contenders: int  # concurrent ledger holders
    holds_each: int
    postgres: bool
    timeout: float  # per scenario
    # Jobs that all wait at fal at once (fal renders each this long), for the memory a job in
    # flight costs: long enough that the whole burst is admitted before the first ends.
    waiting_scale: int = 500
    waiting_generation_seconds: float = 15.0  # 500 are admitted in about 8 s here
    # One burst on 1 and on 2 replicas of one PostgreSQL database (bench.replicas); 0: none.
    replicas_jobs: int = 500
    memory: bool = False  # tracemalloc our largest polling run: $TMPDIR/ltxbot-bench-*.txt
    profile: bool = False  # cProfile our largest polling run into $TMPDIR/ltxbot-bench-*.prof
    # Ledger entries already in the period for the second holds run (admission stays O(1)).
    prefill: int = 100_000


FULL = Config(
    name="full",
    scales=(1, 50, 500),  # the sizes: about 3 minutes here in all
    ack_burst=1000,  # the burst, through Discord and through Slack
    generation_seconds=2.0,
    queue_seconds=0.5,
    video=VideoShape(1536, 896, 121),  # the model's default size and length: about 2 MB
    poll_interval=2.0,
    webhook_scales=(500,),  # the issue judges webhooks at 500 (--webhook-scales 50,500: more)
    contenders=50,
    holds_each=10,
    postgres=True,
    timeout=300.0,  # per scenario; a loaded shared machine takes 3x the idle time
)
QUICK = replace(
    FULL,
    name="quick",
    scales=(3,),
    ack_burst=3,  # taken from the scale run itself
    generation_seconds=0.2,
    queue_seconds=0.05,
    video=VideoShape(256, 160, 9),
    webhook_scales=(3,),
    waiting_scale=3,
    waiting_generation_seconds=0.2,  # as long as the poll run's: that run is the waiting one
    replicas_jobs=6,  # only with PostgreSQL (the smoke test runs without)
    poll_interval=0.25,
    contenders=10,
    holds_each=3,
    prefill=2_000,
    timeout=30.0,
)
