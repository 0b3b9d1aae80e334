"""discovery: hashtags, caption mentions, saved posts, Post.edited_at, trigram search indexes

Revision ID: 0011_discovery
Revises: 0010
Create Date: 2026-12-07 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_discovery"
down_revision: str | Sequence[str] | None = "0011_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "hashtags",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hashtags")),
        sa.UniqueConstraint("name", name=op.f("uq_hashtags_name")),
    )
    op.create_table(
        "post_hashtags",
        sa.Column("hashtag_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hashtag_id"],
            ["hashtags.id"],
            name=op.f("fk_post_hashtags_hashtag_id_hashtags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_hashtags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("hashtag_id", "post_id", name=op.f("pk_post_hashtags")),
    )
    op.create_index(op.f("ix_post_hashtags_post_id"), "post_hashtags", ["post_id"], unique=False)
    op.create_table(
        "post_mentions",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_mentions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_post_mentions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_mentions")),
    )
    op.create_index(op.f("ix_post_mentions_user_id"), "post_mentions", ["user_id"], unique=False)
    op.create_table(
        "saved_posts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_saved_posts_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_posts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_posts")),
        sa.UniqueConstraint("user_id", "post_id", name=op.f("uq_saved_posts_user_id_post_id")),
    )
    op.create_index(op.f("ix_saved_posts_post_id"), "saved_posts", ["post_id"], unique=False)
    op.create_index(op.f("ix_saved_posts_user_id_id"), "saved_posts", ["user_id", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Needs CREATE privilege on the database (docs/operations.md); a no-op where it exists.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # GIN trigram indexes on PostgreSQL; plain indexes on SQLite (the postgresql_* options are ignored).
    op.create_index(
        "ix_users_username_trgm",
        "users",
        ["username"],
        postgresql_using="gin",
        postgresql_ops={"username": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_users_display_name_trgm",
        "users",
        ["display_name"],
        postgresql_using="gin",
        postgresql_ops={"display_name": "gin_trgm_ops"},
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_users_display_name_trgm", table_name="users")
    op.drop_index("ix_users_username_trgm", table_name="users")
    op.drop_index(op.f("ix_saved_posts_user_id_id"), table_name="saved_posts")
    op.drop_index(op.f("ix_saved_posts_post_id"), table_name="saved_posts")
    op.drop_table("saved_posts")
    op.drop_index(op.f("ix_post_mentions_user_id"), table_name="post_mentions")
    op.drop_table("post_mentions")
    op.drop_index(op.f("ix_post_hashtags_post_id"), table_name="post_hashtags")
    op.drop_table("post_hashtags")
    op.drop_table("hashtags")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("edited_at")
