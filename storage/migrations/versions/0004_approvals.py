"""Approval requests, allowed/denied channels and per-channel defaults.

Revision ID: 0004_approvals
Revises: 0003_keyvalue
Create Date: 2025-01-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_approvals"
down_revision: str | None = "0003_keyvalue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
STATES = "'pending', 'approved', 'denied', 'expired', 'withdrawn'"


def upgrade() -> None:
    # One request per job (the job id is the key): a decision is one conditional UPDATE of
    # its row, so racing Approve / Deny presses cannot both win.
    op.create_table(
        "approval_requests",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("admin_channel", sa.String(200), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(f"state IN ({STATES})", name="ck_approval_state"),
        sa.CheckConstraint("cost >= 0", name="ck_approval_cost"),
    )
    op.create_index(
        "ix_approval_requests_scope_state", "approval_requests", ["scope", "state", "created_at"]
    )
    op.create_table(
        "channel_access",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("channel_id", sa.String(200), primary_key=True),
        sa.Column("access", sa.String(8), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=True),
        sa.Column("set_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("access IN ('allow', 'deny')", name="ck_channel_access"),
    )
    op.create_table(
        "channel_defaults",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("channel_id", sa.String(200), primary_key=True),
        sa.Column("option", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=True),
        sa.Column("set_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_defaults")
    op.drop_table("channel_access")
    op.drop_index("ix_approval_requests_scope_state", "approval_requests")
    op.drop_table("approval_requests")
