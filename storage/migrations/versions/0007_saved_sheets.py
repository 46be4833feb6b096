"""A team's reference sheets saved under a name, one row per (scope, name).

Revision ID: 0007_saved_sheets
Revises: 0005_job_files_purged
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_saved_sheets"
down_revision: str | None = "0006_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    # The primary key is the unique (scope, name) a replacing save races on.
    op.create_table(
        "saved_sheets",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("prompt_prefix", sa.Text(), nullable=True),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_by_name", sa.String(200), nullable=False),
        sa.Column("saved_at", TIMESTAMP, nullable=False),
    )
    # A delete asks whether any other name still keeps the picture.
    op.create_index("ix_saved_sheets_sha256", "saved_sheets", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_saved_sheets_sha256", table_name="saved_sheets")
    op.drop_table("saved_sheets")
