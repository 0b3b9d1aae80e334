"""The statements of a send: what it checks read in one statement, the message written in one.

A send reads the conversation with every member row (and the viewer's message already sent with
the same clientId, if any) in one statement (`send_target`), and writes the conversation's next
seq and the message in one statement on PostgreSQL (`insert_message`: the seq UPDATE as a CTE
feeding the INSERT; SQLite runs the two one after the other, its single writer orders them).

The INSERT does nothing when the viewer's clientId is already taken (ON CONFLICT on the
(sender_id, client_id) key: it waits for a racing send of the same clientId to commit or roll
back): `AlreadySent` then rolls the transaction back, and the send runs again, finding the first
message in `send_target`. No lock is taken for a clientId.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select, update
from sqlalchemy.dialects import postgresql

from core.context import RequestContext
from core.errors import NotFound, WriteConflict
from core.unit_of_work import UnitOfWork
from models import Conversation, ConversationMember, Message
from resolvers.conversations.members import DECLINED


class AlreadySent(WriteConflict):
    """The clientId was taken by a send that committed after this one read: run the send again."""


@dataclass(frozen=True)
class SendTarget:
    """What a send checks, read in its transaction: the conversation, the viewer's membership
    (not declined), every member's user id (longest-standing first) and the id of the viewer's
    message already sent with this clientId."""

    conversation: Conversation
    membership: ConversationMember
    member_ids: list[int]
    earlier_id: int | None


async def send_target(ctx: RequestContext, conversation_id: int, client_id: str) -> SendTarget:
    """One statement; NOT_FOUND unless the viewer is a member (as `member_conversation`)."""
    viewer = ctx.require_viewer()
    earlier = (
        select(Message.id)
        .where(Message.sender_id == viewer, Message.client_id == client_id)
        .scalar_subquery()
    )
    stmt = (
        select(Conversation, ConversationMember, earlier.label("earlier"))
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(Conversation.id == conversation_id)
        .order_by(ConversationMember.joined_at, ConversationMember.user_id)
    )
    async with ctx.read() as session:
        rows = (await session.execute(stmt)).all()
    mine = [row[1] for row in rows if row[1].user_id == viewer and row[1].state != DECLINED]
    if not mine:
        raise NotFound("Conversation")
    return SendTarget(rows[0][0], mine[0], [row[1].user_id for row in rows], rows[0][2])


async def insert_message(work: UnitOfWork, message: Message) -> Message:
    """`message` (its seq left out) as the conversation's next one, which becomes its last."""
    values: dict[str, Any] = {
        column.key: getattr(message, column.key)
        for column in Message.__table__.columns
        if column.key != "seq"
    }
    bump = _next_seq(message.conversation_id, message.id, message.sent_at)
    if work.services.db.is_sqlite:
        seq = await work.session.scalar(bump)
        if seq is not None:
            await work.session.execute(insert(Message).values(**values, seq=seq))
    else:
        next_seq = bump.cte("next_seq")
        table = Message.__table__
        source = select(
            *(literal(value, table.c[key].type).label(key) for key, value in values.items()),
            next_seq.c.last_seq,
        )
        stmt = (
            postgresql.insert(Message)
            .from_select([*values, "seq"], source)
            .on_conflict_do_nothing(index_elements=["sender_id", "client_id"])
            .returning(Message.seq)
        )
        seq = await work.session.scalar(stmt)
    if seq is None:
        # Gone since it was read, or the clientId taken by a racing send: the send runs again.
        raise AlreadySent()
    message.seq = seq
    return message


def _next_seq(conversation_id: int, message_id: int, now: datetime) -> Any:
    # The row lock (PostgreSQL) or the single writer (SQLite) orders concurrent senders: each
    # transaction gets the next seq and commits before the next one can take its own.
    return (
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            last_seq=Conversation.last_seq + 1,
            last_message_id=message_id,
            activity_id=message_id,
            updated_at=now,
        )
        .returning(Conversation.last_seq)
    )
