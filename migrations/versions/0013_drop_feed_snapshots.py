"""drop feed_snapshots: ranked-feed snapshots live in Redis (or the process), never in the database,
so a read writes nothing (resolvers/feed/snapshots.py)

Revision ID: 0013_drop_feed_snapshots
Revises: 0012_safety
Create Date: 2026-12-07 07:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013_drop_feed_snapshots"
down_revision: str | Sequence[str] | None = "0012_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_snapshots_viewer_id_expires_at"))
    op.drop_table("feed_snapshots")


def downgrade() -> None:
    op.create_table(
        "feed_snapshots",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["viewer_id"], ["users.id"], name=op.f("fk_feed_snapshots_viewer_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_snapshots")),
    )
    with op.batch_alter_table("feed_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_snapshots_viewer_id_expires_at"), ["viewer_id", "expires_at"], unique=False
        )
