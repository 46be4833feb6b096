"""The tables, as SQLAlchemy Core sees them (the migrations create them; this file reads them).

Datetimes are aware UTC everywhere. PostgreSQL keeps them as `timestamptz`; SQLite keeps integer
microseconds since the epoch, so that ordering and `>=` comparisons are exact integer
comparisons rather than string comparisons of whatever format a driver happened to write.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Double,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_LENGTH = 512  # key_values.key: long enough for Slack's trigger and enterprise ids
ONE_MICROSECOND = timedelta(microseconds=1)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: `timestamptz` on PostgreSQL, integer microseconds on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:  # Any: SQLAlchemy's signature
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: storage needs aware UTC datetimes")
        if dialect.name == "sqlite":
            return (value - EPOCH) // ONE_MICROSECOND
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | int | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return EPOCH + int(value) * ONE_MICROSECOND


# An INTEGER PRIMARY KEY is SQLite's rowid alias (autoincrement); BIGINT elsewhere.
EntryId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", EntryId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("user_id", String(200), nullable=True),
    Column("ref", String(200), nullable=False),
    Column("amount", BigInteger, nullable=False),  # nano-dollars
    Column("effective_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=True),
    Column("note", Text, nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("fal_request_id", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("document", Text, nullable=False),  # Job.model_dump_json()
    Column("purged_at", UtcDateTime, nullable=True),  # revision 0005: files removed
)

# --- budget policy (revision 0002) ------------------------------------------------------------

budget_caps = Table(
    "budget_caps",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("kind", String(16), primary_key=True),  # bot.ports.CapKind
    Column("subject", String(200), primary_key=True),  # user or role id; "" for default, pool
    Column("amount", BigInteger, nullable=True),  # nano-dollars; NULL: explicitly uncapped
    Column("period", String(16), nullable=False),
    Column("set_by", String(200), nullable=True),
    Column("set_at", UtcDateTime, nullable=False),
)

scope_rules = Table(
    "scope_rules",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("name", String(32), primary_key=True),  # bot.ports.Rule
    Column("value", Text, nullable=False),
    Column("set_by", String(200), nullable=True),
    Column("set_at", UtcDateTime, nullable=False),
)

admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", EntryId, primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

budget_alerts = Table(
    "budget_alerts",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("cap", String(200), primary_key=True),
    Column("user_id", String(200), primary_key=True),  # "" for the pool
    Column("period_start", UtcDateTime, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# --- key-value records: installations, OAuth state, dedup claims (revision 0003_keyvalue) -----

key_values = Table(
    "key_values",
    metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),  # NULL: kept until discarded
)

# --- approvals, channel lists and per-channel defaults (revision 0004_approvals) ---------------

approval_requests = Table(
    "approval_requests",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("scope", String(200), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("cost", BigInteger, nullable=False),  # nano-dollars
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),  # bot.ports.ApprovalState
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("admin_channel", String(200), nullable=True),
    Column("message_id", String(200), nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
)

channel_access = Table(
    "channel_access",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("channel_id", String(200), primary_key=True),
    Column("access", String(8), nullable=False),  # bot.ports.ChannelAccess
    Column("set_by", String(200), nullable=True),
    Column("set_at", UtcDateTime, nullable=False),
)

channel_defaults = Table(
    "channel_defaults",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("channel_id", String(200), primary_key=True),
    Column("option", String(32), primary_key=True),  # a bot.budget.policy.DEFAULT_OPTIONS name
    Column("value", Text, nullable=False),
    Column("set_by", String(200), nullable=True),
    Column("set_at", UtcDateTime, nullable=False),
)

# --- job leases: which replica drives which job (revision 0006_job_leases) ---------------------

job_leases = Table(
    "job_leases",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("owner", Text, nullable=False),  # a replica id (LTXBOT_REPLICA_ID)
    # Seconds since the epoch by the DATABASE's clock (storage.leases), never a replica's.
    Column("expires_at", Double, nullable=False),
)

# --- a team's saved reference sheets (revision 0007_saved_sheets) ------------------------------

NAME_LENGTH = 40  # a saved sheet's name (bot.media.saved_sheets checks it first)
saved_sheets = Table(
    "saved_sheets",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("sha256", String(64), nullable=False),  # of the clean PNG: saved-sheets/<sha256>.png
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("prompt_prefix", Text, nullable=True),  # "Reference sheet: ..." when composed
    Column("saved_by", String(200), nullable=False),
    Column("saved_by_name", String(200), nullable=False),
    Column("saved_at", UtcDateTime, nullable=False),
)

# --- running balances of the ledger, read by admission (revision 0008_admission_balances) -----

POOL_SUBJECT = ""  # admission_balances.subject of the team pool (as in budget_alerts)
admission_balances = Table(
    "admission_balances",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("subject", String(200), primary_key=True),  # a user id, or POOL_SUBJECT
    # Entries effective from here on count; EPOCH for a cap with no window (all time).
    Column("window_start", UtcDateTime, primary_key=True),
    Column("spent", BigInteger, nullable=False),  # nano-dollars, as storage.usage sums them
    Column("held", BigInteger, nullable=False),
    Column("granted", BigInteger, nullable=False),
    Column("open_holds", Integer, nullable=False),  # holds with no closing entry
)
