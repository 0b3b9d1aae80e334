"""engagement: comments, the activity inbox, ranked feed snapshots

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00.000000

Posts gain a comment count kept in the commenting transaction (like like_count) and a switch
that turns comments off; existing posts start at zero comments, comments on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("comment_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("comments_disabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("comments", "author_id", "users"),
        _fk("comments", "post_id", "posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("author_id", "client_id", name=op.f("uq_comments_author_id_client_id")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_post_id_id"), ["post_id", "id"], unique=False)

    op.create_table(
        "activity_inboxes",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("seen_seq", sa.BigInteger(), nullable=False),
        _fk("activity_inboxes", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_activity_inboxes")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("story_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("emoji", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("activities", "comment_id", "comments"),
        _fk("activities", "message_id", "messages"),
        _fk("activities", "post_id", "posts"),
        _fk("activities", "story_id", "stories"),
        _fk("activities", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("user_id", "group_key", name=op.f("uq_activities_user_id_group_key")),
        sa.UniqueConstraint("user_id", "seq", name=op.f("uq_activities_user_id_seq")),
    )
    op.create_table(
        "activity_actors",
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=False),
        _fk("activity_actors", "activity_id", "activities"),
        _fk("activity_actors", "actor_id", "users"),
        sa.PrimaryKeyConstraint("activity_id", "actor_id", name=op.f("pk_activity_actors")),
    )
    with op.batch_alter_table("activity_actors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_actors_activity_id_acted_at"), ["activity_id", "acted_at"], unique=False
        )

    op.create_table(
        "feed_snapshots",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _fk("feed_snapshots", "viewer_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_snapshots")),
    )
    with op.batch_alter_table("feed_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_snapshots_viewer_id_expires_at"), ["viewer_id", "expires_at"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("feed_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_snapshots_viewer_id_expires_at"))
    op.drop_table("feed_snapshots")
    with op.batch_alter_table("activity_actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_actors_activity_id_acted_at"))
    op.drop_table("activity_actors")
    op.drop_table("activities")
    op.drop_table("activity_inboxes")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_post_id_id"))
    op.drop_table("comments")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("comments_disabled")
        batch_op.drop_column("comment_count")
