"""Running balances admission reads instead of summing a period's entries (storage.balances).

Revision ID: 0008_admission_balances
Revises: 0007_saved_sheets
Create Date: 2026-12-03

Back-fills every (scope, user) and (scope, pool) balance with no window (all time, window_start
the epoch) from the existing entries. A period's balance is back-filled by admission the first
time a cap asks for it (the migration cannot know the periods and time zones the caps use).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_admission_balances"
down_revision: str | None = "0007_saved_sheets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0001: aware UTC datetimes are timestamptz on PostgreSQL, integer microseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")

# Each entry with, for a hold, its closing entry if any; the sums storage.usage makes.
_SUMS = """
    COALESCE(SUM(CASE WHEN e.kind = 'capture' THEN e.amount ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN e.kind = 'hold' AND c.id IS NULL THEN e.amount ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN e.kind IN ('grant', 'adjust') AND {granted}
        THEN e.amount ELSE 0 END), 0),
    COUNT(CASE WHEN e.kind = 'hold' AND c.id IS NULL THEN 1 END)
FROM ledger_entries e LEFT JOIN ledger_entries c
    ON c.ref = e.ref AND e.kind = 'hold' AND c.kind IN ('capture', 'release')
"""


def upgrade() -> None:
    op.create_table(
        "admission_balances",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("window_start", TIMESTAMP, primary_key=True),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("open_holds", sa.Integer(), nullable=False),
    )
    epoch = (
        "0" if op.get_bind().dialect.name == "sqlite" else "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
    )
    columns = "scope, subject, window_start, spent, held, granted, open_holds"
    users = _SUMS.format(granted="1 = 1")
    pool = _SUMS.format(granted="e.user_id IS NULL")
    op.execute(
        f"INSERT INTO admission_balances ({columns}) SELECT e.scope, e.user_id, {epoch}, {users}"
        " WHERE e.user_id IS NOT NULL GROUP BY e.scope, e.user_id"
    )
    op.execute(
        f"INSERT INTO admission_balances ({columns}) SELECT e.scope, '', {epoch}, {pool}"
        " GROUP BY e.scope"
    )


def downgrade() -> None:
    op.drop_table("admission_balances")
