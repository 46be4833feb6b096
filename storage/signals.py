"""`bot.ports.JobSignals` on PostgreSQL's LISTEN/NOTIFY (asyncpg), between replicas.

`notify_in` is `SELECT pg_notify(channel, job_id)` inside the transaction of the write it
announces (`SqlJobStore.replace(wake=...)`): PostgreSQL delivers a NOTIFY at commit, so no
listener wakes before the row is visible, and a crash between the write and the wake cannot
lose the wake (both happen, or neither). `notify` is the same on its own, for a wake that
announces no write. Listening needs
a connection of its own that stays open, so it is a dedicated asyncpg connection outside the
pool, with `add_listener`. When it drops (the server restarted, the network failed) it is
opened again, with growing pauses while the database stays away, and the listener is told of
the gap (`on_signal(None)`): signals sent meanwhile are lost, so every followed job is re-read.
A connection that dies silently is found by a `SELECT 1` every `CHECK_SECONDS`.

The channel is named after the schema (`search_path`), so deployments (or test runs) sharing
one database in different schemas do not wake each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import OnSignal

if TYPE_CHECKING:  # the driver loads when a replica listens, not for SQLite
    import asyncpg  # type: ignore[import-untyped]  # no stubs: its API is used in one place

log = logging.getLogger(__name__)
CHANNEL = "ltxbot_jobs"
CHECK_SECONDS = 15.0  # how often an idle listening connection is asked whether it is alive
CONNECT_TIMEOUT = 5.0
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # pauses between reconnects while the database is away
_NOTIFY = text("SELECT pg_notify(:channel, :job_id)")


def channel_for(url: URL) -> str:
    """The channel of the deployment at `url` (PostgreSQL identifiers stop at 63 bytes)."""
    schema = url.query.get("search_path")
    return f"{CHANNEL}.{schema}"[:63] if isinstance(schema, str) and schema else CHANNEL


def _dsn(url: URL) -> str:
    plain = url.set(drivername="postgresql").difference_update_query(["search_path"])
    return plain.render_as_string(hide_password=False)


class PostgresJobSignals:
    """LISTEN/NOTIFY on one channel; `listen` starts a kept task that holds the connection."""

    def __init__(self, engine: AsyncEngine, url: URL) -> None:
        self._engine = engine
        self._dsn = _dsn(url)  # carries the password: never logged
        self.channel = channel_for(url)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while a listening connection is open (tests)
        self.server_pid: int | None = None  # the listening connection's backend (tests, logs)

    async def notify(self, job_id: str) -> None:
        async with self._engine.begin() as connection:
            await self.notify_in(connection, job_id)

    async def notify_in(self, connection: AsyncConnection, job_id: str) -> None:
        """Queue the signal in `connection`'s open transaction: sent when it commits."""
        await connection.execute(_NOTIFY, {"channel": self.channel, "job_id": job_id})

    async def listen(self, on_signal: OnSignal) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._listen_forever(on_signal), name="ltxbot-job-signals"
            )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _listen_forever(self, on_signal: OnSignal) -> None:
        import asyncpg

        pause, first = RETRY_FIRST, True
        while True:
            try:
                connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
            except (OSError, asyncpg.PostgresError, TimeoutError) as problem:
                log.warning("job signals: cannot listen (%s); retrying", _name(problem))
                await asyncio.sleep(pause)  # a retry schedule, not a wait for an event
                pause = min(pause * 2, RETRY_MAX)
                continue
            pause = RETRY_FIRST
            try:
                await self._listen_on(connection, on_signal, gap=not first)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as lost:
                log.warning("job signals: the listening connection dropped (%s)", _name(lost))
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT)
            first = False

    async def _listen_on(
        self, connection: asyncpg.Connection, on_signal: OnSignal, *, gap: bool
    ) -> None:
        """Until the connection drops (returns or raises)."""
        dropped = asyncio.Event()
        connection.add_termination_listener(lambda _connection: dropped.set())

        def heard(_connection: object, _pid: int, _channel: str, job_id: str) -> None:
            on_signal(job_id)

        await connection.add_listener(self.channel, heard)
        self.server_pid = connection.get_server_pid()
        self.listening.set()
        if gap:
            log.info("job signals: listening again; re-reading the jobs followed here")
            on_signal(None)
        while not connection.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(dropped.wait(), CHECK_SECONDS)
                return
            await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT)


def _name(problem: BaseException) -> str:
    # The type alone: a driver's message may quote the connection string.
    return type(problem).__name__
