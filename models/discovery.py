"""Discovery: hashtags and mentions parsed from captions, saved posts, and the search indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column
from models.users import User


class Hashtag(Base):
    __tablename__ = "hashtags"

    id: Mapped[int] = id_column()
    # Case-folded, without the '#': the one spelling every post of the tag shares.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]


class PostHashtag(Base):
    """A post carries a hashtag; the primary key (hashtag, post) is the tag page, newest first."""

    __tablename__ = "post_hashtags"
    __table_args__ = (Index(None, "post_id"),)

    hashtag_id: Mapped[int] = mapped_column(ForeignKey("hashtags.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)


class PostMention(Base):
    """An account @mentioned in a post's caption, in order of first use."""

    __tablename__ = "post_mentions"
    __table_args__ = (Index(None, "user_id"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]


class SavedPost(Base):
    __tablename__ = "saved_posts"
    __table_args__ = (
        UniqueConstraint("user_id", "post_id"),
        # The viewer's saved posts, most recently saved first (the id is time-ordered).
        Index(None, "user_id", "id"),
        Index(None, "post_id"),
    )

    # Time-ordered: the keyset cursor of savedPosts; saving again after unsaving moves it up.
    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


# searchUsers on PostgreSQL: trigram GIN indexes serve prefix (LIKE), word-prefix (ILIKE) and fuzzy
# (%) matching alike. SQLite has no pg_trgm: there they are plain indexes (the migration makes both,
# so the schema is one), and search scans users with the same similarity function.
Index(
    "ix_users_username_trgm",
    User.username,
    postgresql_using="gin",
    postgresql_ops={"username": "gin_trgm_ops"},
)
Index(
    "ix_users_display_name_trgm",
    User.display_name,
    postgresql_using="gin",
    postgresql_ops={"display_name": "gin_trgm_ops"},
)
