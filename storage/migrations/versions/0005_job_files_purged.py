"""When a job's sheet and video were removed from disk (retention), queryable.

Revision ID: 0005_job_files_purged
Revises: 0004_approvals
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_job_files_purged"
down_revision: str | None = "0004_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    # NULL until the retention sweep removes the job's files; the sweep looks for ended jobs
    # not yet purged, oldest first, so the index leads with purged_at.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("purged_at", TIMESTAMP, nullable=True))
    op.create_index("ix_jobs_purge", "jobs", ["purged_at", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_purge", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("purged_at")
