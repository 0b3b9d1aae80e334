"""Posts, their media and likes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # Profile pages and the pull feed: one author's posts, newest first.
        Index(None, "author_id", "id"),
        # The hybrid feed pulls only posts that were not pushed (large authors) at read time.
        Index(
            "ix_posts_pulled_author_id_id",
            "author_id",
            "id",
            postgresql_where=text("NOT pushed"),
            sqlite_where=text("NOT pushed"),
        ),
    )

    # Time-ordered: the keyset cursor of every feed and profile page.
    id: Mapped[int] = id_column()
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caption: Mapped[str] = mapped_column(Text, default="")
    # Decided once at creation: pushed into followers' feeds (small author) or pulled at read time.
    pushed: Mapped[bool] = mapped_column(Boolean)
    # Kept in step with post_likes inside the liking transaction, so a page never counts rows.
    like_count: Mapped[int] = mapped_column(default=0)
    # Kept in step with comments inside the commenting transaction, like like_count.
    comment_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    comments_disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    # Set by editPost; the feed position (the id) never moves.
    edited_at: Mapped[datetime | None] = mapped_column(default=None)


class PostMedia(Base):
    __tablename__ = "post_media"
    __table_args__ = (UniqueConstraint("media_id"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))


class PostLike(Base):
    __tablename__ = "post_likes"
    __table_args__ = (Index(None, "user_id"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]
