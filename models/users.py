from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The few suspended accounts, for the suspended branch of every visibility rule
        # (resolvers/visibility_sql.py `blocked_with`): an index scan, not a scan of all users.
        Index(
            "ix_users_suspended",
            "id",
            postgresql_where=text("suspended_at IS NOT NULL"),
            sqlite_where=text("suspended_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = id_column()
    # Stored normalized (lowercase); the unique constraint makes names unique regardless of case.
    username: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    avatar_media_id: Mapped[int | None] = mapped_column(default=None)
    # Keep one's expired stories (and their media) in one's archive instead of letting them be swept.
    archive_stories: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    last_active_at: Mapped[datetime]
    # Normalized (lowercase); unique among confirmed addresses only (index in models/accounts.py).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set by deleteAccount: the row stays as the sender of its messages' tombstones, found by no path.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set by a moderator (resolveReport SUSPEND_ACCOUNT): log-in refused, content hidden like a block.
    suspended_at: Mapped[datetime | None] = mapped_column(default=None)
    # Appointed by an operator (`ephemera moderator add`): may review reports.
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuthToken(Base):
    __tablename__ = "auth_tokens"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # SHA-256 of the token: a leaked table does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Written by a batched flush (resolvers/accounts/session_activity.py), never by the request itself.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
