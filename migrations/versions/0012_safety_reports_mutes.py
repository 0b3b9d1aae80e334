"""safety: mutes, reports with their evidence and held objects, the moderation log, suspensions

Revision ID: 0012_safety
Revises: 0011_discovery
Create Date: 2026-12-07 04:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012_safety"
down_revision: str | Sequence[str] | None = "0011_discovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "mutes",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("other_id", sa.BigInteger(), nullable=False),
        sa.Column("posts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("stories", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mutes_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["users.id"], name=op.f("fk_mutes_other_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "other_id", name=op.f("pk_mutes")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence_author_id", sa.BigInteger(), nullable=True),
        sa.Column("evidence_text", sa.Text(), nullable=True),
        sa.Column("evidence_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence_media", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "reporter_id",
            "subject_kind",
            "subject_id",
            name=op.f("uq_reports_reporter_id_subject_kind_subject_id"),
        ),
    )
    op.create_index(op.f("ix_reports_status_id"), "reports", ["status", "id"], unique=False)
    op.create_table(
        "report_objects",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_objects_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "key", name=op.f("pk_report_objects")),
    )
    op.create_index(op.f("ix_report_objects_key"), "report_objects", ["key"], unique=False)
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("subject_user_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
    )
    op.create_index(op.f("ix_moderation_log_report_id"), "moderation_log", ["report_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_moderation_log_report_id"), table_name="moderation_log")
    op.drop_table("moderation_log")
    op.drop_index(op.f("ix_report_objects_key"), table_name="report_objects")
    op.drop_table("report_objects")
    op.drop_index(op.f("ix_reports_status_id"), table_name="reports")
    op.drop_table("reports")
    op.drop_table("mutes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_moderator")
        batch.drop_column("suspended_at")
