from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class MediaStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class Media(Base):
    """Metadata of one uploaded object; the bytes live in object storage under `storage_key`.

    While PENDING, `storage_key` is the upload key the client's form posts to; verification
    moves it to a key only the server writes (see resolvers.media.uploads). `upload_key` is kept until
    the form has expired and a leftover upload object is deleted; null for older rows.
    """

    __tablename__ = "media"
    __table_args__ = (
        Index(None, "owner_id"),
        # The cleanup job scans abandoned uploads by status and age.
        Index(None, "status", "created_at"),
        # Releasing spent uploads looks for the few rows that still have one.
        Index(None, "upload_key"),
    )

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64))
    # Declared at upload (the upper bound storage enforces); the real size once verified.
    byte_size: Mapped[int]
    status: Mapped[MediaStatus] = mapped_column(
        Enum(MediaStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    storage_key: Mapped[str] = mapped_column(String(255))
    upload_key: Mapped[str | None] = mapped_column(String(255), default=None)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    alt_text: Mapped[str | None] = mapped_column(String(1000), default=None)
    # [{"name": "w150", "width": 150, "height": 100, "key": "post/1/2_w150.jpg"}, ...] smallest first
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Videos: seconds of playback, FFmpeg's codec name, and the poster frame with its renditions,
    # {"key": ..., "width": ..., "height": ..., "variants": [...]}.
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    video_codec: Mapped[str | None] = mapped_column(String(16), default=None)
    poster: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    # A BlurHash of the smallest rendition (of the poster, for a video).
    placeholder: Mapped[str | None] = mapped_column(String(128), default=None)
    failure: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime]
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class MediaReconciliation(Base):
    """One run of `ephemera reconcile-media`: where object storage and the media table disagreed."""

    __tablename__ = "media_reconciliations"

    id: Mapped[int] = id_column()
    finished_at: Mapped[datetime]
    objects: Mapped[int]  # listed in storage, under the prefixes the app writes
    orphaned: Mapped[int]  # of those, named by no media row (and old enough to judge)
    orphaned_bytes: Mapped[int]
    recent: Mapped[int]  # named by no row yet, but younger than the run's minimum age
    deleted: Mapped[int]  # orphans deleted (with --delete)
    rows: Mapped[int]  # ready media rows checked
    missing: Mapped[int]  # objects those rows name that storage does not have
