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
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, insert, select, update
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
    """What a send checks, read in its transaction: whether the conversation is a group, the
    viewer's membership state (never DECLINED: that is NOT_FOUND), every member's user id
    (longest-standing first) and the id of the viewer's message already sent with this clientId."""

    is_group: bool
    state: str
    member_ids: list[int]
    earlier_id: int | None


def _build_target() -> Any:
    earlier = (
        select(Message.id)
        .where(Message.sender_id == bindparam("viewer"), Message.client_id == bindparam("client_id"))
        .scalar_subquery()
    )
    member = ConversationMember
    return (
        select(Conversation.is_group, member.user_id, member.state, earlier.label("earlier"))
        .join(member, member.conversation_id == Conversation.id)
        .where(Conversation.id == bindparam("conversation_id"))
        .order_by(member.joined_at, member.user_id)
    )


def _build_next_seq() -> Any:
    # The row lock (PostgreSQL) or the single writer (SQLite) orders concurrent senders: each
    # transaction gets the next seq and commits before the next one can take its own.
    # Core statements on the tables (the ORM would take a parameter dict for bulk rows).
    table = cast(Table, Conversation.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("m_conversation_id", type_=BigInteger))
        .values(
            last_seq=table.c.last_seq + 1,
            last_message_id=bindparam("m_id", type_=BigInteger),
            activity_id=bindparam("m_id", type_=BigInteger),
            updated_at=bindparam("m_sent_at", type_=table.c.updated_at.type),
        )
        .returning(table.c.last_seq)
    )


_COLUMNS = [column for column in Message.__table__.columns if column.key != "seq"]


def _build_insert() -> Any:
    """PostgreSQL: the seq UPDATE as a CTE feeding the INSERT; nothing when the clientId is taken."""
    next_seq = _build_next_seq().cte("next_seq")
    source = select(
        *(bindparam(f"m_{column.key}", type_=column.type).label(column.key) for column in _COLUMNS),
        next_seq.c.last_seq,
    )
    return (
        postgresql.insert(cast(Table, Message.__table__))
        .from_select([*(column.key for column in _COLUMNS), "seq"], source)
        .on_conflict_do_nothing(index_elements=["sender_id", "client_id"])
        .returning(Message.__table__.c.seq)
    )


# Built once (as RelationshipTo's UNION), not built and keyed again for every send.
_TARGET = _build_target()
_NEXT_SEQ = _build_next_seq()
_INSERT = _build_insert()


async def send_target(ctx: RequestContext, conversation_id: int, client_id: str) -> SendTarget:
    """One statement; NOT_FOUND unless the viewer is a member (as `member_conversation`)."""
    viewer = ctx.require_viewer()
    params = {"viewer": viewer, "client_id": client_id, "conversation_id": conversation_id}
    async with ctx.read() as session:
        rows = (await session.execute(_TARGET, params)).all()
    mine = [row.state for row in rows if row.user_id == viewer and row.state != DECLINED]
    if not mine:
        raise NotFound("Conversation")
    return SendTarget(rows[0].is_group, mine[0], [row.user_id for row in rows], rows[0].earlier)


async def insert_message(work: UnitOfWork, message: Message) -> Message:
    """`message` (its seq left out) as the conversation's next one, which becomes its last."""
    values = {column.key: getattr(message, column.key) for column in _COLUMNS}
    params = {f"m_{key}": value for key, value in values.items()}
    if work.services.db.is_sqlite:
        seq = await work.session.scalar(_NEXT_SEQ, params)
        if seq is not None:
            await work.session.execute(insert(Message).values(**values, seq=seq))
    else:
        seq = await work.session.scalar(_INSERT, params)
    if seq is None:
        # Gone since it was read, or the clientId taken by a racing send: the send runs again.
        raise AlreadySent()
    message.seq = seq
    return message
