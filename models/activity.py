"""The activity inbox: what happened to a user's account and content, grouped and numbered.

Each user's items are numbered by their own `seq` (handed out by `activity_inboxes.last_seq` in
the transaction that writes the item), so "newest first" is an index range and a subscriber
resumes from the last seq it saw. An item joined by a new actor (a second like of a post) takes a
new seq: it moves to the top, and is delivered again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class ActivityInbox(Base):
    """One row per user with activity: the last seq handed out and the last one marked seen."""

    __tablename__ = "activity_inboxes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    seen_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        # The inbox page (newest first) and the subscriber's replay (seq > afterSeq).
        UniqueConstraint("user_id", "seq"),
        # One item per group (all likes of a post, one actor's follow); NULL: an item of its own.
        UniqueConstraint("user_id", "group_key"),
    )

    # Stable for the item's life: its global id.
    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    group_key: Mapped[str | None] = mapped_column(String(64), default=None)
    seq: Mapped[int] = mapped_column(BigInteger)
    # What it is about; a deleted post, comment, story or message takes its items with it.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), default=None)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), default=None)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), default=None
    )
    emoji: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ActivityActor(Base):
    """Who did it: one row per actor of an item, with when they last did it."""

    __tablename__ = "activity_actors"
    __table_args__ = (Index(None, "activity_id", "acted_at"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    acted_at: Mapped[datetime]
