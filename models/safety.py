"""Safety: mutes, reports with the evidence taken when they were made, and the moderation audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Mute(Base):
    """user_id mutes other_id's posts (their feed) and/or stories (their tray); the follow stays."""

    __tablename__ = "mutes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    posts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stories: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]


# Report.status values.
OPEN, ACTIONED, DISMISSED = "OPEN", "ACTIONED", "DISMISSED"


class Report(Base):
    """One reporter's report of one subject (a second report of it is the same row).

    The evidence columns are a copy of the subject as it was when reported, so a moderator can
    review it after the story expired or its author deleted it; they are emptied once the report
    is closed and `hold_until` (creation + REPORT_RETENTION_SECONDS) has passed."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("reporter_id", "subject_kind", "subject_id"),
        # The moderation queue: one status, oldest first.
        Index(None, "status", "id"),
    )

    # Time-ordered: the queue's keyset cursor.
    id: Mapped[int] = id_column()
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))
    details: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    hold_until: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    evidence_author_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    evidence_text: Mapped[str | None] = mapped_column(Text, default=None)
    evidence_created_at: Mapped[datetime | None] = mapped_column(default=None)
    # Copies of the subject's media rows (models.Media columns), whose objects the report holds.
    evidence_media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ReportObject(Base):
    """A storage object a report holds: storage deletes and the sweepers skip it while held."""

    __tablename__ = "report_objects"
    __table_args__ = (Index(None, "key"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The media row the object belonged to: while it exists, its owner's lifecycle deletes it.
    media_id: Mapped[int] = mapped_column(BigInteger)


class ModerationLog(Base):
    """Append-only: one row per moderator action, never updated or deleted (no foreign keys, so
    deleting an account leaves the record of what was done)."""

    __tablename__ = "moderation_log"
    __table_args__ = (Index(None, "report_id"),)

    id: Mapped[int] = id_column()
    moderator_id: Mapped[int] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # DISMISS, REMOVE_CONTENT, SUSPEND_ACCOUNT, or MODERATOR_ADD / MODERATOR_REMOVE from the command.
    action: Mapped[str] = mapped_column(String(24))
    subject_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
