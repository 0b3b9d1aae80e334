"""Comments on posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # A post's comments, oldest first (the keyset cursor of Post.comments).
        Index(None, "post_id", "id"),
        # The idempotency key: a retried addComment finds the first comment instead of adding one.
        UniqueConstraint("author_id", "client_id"),
    )

    # Time-ordered: the keyset cursor of a post's comments.
    id: Mapped[int] = id_column()
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
