"""Key-value records shared by every replica: Slack installations, OAuth state, dedup claims.

Revision ID: 0003_keyvalue
Revises: 0002
Create Date: 2025-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_keyvalue"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    # The primary key is what makes a claim hold across replicas: the insert of a key that is
    # there (and not expired) does nothing, whoever raced it.
    op.create_table(
        "key_values",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
    )
    # Every Slack request leaves a claim that expires within the hour: the sweep finds them here.
    op.create_index("ix_key_values_expires_at", "key_values", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_key_values_expires_at", "key_values")
    op.drop_table("key_values")
