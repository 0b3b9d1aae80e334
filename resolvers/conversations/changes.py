"""Changing a sent message: editing, unsending (the tombstone), and reactions.

Each change keeps the message's seq and reaches every member live as `message_changed`; a
replay (afterSeq) reads the message as it is now, so it shows the change too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import delete, select

from core.context import RequestContext
from core.errors import BadInput, Forbidden, NotFound
from core.sql import upsert
from core.unit_of_work import UnitOfWork
from models import Media, Message, MessageReaction
from resolvers.accounts.users import relationships
from resolvers.conversations.members import MemberIds
from resolvers.conversations.messages import clean_body, visible_message
from resolvers.emoji import is_single_emoji
from resolvers.loader import RequestLoader, unique
from resolvers.media.uploads import object_keys
from resolvers.visibility import can_interact
from subscriptions import message_changed


class MessageReactions(RequestLoader[int, list[MessageReaction]]):
    """Each message's reactions, oldest first, for a whole page in one statement."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[MessageReaction]]:
        stmt = (
            select(MessageReaction)
            .where(MessageReaction.message_id.in_(unique(keys)))
            .order_by(MessageReaction.reacted_at, MessageReaction.user_id)
        )
        found: dict[int, list[MessageReaction]] = {}
        async with self.ctx.read() as session:
            for row in await session.scalars(stmt):
                found.setdefault(row.message_id, []).append(row)
        return found

    def default(self, key: int) -> list[MessageReaction]:
        return []


async def visible_reactions(ctx: RequestContext, message_id: int) -> list[MessageReaction]:
    """The reactions the viewer may see: nothing flows between a blocked pair."""
    rows = await MessageReactions(ctx).load(message_id)
    rels = await relationships(ctx, [row.user_id for row in rows])
    return [row for row, rel in zip(rows, rels, strict=True) if can_interact(rel)]


async def _own_message(ctx: RequestContext, message_id: int, verb: str) -> Message:
    message = await visible_message(ctx, message_id)
    if message is None:
        raise NotFound("Message")
    if message.sender_id != ctx.require_viewer():
        raise Forbidden(f"Only its sender can {verb} a message.")
    return message


async def edit_message(ctx: RequestContext, message_id: int, body: str) -> Message:
    """By its sender within MESSAGE_EDIT_WINDOW_SECONDS; the same body again changes nothing."""
    text = clean_body(body)
    services = ctx.services
    async with ctx.write() as work:
        message = await _own_message(ctx, message_id, "edit")
        await work.session.refresh(message, with_for_update=not services.db.is_sqlite)
        if message.unsent_at is not None:
            raise BadInput("An unsent message cannot be edited.", field="id")
        now = services.clock.now()
        if now - message.sent_at > timedelta(seconds=services.settings.message_edit_window_seconds):
            raise BadInput("The time to edit this message has passed.", field="id")
        if not text and message.media_id is None and not _shares(message):
            raise BadInput("A message needs a body or media.", field="body")
        if text != message.body:
            message.body = text
            message.edited_at = now
            await work.session.flush()
            await announce(ctx, work, [message])
    return message


async def unsend_message(ctx: RequestContext, message_id: int) -> Message:
    """By its sender at any time; unsending again changes nothing."""
    async with ctx.write() as work:
        message = await _own_message(ctx, message_id, "unsend")
        changed = await tombstone_messages(work, [message.id])
        await announce(ctx, work, changed)
    found = await visible_message(ctx, message_id)
    if found is None:
        raise NotFound("Message")
    return found


async def tombstone_messages(work: UnitOfWork, message_ids: Sequence[int]) -> list[Message]:
    """Unsend messages for everyone, inside the caller's unit of work: each keeps its place (seq)
    with `unsent_at` set, and loses its body, media, shares, story reference and reactions; media
    objects leave storage once this commits. Returns the messages it changed (ones already unsent
    are left alone), for `announce`. Account deletion calls it with all of a user's messages."""
    if not message_ids:
        return []
    session = work.session
    stmt = select(Message).where(Message.id.in_(unique(message_ids)), Message.unsent_at.is_(None))
    if not work.services.db.is_sqlite:
        stmt = stmt.with_for_update()
    rows = list(await session.scalars(stmt.execution_options(populate_existing=True)))
    if not rows:
        return []
    media_ids = [row.media_id for row in rows if row.media_id is not None]
    media = list(await session.scalars(select(Media).where(Media.id.in_(media_ids)))) if media_ids else []
    now = work.services.clock.now()
    for row in rows:
        row.body = ""
        row.media_id = None
        row.shared_post_id = None
        row.shared_story_id = None
        row.reply_to_story_id = None
        row.unsent_at = now
    await session.flush()
    await session.execute(delete(MessageReaction).where(MessageReaction.message_id.in_([r.id for r in rows])))
    if media:
        await session.execute(delete(Media).where(Media.id.in_([m.id for m in media])))
        work.delete_objects(key for m in media for key in object_keys(m))
    return rows


async def announce(ctx: RequestContext, work: UnitOfWork, messages: Sequence[Message]) -> None:
    """`message_changed` to every member of each message's conversation, after the commit."""
    for message in messages:
        members = await MemberIds(ctx).load(message.conversation_id)
        work.publish(members, message_changed(message.conversation_id, message.id, message.seq))


async def react(ctx: RequestContext, message_id: int, emoji: str | None) -> Message:
    """One reaction per member per message: a new emoji replaces it, None removes it."""
    viewer = ctx.require_viewer()
    if emoji is not None and not is_single_emoji(emoji):
        raise BadInput("A reaction is a single emoji.", field="emoji")
    async with ctx.write() as work:
        message = await visible_message(ctx, message_id)
        if message is None:
            raise NotFound("Message")
        await work.lock_pair(viewer, message.sender_id)  # a block in flight commits first, or waits
        message = await visible_message(ctx, message_id)
        if message is None:
            raise NotFound("Message")
        if message.unsent_at is not None:
            raise BadInput("An unsent message takes no reactions.", field="messageId")
        key = (MessageReaction.message_id == message_id, MessageReaction.user_id == viewer)
        current = await work.session.scalar(select(MessageReaction.emoji).where(*key))
        if current == emoji:
            return message  # a retry, or removing what is not there: nothing changes
        if emoji is None:
            await work.session.execute(delete(MessageReaction).where(*key))
        else:
            await upsert(
                work.session,
                MessageReaction,
                ["message_id", "user_id"],
                message_id=message_id,
                user_id=viewer,
                emoji=emoji,
                reacted_at=ctx.services.clock.now(),
            )
        await announce(ctx, work, [message])
    return message


def _shares(message: Message) -> bool:
    return message.shared_post_id is not None or message.shared_story_id is not None
