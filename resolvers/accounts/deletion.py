"""Deleting an account: everything it made goes in one unit of work, and nothing of it stays findable.

The user row itself stays as a tombstone (no name, no password, `deleted_at` set): it is the
sender of the account's messages in other people's conversations, which stay unsent (as
unsendMessage leaves them: content gone, seq kept, so history has no gaps). Every path that
finds users skips it (findable_users). Its former username is held for USERNAME_REUSE_DAYS,
then free to sign up with.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.errors import Conflict, Unauthenticated
from core.unit_of_work import UnitOfWork
from models import (
    Activity,
    ActivityActor,
    ActivityInbox,
    AuthToken,
    Block,
    CloseFriend,
    Comment,
    Contact,
    Conversation,
    ConversationMember,
    DataExport,
    EmailLink,
    Follow,
    FollowState,
    Highlight,
    Media,
    Message,
    MessageReaction,
    Post,
    PostLike,
    PostMention,
    SavedPost,
    Story,
    StoryHide,
    StoryReaction,
    StoryView,
    User,
    UsernameHold,
)
from resolvers.accounts.current_password import check_current_password
from resolvers.accounts.sessions import revoke_sessions
from resolvers.conversations.changes import announce, tombstone_messages
from resolvers.conversations.members import DECLINED
from resolvers.feed import fanout
from resolvers.media.uploads import object_keys


async def check_username_free(work: UnitOfWork, username: str) -> None:
    """Sign-up refuses the username of an account deleted less than USERNAME_REUSE_DAYS ago."""
    held = await work.session.scalar(
        select(UsernameHold.until).where(
            UsernameHold.username == username, UsernameHold.until > work.services.clock.now()
        )
    )
    if held is not None:
        raise Conflict("That username is taken.", field="username")


async def delete_account(ctx: RequestContext, current_password: str) -> bool:
    viewer = ctx.require_viewer()
    await check_current_password(ctx, current_password)
    async with ctx.write() as work:
        user = await work.session.scalar(
            select(User).where(User.id == viewer, User.deleted_at.is_(None)).with_for_update()
        )
        if user is None:
            raise Unauthenticated()
        await _remove_everything(ctx, work, viewer)
        now = work.services.clock.now()
        hold = now + timedelta(days=work.services.settings.username_reuse_days)
        await work.session.execute(delete(UsernameHold).where(UsernameHold.username == user.username))
        work.session.add(UsernameHold(username=user.username, until=hold))
        user.username = f"~{viewer:x}"
        user.display_name = ""
        user.bio = ""
        user.is_private = True
        user.password_hash = "!"
        user.avatar_media_id = None
        user.archive_stories = False
        user.email = None
        user.email_verified = False
        user.deleted_at = now
    return True


async def _remove_everything(ctx: RequestContext, work: UnitOfWork, user_id: int) -> None:
    session = work.session
    # Followers' pushed feeds lose this account's posts (and its own feed its followees').
    pairs = (
        await session.execute(
            select(Follow.follower_id, Follow.followee_id).where(
                or_(Follow.follower_id == user_id, Follow.followee_id == user_id),
                Follow.state == FollowState.ACCEPTED,
            )
        )
    ).all()
    fanout.follows_ended(work, [(follower, followee) for follower, followee in pairs])
    # Its messages stay in others' conversations unsent (content gone, seq kept), as unsendMessage does.
    sent = list(await session.scalars(select(Message.id).where(Message.sender_id == user_id)))
    await announce(ctx, work, await tombstone_messages(work, sent))
    await session.execute(delete(MessageReaction).where(MessageReaction.user_id == user_id))
    await _leave_groups(work, user_id)
    await _uncount(session, user_id)
    # Activity it caused in others' inboxes: items it alone acted in go, grouped ones lose it.
    acted = list(
        await session.scalars(select(ActivityActor.activity_id).where(ActivityActor.actor_id == user_id))
    )
    await session.execute(delete(ActivityActor).where(ActivityActor.actor_id == user_id))
    if acted:
        await session.execute(
            delete(Activity).where(
                Activity.id.in_(acted), ~exists().where(ActivityActor.activity_id == Activity.id)
            )
        )
    for model, column in (
        (Activity, Activity.user_id),
        (ActivityInbox, ActivityInbox.user_id),
        (Comment, Comment.author_id),
        (PostLike, PostLike.user_id),
        (Post, Post.author_id),
        (StoryView, StoryView.viewer_id),
        (StoryReaction, StoryReaction.user_id),
        (Story, Story.author_id),
        (Highlight, Highlight.owner_id),
        (EmailLink, EmailLink.user_id),
        (SavedPost, SavedPost.user_id),
        (PostMention, PostMention.user_id),
    ):
        await session.execute(delete(model).where(column == user_id))
    await session.execute(
        delete(Follow).where(or_(Follow.follower_id == user_id, Follow.followee_id == user_id))
    )
    for edge in (Block, CloseFriend, Contact, StoryHide):
        await session.execute(delete(edge).where(or_(edge.user_id == user_id, edge.other_id == user_id)))
    # Media objects (posts, stories, messages, avatar) and data-export files leave storage after the commit.
    media = list(await session.scalars(select(Media).where(Media.owner_id == user_id)))
    exports = list(await session.scalars(select(DataExport.storage_key).where(DataExport.user_id == user_id)))
    work.delete_objects([*(key for m in media for key in object_keys(m)), *(k for k in exports if k)])
    await session.execute(delete(Media).where(Media.owner_id == user_id))
    await session.execute(delete(DataExport).where(DataExport.user_id == user_id))
    await revoke_sessions(work, user_id)
    await session.execute(delete(AuthToken).where(AuthToken.user_id == user_id))


async def _leave_groups(work: UnitOfWork, user_id: int) -> None:
    """Groups lose the account as a member (1:1 conversations keep it, as the sender of their
    tombstones); a group it was the last admin of passes to its longest-standing member."""
    session = work.session
    groups = (
        await session.execute(
            select(ConversationMember.conversation_id, ConversationMember.is_admin)
            .join(Conversation, Conversation.id == ConversationMember.conversation_id)
            .where(ConversationMember.user_id == user_id, Conversation.is_group.is_(True))
        )
    ).all()
    if not groups:
        return
    await session.execute(
        delete(ConversationMember).where(
            ConversationMember.user_id == user_id,
            ConversationMember.conversation_id.in_([group for group, _ in groups]),
        )
    )
    for group, was_admin in groups:
        if not was_admin:
            continue
        members = (
            await session.execute(
                select(ConversationMember.user_id, ConversationMember.is_admin, ConversationMember.state)
                .where(ConversationMember.conversation_id == group)
                .order_by(ConversationMember.joined_at, ConversationMember.user_id)
            )
        ).all()
        if any(is_admin for _, is_admin, _ in members):
            continue
        heir = next((member for member, _, state in members if state != DECLINED), None)
        if heir is not None:
            await session.execute(
                update(ConversationMember)
                .where(ConversationMember.conversation_id == group, ConversationMember.user_id == heir)
                .values(is_admin=True)
            )


async def _uncount(session: AsyncSession, user_id: int) -> None:
    """Others' posts lose this account's likes and comments from their counters."""
    liked = select(PostLike.post_id).where(PostLike.user_id == user_id)
    await session.execute(
        update(Post)
        .where(Post.id.in_(liked))
        .values(like_count=Post.like_count - 1)
        .execution_options(synchronize_session=False)
    )
    mine = (
        select(func.count())
        .select_from(Comment)
        .where(Comment.post_id == Post.id, Comment.author_id == user_id)
        .scalar_subquery()
    )
    commented = select(Comment.post_id).where(Comment.author_id == user_id)
    await session.execute(
        update(Post)
        .where(Post.id.in_(commented))
        .values(comment_count=Post.comment_count - mine)
        .execution_options(synchronize_session=False)
    )
