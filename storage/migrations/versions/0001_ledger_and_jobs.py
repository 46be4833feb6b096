"""The append-only ledger and the job documents.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Aware UTC datetimes: timestamptz on PostgreSQL, integer microseconds on SQLite (exact order).
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
ENTRY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid alias
HOLD = sa.text("kind = 'hold'")
CLOSING = sa.text("kind IN ('capture', 'release')")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", ENTRY_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("effective_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('grant', 'adjust', 'hold', 'capture', 'release')", name="ck_ledger_kind"
        ),
    )
    op.create_index(
        "ix_ledger_scope_user_effective", "ledger_entries", ["scope", "user_id", "effective_at"]
    )
    op.create_index("ix_ledger_ref", "ledger_entries", ["ref"])
    # At most one HOLD and one closing entry (CAPTURE or RELEASE) per job: this is what makes
    # hold/capture/release idempotent even when several replicas race on the same job.
    op.create_index(
        "ux_ledger_one_hold_per_job",
        "ledger_entries",
        ["ref"],
        unique=True,
        sqlite_where=HOLD,
        postgresql_where=HOLD,
    )
    op.create_index(
        "ux_ledger_one_closing_per_job",
        "ledger_entries",
        ["ref"],
        unique=True,
        sqlite_where=CLOSING,
        postgresql_where=CLOSING,
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("fal_request_id", sa.String(200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_jobs_fal_request_id", "jobs", ["fal_request_id"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_user_created", "jobs", ["platform", "scope", "user_id", "created_at"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("ledger_entries")
