"""Ranked feed snapshots kept in the database (without Redis): the order a first page fixed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class FeedSnapshot(Base):
    __tablename__ = "feed_snapshots"
    __table_args__ = (Index(None, "viewer_id", "expires_at"),)

    id: Mapped[int] = id_column()
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The ranked post ids, best first.
    post_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
