"""Conversations, their members and their messages.

A conversation hands out `seq` numbers itself: `last_seq` is bumped by the same transaction
that inserts the message, so seqs have no gaps and no duplicates whatever the concurrency.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index(None, "activity_id"),)

    id: Mapped[int] = id_column()
    is_group: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str | None] = mapped_column(String(100), default=None)
    # "<smaller user id>:<larger user id>" for a 1:1, so two racing starts make one conversation.
    direct_key: Mapped[str | None] = mapped_column(String(48), unique=True, default=None)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The id of the last message, or the conversation's own: time-ordered, so "most recently
    # active first" is an index scan and a keyset cursor.
    activity_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConversationMember(Base):
    __tablename__ = "conversation_members"
    __table_args__ = (Index(None, "user_id", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Only ever moves forward (markConversationRead).
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime]
    # The conversation's last seq when this member joined: where their live stream starts.
    joined_seq: Mapped[int] = mapped_column(Integer, default=0)
    # ACCEPTED, PENDING (a message request until accepted) or DECLINED (gone for this member
    # alone; the others still see them, so a decline stays silent).
    state: Mapped[str] = mapped_column(String(16), default="accepted")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # The idempotency key: a retried send finds the first message instead of adding one.
        UniqueConstraint("sender_id", "client_id"),
    )

    id: Mapped[int] = id_column()
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"), default=None)
    # Filled by story replies and shares; no foreign keys, so this table depends on neither
    # stories nor posts: what a reader sees of them is decided at read time, for that reader.
    reply_to_story_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    shared_post_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    shared_story_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sent_at: Mapped[datetime]
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    # An unsent message keeps its seq (history has no gaps) and loses its content.
    unsent_at: Mapped[datetime | None] = mapped_column(default=None)


class MessageReaction(Base):
    """One emoji per member per message, replaced by a new one."""

    __tablename__ = "message_reactions"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64))
    reacted_at: Mapped[datetime]
