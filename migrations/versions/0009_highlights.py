"""highlights and the story archive: stories their author chose to keep past expiry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00.000000

Existing accounts start with the archive off, which is today's behaviour: expired stories are
swept after the retention window.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archive_stories", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "highlights",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=30), nullable=False),
        sa.Column("cover_media_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cover_media_id"],
            ["media.id"],
            name=op.f("fk_highlights_cover_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_highlights_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_highlights")),
    )
    with op.batch_alter_table("highlights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_highlights_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "highlight_stories",
        sa.Column("highlight_id", sa.BigInteger(), nullable=False),
        sa.Column("story_id", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["highlight_id"],
            ["highlights.id"],
            name=op.f("fk_highlight_stories_highlight_id_highlights"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_highlight_stories_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("highlight_id", "story_id", name=op.f("pk_highlight_stories")),
    )
    with op.batch_alter_table("highlight_stories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_highlight_stories_story_id"), ["story_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("highlight_stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_highlight_stories_story_id"))

    op.drop_table("highlight_stories")
    with op.batch_alter_table("highlights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_highlights_owner_id"))

    op.drop_table("highlights")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("archive_stories")
