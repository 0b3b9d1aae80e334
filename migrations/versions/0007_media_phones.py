"""media as phones send it: upload keys apart from served keys, video facts, posters, placeholders

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:30:00.000000

Uploads waiting for verification keep their current key as the upload key; verification then
writes what it serves under a new key. Verified media keep serving from the key they have.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("video_codec", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("poster", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("placeholder", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_media_upload_key"), ["upload_key"], unique=False)
    op.execute("UPDATE media SET upload_key = storage_key WHERE status = 'pending'")


def downgrade() -> None:
    """Downgrade schema."""
    # Nothing to move back: a pending media's storage_key is its upload key until verification,
    # and a verified one keeps serving the key verification gave it.
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_upload_key"))
        batch_op.drop_column("placeholder")
        batch_op.drop_column("poster")
        batch_op.drop_column("video_codec")
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("upload_key")
