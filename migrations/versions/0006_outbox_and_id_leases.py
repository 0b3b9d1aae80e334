"""One outbox for after-commit work (feed fan-out, graph hooks, storage deletes); id node leases.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox = op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_available_at_id"), ["available_at", "id"], unique=False)
    # Feed work not yet drained moves over: "post"/"delete" rows become feed.post/feed.delete.
    connection = op.get_bind()
    old = sa.table(
        "feed_outbox",
        sa.column("id", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("post_id", sa.BigInteger()),
        sa.column("author_id", sa.BigInteger()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = connection.execute(sa.select(old)).all()
    if rows:
        op.bulk_insert(
            outbox,
            [
                {
                    "id": row.id,
                    "kind": f"feed.{row.kind}",
                    "payload": {"post_id": row.post_id, "author_id": row.author_id},
                    "available_at": row.created_at,
                    "attempts": 0,
                    "created_at": row.created_at,
                }
                for row in rows
            ],
        )
    op.drop_table("feed_outbox")
    op.create_table(
        "id_node_leases",
        sa.Column("node_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_id_node_leases")),
    )


def downgrade() -> None:
    op.drop_table("id_node_leases")
    op.create_table(
        "feed_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_outbox")),
    )
    # Only post fan-out existed before: other kinds of pending work are dropped with the table.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_available_at_id"))
    op.drop_table("outbox")
