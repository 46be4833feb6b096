"""Turn a storage URL into an async SQLAlchemy engine set up for safe concurrent admission.

SQLite: WAL (readers never block the writer), a busy timeout (other processes wait instead of
failing) and `BEGIN IMMEDIATE` on every transaction, so that a hold takes the database's write
lock *before* it sums the ledger: concurrent holds from many tasks and several processes
serialize and none can read a total another is about to change.

Reads of one statement (`single_statement_reads`) skip the BEGIN on SQLite: the statement runs
in autocommit and WAL gives it a consistent snapshot, without the write lock and the extra trip
through aiosqlite's thread that BEGIN IMMEDIATE costs. Writes of one statement
(`single_statement_writes`, the job store's) run in autocommit too: the statement is atomic.

PostgreSQL: a plain pool; admission takes a per-scope advisory lock (see storage.ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.errors import StorageUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536  # per connection (one per process, see _sqlite_engine)
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 5
# A database that does not answer fails a command in this long, not asyncpg's 60 s.
POSTGRES_CONNECT_TIMEOUT = 5.0
# Execution option marking connections that run exactly one read statement per checkout.
SINGLE_STATEMENT_READ = "ltxbot_single_statement_read"


def driver_url(url: str) -> URL:
    """`sqlite:///path` and `postgresql://` or `postgres://` with their async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("storage needs a SQLite file: sqlite:///path/to/ltxbot.sqlite3")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported storage URL scheme {parsed.drivername!r}")


def create_engine(url: str) -> AsyncEngine:
    """The engine for `url`; for SQLite the file's parent directory is created if missing.

    A PostgreSQL URL may carry `?search_path=a_schema` (used by tests to isolate runs);
    every connection then works in that schema, migrations included.
    """
    parsed = driver_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return _postgres_engine(parsed)


def single_statement_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for connections that run one SELECT and nothing else (never a write, never
    two statements that must agree: on SQLite those would run without a transaction). The
    option means nothing to PostgreSQL, where reads never took a lock."""
    return engine.execution_options(**{SINGLE_STATEMENT_READ: True})


def single_statement_writes(
    engine: AsyncEngine,
) -> Callable[[], AbstractAsyncContextManager[AsyncConnection]]:
    """How to open a connection for exactly one write statement (an INSERT, or an UPDATE whose
    WHERE is the whole check). SQLite: autocommit, so the statement is its own transaction and
    costs one trip through aiosqlite's thread instead of three (BEGIN, statement, COMMIT).
    PostgreSQL: a transaction committed at the end, as before."""
    if engine.dialect.name == "sqlite":
        return single_statement_reads(engine).connect
    return engine.begin


def _sqlite_engine(url: URL) -> AsyncEngine:
    Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: SQLite has one writer at a time anyway, and waiting in the
    # pool's queue is far cheaper than SQLite's sleeping busy handler. Other processes still
    # wait on the busy timeout.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=120)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(
        # Any: the driver's connection as aiosqlite's adapter wraps it (no DBAPI type has
        # `isolation_level`).
        dbapi_connection: Any,
        _record: ConnectionPoolEntry,
    ) -> None:
        # Stop the driver from issuing its own deferred BEGIN; we issue BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable against a crash of the process in WAL mode; only a power cut can
        # lose the last commits, never corrupt the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # The default 2 MiB page cache holds a few thousand entries' index pages: past that
        # every hold's insert reads its five indexes' leaves back from the OS (holds/s fell
        # 4x at 100,000 entries). 64 MiB (allocated only as pages are read) keeps them hot.
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(SINGLE_STATEMENT_READ):
            return  # autocommit: the one SELECT is its own (read) transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: URL) -> AsyncEngine:
    connect_args: dict[str, object] = {"timeout": POSTGRES_CONNECT_TIMEOUT}
    search_path = url.query.get("search_path")
    if search_path:
        connect_args["server_settings"] = {"search_path": str(search_path)}
        url = url.difference_update_query(["search_path"])
    engine = create_async_engine(
        url,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        # No pre-ping: it costs a round trip per checkout; a connection that died is
        # invalidated by SQLAlchemy on the first error and the pool replaces it.
        pool_recycle=1800,
        connect_args=connect_args,
    )
    _unreachable_as_storage_unavailable(engine)
    return engine


def _unreachable_as_storage_unavailable(engine: AsyncEngine) -> None:
    """A database away (connection refused, timed out, or dropped mid-statement) raises
    `bot.errors.StorageUnavailable`, which the core knows; other errors stay as they are. A
    dropped connection is still invalidated by SQLAlchemy, so the pool reconnects once the
    database is back."""

    @event.listens_for(engine.sync_engine, "do_connect")
    # Any: SQLAlchemy's do_connect hands over the driver's untyped arguments and takes back
    # the driver's connection (as its asyncpg adapter wraps it).
    def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except (OSError, TimeoutError) as problem:  # refused, no route, no answer in time
            raise StorageUnavailable(f"cannot connect: {type(problem).__name__}") from problem

    @event.listens_for(engine.sync_engine, "handle_error")
    def _dropped(context: ExceptionContext) -> None:
        if context.is_disconnect:
            name = type(context.original_exception).__name__
            raise StorageUnavailable(f"connection lost: {name}") from context.original_exception
