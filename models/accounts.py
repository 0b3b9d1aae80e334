"""What accounts keep beside the user row: emailed one-time links, held usernames, data exports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column
from models.users import User

# Among confirmed addresses each belongs to one account; unconfirmed ones may repeat.
Index(
    "uq_users_verified_email",
    User.email,
    unique=True,
    sqlite_where=text("email_verified"),
    postgresql_where=text("email_verified"),
)


class LinkPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class EmailLink(Base):
    """A single-use token sent by mail; only its SHA-256 digest is stored."""

    __tablename__ = "email_links"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(LinkPurpose, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address it was sent to: verifying confirms this one, not whatever the account has now.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class UsernameHold(Base):
    """The username of a deleted account, refused to sign-ups until `until` (USERNAME_REUSE_DAYS)."""

    __tablename__ = "username_holds"

    username: Mapped[str] = mapped_column(String(30), primary_key=True)
    until: Mapped[datetime]


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class DataExport(Base):
    """One archive of an account's data, built in the background; the file lives in storage."""

    __tablename__ = "data_exports"
    __table_args__ = (Index(None, "user_id", "id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    storage_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
