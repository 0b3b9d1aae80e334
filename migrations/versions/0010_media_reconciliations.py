"""media reconciliations: the counts of each `ephemera reconcile-media` run, for /metrics

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "media_reconciliations",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.Column("orphaned", sa.BigInteger(), nullable=False),
        sa.Column("orphaned_bytes", sa.BigInteger(), nullable=False),
        sa.Column("recent", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("missing", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_reconciliations")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("media_reconciliations")
