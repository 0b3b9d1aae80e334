"""The social graph: who follows, blocks, trusts or hides from whom. Each row reads 'user_id -> other'."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class FollowState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "followee_id"),
        Index(None, "followee_id", "state", "id"),
        Index(None, "follower_id", "state", "id"),
    )

    # Time-ordered: also the keyset cursor of follower and following lists.
    id: Mapped[int] = id_column()
    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[FollowState] = mapped_column(
        Enum(FollowState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[datetime]


class _Edge:
    """A directed relation owned by user_id about other_id, unique per pair."""

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]


class Block(_Edge, Base):
    __tablename__ = "blocks"
    __table_args__ = (Index(None, "other_id"),)


class CloseFriend(_Edge, Base):
    __tablename__ = "close_friends"
    __table_args__ = (Index(None, "other_id"),)


class Contact(_Edge, Base):
    __tablename__ = "contacts"
    __table_args__ = (Index(None, "other_id"),)


class StoryHide(_Edge, Base):
    """user_id hides their stories from other_id."""

    __tablename__ = "story_hides"
    __table_args__ = (Index(None, "other_id"),)
