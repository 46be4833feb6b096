"""Job leases: the replica that drives each job, until when (by the database's clock).

Revision ID: 0006_job_leases
Revises: 0005_job_files_purged
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_job_leases"
down_revision: str | None = "0005_job_files_purged"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No foreign key to jobs: a lease row is short-lived and only ever read joined to its job.
    op.create_table(
        "job_leases",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.Text(), nullable=False),
        # Epoch seconds: PostgreSQL's clock_timestamp() or SQLite's julianday('now').
        sa.Column("expires_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_job_leases_owner", "job_leases", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_job_leases_owner", table_name="job_leases")
    op.drop_table("job_leases")
