"""A conversation with its messages page (and the page's senders, with their avatars) in ONE
statement on PostgreSQL, for `node(id:) { ... on Conversation { messages(...) } }`.

The statement is the membership check of `visible_conversation` (the viewer's member row, not
declined) joined to the conversation and, laterally, to the page `MessagesPage` reads (by seq,
one more than asked), then to each message's sender with `clear`: `interacts` with the viewer
(resolvers/visibility_sql.py), which is what `visible_messages` asks of a sender. No row: not the
viewer's conversation. The page is cut as `MessagesPage` cuts it (resolvers/conversations/
messages.py `page_of`); a message whose sender is not clear is decided by `visible_messages`
itself. What it read is kept for the child loaders: the page (`KnownMessagePages`), the senders
(execution/rows.py `KnownUsers`) and their avatars (`KnownMedia`). Compiled once per page shape
(execution/joined.py `compiled`), sent on the read session's asyncpg connection.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, bindparam, select, true

from core.context import RequestContext
from core.errors import BadInput
from execution import joined, rows
from execution.batched import ShownPage
from models import Conversation, ConversationMember, Message, User
from resolvers.conversations import conversations, messages
from resolvers.conversations.members import DECLINED
from resolvers.visibility_sql import interacts

ConversationRow = namedtuple("ConversationRow", [c.key for c in Conversation.__table__.c])  # type: ignore[misc]
MessageRow = namedtuple("MessageRow", [c.key for c in Message.__table__.c])  # type: ignore[misc]
_CONVERSATION = len(Conversation.__table__.c)
_MESSAGE = _CONVERSATION + len(Message.__table__.c)
_USER = _MESSAGE + len(User.__table__.c) + 1  # with `clear`


class KnownMessagePages:
    """Pages read with their conversation: (conversation id, `MessagePageKey`) -> `ShownPage`,
    which `conversation_messages` answers without a statement. Keyed in `ctx.loaders`."""


def known_pages(ctx: RequestContext) -> dict[tuple[int, Any], ShownPage]:
    known: dict[tuple[int, Any], ShownPage] = ctx.loaders.setdefault(KnownMessagePages, {})
    return known


@dataclass(frozen=True)
class _Shape:
    backward: bool
    after: bool
    before: bool
    senders: bool  # the document asks for `sender`
    avatars: bool  # ... and for media by id (a sender's avatar among them)


def _statement(shape: _Shape) -> Select[Any]:
    viewer = bindparam("viewer", type_=BigInteger)
    page = select(*Message.__table__.c).where(Message.conversation_id == Conversation.id)
    if shape.after:
        page = page.where(Message.seq > bindparam("after", type_=Integer))
    if shape.before:
        page = page.where(Message.seq < bindparam("before", type_=Integer))
    order = Message.seq.desc() if shape.backward else Message.seq.asc()
    lateral = page.order_by(order).limit(bindparam("size", type_=Integer)).lateral("page")
    member = ConversationMember.__table__
    source: Any = Conversation.__table__.join(
        member,
        (member.c.conversation_id == Conversation.id)
        & (member.c.user_id == viewer)
        & (member.c.state != DECLINED),
    ).outerjoin(lateral, true())
    columns: list[Any] = [*Conversation.__table__.c, *lateral.c]
    if shape.senders:
        columns += [*User.__table__.c, interacts(viewer, lateral.c.sender_id).label("clear")]
        source = source.outerjoin(User, User.id == lateral.c.sender_id)
    else:
        columns.append(interacts(viewer, lateral.c.sender_id).label("clear"))
    if shape.avatars:
        columns += list(rows.AVATAR.c)
        source = source.outerjoin(rows.AVATAR, rows.AVATAR.c.id == User.avatar_media_id)
    return (
        select(*columns)
        .select_from(source)
        .where(Conversation.id == bindparam("conversation", type_=BigInteger))
    )


async def conversation_with_page(
    ctx: RequestContext, conversation_id: int, arguments: dict[str, Any], below: frozenset[str]
) -> Any:
    """The conversation if the viewer is a member (None otherwise), its messages page by
    `arguments` (the field's) kept for `conversation_messages`."""
    viewer = ctx.viewer_id
    if viewer is None:
        return None
    try:
        key = messages.page_key(
            conversation_id,
            arguments.get("first"),
            arguments.get("after"),
            arguments.get("last"),
            arguments.get("before"),
        )
    except BadInput:  # the field reports it, on the ordinary path
        return await conversations.visible_conversation(ctx, conversation_id)
    senders = "message_sender" in below
    shape = _Shape(
        key.backward,
        key.after is not None,
        key.before is not None,
        senders,
        senders and "media_by_id" in below,
    )
    params: dict[str, int | None] = {"viewer": viewer, "conversation": conversation_id, "size": key.size + 1}
    params |= {"after": key.after, "before": key.before}
    found = await joined.read_rows(ctx, shape, lambda: _statement(shape), params)
    if not found:
        return None
    page: list[Any] = []
    clear: dict[int, bool] = {}
    users, avatars = rows.known_users(ctx), rows.known_media(ctx)
    clear_at = _USER - 1 if senders else _MESSAGE
    for values in found:
        if values[_CONVERSATION] is None:
            continue  # the conversation has no message in this range
        message: Any = MessageRow._make(values[_CONVERSATION:_MESSAGE])
        page.append(message)
        clear[message.id] = bool(values[clear_at])
        if senders and values[_MESSAGE] is not None:
            user: Any = joined.UserRow._make(values[_MESSAGE:_USER])
            users[user.id] = user
            if shape.avatars:
                rows.keep_avatar(avatars, user, values[_USER:])
    cut = messages.page_of(page, key)
    # `interacts` is `can_interact` for anyone but the viewer: only the viewer's own messages that
    # are not clear (never, while the viewer is signed in) are left to `visible_messages`.
    hidden = {id(row) for _, row in cut.items if not clear[row.id] and row.sender_id != viewer}
    unclear = [row for _, row in cut.items if not clear[row.id] and row.sender_id == viewer]
    if unclear:
        shown = await messages.visible_messages(ctx, unclear)
        hidden.update(id(row) for row, ok in zip(unclear, shown, strict=True) if not ok)
    known_pages(ctx)[conversation_id, key] = ShownPage(
        cut, [(cursor, row) for cursor, row in cut.items if id(row) not in hidden]
    )
    return ConversationRow._make(found[0][:_CONVERSATION])
