"""users: a partial index of suspended accounts, for the suspended branch of every visibility rule
(resolvers/visibility_sql.py `blocked_with`), which otherwise scanned every user per statement

Revision ID: 0014_users_suspended
Revises: 0013_drop_feed_snapshots
Create Date: 2026-12-07 10:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014_users_suspended"
down_revision: str | Sequence[str] | None = "0013_drop_feed_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_users_suspended",
            ["id"],
            unique=False,
            postgresql_where=sa.text("suspended_at IS NOT NULL"),
            sqlite_where=sa.text("suspended_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_users_suspended",
            postgresql_where=sa.text("suspended_at IS NOT NULL"),
            sqlite_where=sa.text("suspended_at IS NOT NULL"),
        )
