"""Stories, who saw them, how they reacted, and the audit trail of their lifecycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (
        # The tray and profiles read an author's live stories by expiry.
        Index(None, "author_id", "expires_at"),
        # The sweeper scans by expiry among stories that still hold media.
        Index(None, "expires_at", "media_id"),
    )

    # Time-ordered: sorting by id sorts by creation.
    id: Mapped[int] = id_column()
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Unique so that purging one story's media never takes another's; NULL once purged.
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), unique=True, default=None
    )
    audience: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class StoryView(Base):
    __tablename__ = "story_views"
    __table_args__ = (UniqueConstraint("story_id", "viewer_id"), Index(None, "viewer_id", "story_id"))

    # Time-ordered: the keyset cursor of the viewers list (most recent first).
    id: Mapped[int] = id_column()
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime]


class StoryReaction(Base):
    __tablename__ = "story_reactions"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64))
    reacted_at: Mapped[datetime]


class StoryEvent(Base):
    """Audit records of the lifecycle: story_deleted (by the author), story_expired (swept)."""

    __tablename__ = "story_events"
    __table_args__ = (Index(None, "story_id"),)

    id: Mapped[int] = id_column()
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
