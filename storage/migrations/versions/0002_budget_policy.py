"""Budget policy: caps per scope, per-scope rules, the admin audit log, alert marks.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
ENTRY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "budget_caps",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=True),
        sa.Column("set_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('default', 'user', 'role', 'pool')", name="ck_cap_kind"),
        sa.CheckConstraint("period IN ('day', 'week', 'month', 'none')", name="ck_cap_period"),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="ck_cap_amount"),
    )
    op.create_table(
        "scope_rules",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=True),
        sa.Column("set_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", ENTRY_ID, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_admin_audit_scope_id", "admin_audit", ["scope", "id"])
    # The primary key is what makes "once per period" hold across replicas: the second insert
    # for the same cap and period fails, and its writer stays quiet.
    op.create_table(
        "budget_alerts",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("cap", sa.String(200), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("period_start", TIMESTAMP, primary_key=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    # Throttles count a user's holds (open ones, recent ones) inside the admission step.
    op.create_index(
        "ix_ledger_scope_user_created", "ledger_entries", ["scope", "user_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_scope_user_created", "ledger_entries")
    op.drop_table("budget_alerts")
    op.drop_table("admin_audit")
    op.drop_table("scope_rules")
    op.drop_table("budget_caps")
