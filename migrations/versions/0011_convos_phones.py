"""conversations as phones use them: message requests, admins, mute, edits, unsends, shares, reactions

Revision ID: 0011_convos
Revises: 0010
Create Date: 2026-12-07 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_convos"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="accepted")
        )
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Existing conversations were accepted by everyone in them; a group's creator administers it.
    members = sa.table(
        "conversation_members",
        sa.column("conversation_id", sa.BigInteger),
        sa.column("user_id", sa.BigInteger),
        sa.column("is_admin", sa.Boolean),
    )
    conversations = sa.table(
        "conversations",
        sa.column("id", sa.BigInteger),
        sa.column("created_by", sa.BigInteger),
        sa.column("is_group", sa.Boolean),
    )
    creators = (
        sa.select(conversations.c.id)
        .where(
            conversations.c.id == members.c.conversation_id,
            conversations.c.created_by == members.c.user_id,
            conversations.c.is_group.is_(sa.true()),
        )
        .exists()
    )
    op.execute(members.update().where(creators).values(is_admin=sa.true()))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared_post_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("shared_story_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unsent_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "message_reactions",
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
        sa.Column("reacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_reactions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_reactions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", name=op.f("pk_message_reactions")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("message_reactions")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("unsent_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("shared_story_id")
        batch_op.drop_column("shared_post_id")
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.drop_column("muted")
        batch_op.drop_column("is_admin")
        batch_op.drop_column("state")
        batch_op.drop_column("joined_seq")
