"""Helpers shared by the storage tests (and the processes the race tests spawn)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.jobs.record import Job, Origin
from bot.model import Platform
from bot.request import GenerationRequest
from storage import Storage
from tests.fakes.tcp_proxy import TcpProxy

POSTGRES_URL = os.environ.get(
    "LTXBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

_postgres_problem: list[str | None] = []  # the cached answer of postgres_problem()


async def postgres_problem() -> str | None:
    """None when PostgreSQL answers at POSTGRES_URL, else why not (asked once per process)."""
    if not _postgres_problem:
        try:
            connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _postgres_problem.append(f"{type(error).__name__}: {error}")
        else:
            await connection.close()
            _postgres_problem.append(None)
    return _postgres_problem[0]


async def require_postgres() -> None:
    """Skip when PostgreSQL is unreachable; under CI=true fail instead."""
    problem = await postgres_problem()
    if problem is None:
        return
    message = (
        f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); set LTXBOT_TEST_POSTGRES_URL"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def throwaway_schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; yields a storage URL working inside it."""
    schema = f"ltxbot_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}search_path={schema}"
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@asynccontextmanager
async def proxied_schema() -> AsyncIterator[tuple[str, TcpProxy]]:
    """A throwaway schema reached through a TCP proxy that a test can cut and restore (the
    database unreachable for a while): its URL through the proxy, and the proxy."""
    async with throwaway_schema() as url:
        direct = make_url(url)
        async with TcpProxy(direct.host or "127.0.0.1", direct.port or 5432) as proxy:
            through = direct.set(host="127.0.0.1", port=proxy.port)
            yield through.render_as_string(hide_password=False), proxy


def make_job(
    job_id: str,
    *,
    user_id: str = "u1",
    scope: str = "guild-1",
    platform: Platform = Platform.DISCORD,
    created_at: datetime = T0,
) -> Job:
    """A plausible freshly received job."""
    return Job(
        id=job_id,
        origin=Origin(platform=platform, scope=scope, channel_id="c1", user_id=user_id),
        request=GenerationRequest(prompt="a red fox in the snow"),
        quoted_megapixels=120,
        quoted_nanos=288_900_000,
        created_at=created_at,
        updated_at=created_at,
    )


@contextmanager
def statements(storage: Storage, *, words: int | None = None) -> Iterator[list[str]]:
    """Every statement run on the storage's engine while inside, as sent (whitespace folded;
    only its first `words` words when given)."""
    seen: list[str] = []

    def on_execute(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()[:words]))

    engine = storage.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


@contextmanager
def write_lock_held_elsewhere(database: os.PathLike[str] | str) -> Iterator[None]:
    """Another process's writer, mid-transaction, holding SQLite's write lock."""
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()
