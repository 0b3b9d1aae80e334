"""Highlights: named sets of one author's stories kept on their profile past the stories' expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Highlight(Base):
    __tablename__ = "highlights"
    __table_args__ = (Index(None, "owner_id"),)

    # Time-ordered: a profile lists its highlights newest first by id.
    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(30))
    # The media of one of the highlight's stories, or NULL for "the first story the viewer may see".
    cover_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]


class HighlightStory(Base):
    """A story in a highlight. While a story has a row here (and is not deleted) the sweeper keeps it."""

    __tablename__ = "highlight_stories"
    # The sweeper's claim asks "is this story in any highlight" for every expired story.
    __table_args__ = (Index(None, "story_id"),)

    highlight_id: Mapped[int] = mapped_column(
        ForeignKey("highlights.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime]
