"""Deleting an account: everything it made goes in one unit of work, and nothing of it stays findable.

The user row itself stays as a tombstone (no name, no password, `deleted_at` set): it is the
sender of the account's messages in other people's conversations, which stay as unsent
tombstones so that `seq` has no gaps. Every path that finds users skips it (findable_users).
Its former username is held for USERNAME_REUSE_DAYS, then free to sign up with.
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
    DataExport,
    EmailLink,
    FeedSnapshot,
    Follow,
    FollowState,
    Highlight,
    Media,
    Message,
    Post,
    PostLike,
    Story,
    StoryHide,
    StoryReaction,
    StoryView,
    User,
    UsernameHold,
)
from resolvers import fanout
from resolvers.credentials import check_current_password
from resolvers.media import object_keys
from resolvers.sessions import revoke_sessions


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
        await _remove_everything(work, viewer)
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


async def _remove_everything(work: UnitOfWork, user_id: int) -> None:
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
    await tombstone_messages(session, user_id)
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
        (FeedSnapshot, FeedSnapshot.viewer_id),
        (EmailLink, EmailLink.user_id),
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


async def tombstone_messages(session: AsyncSession, user_id: int) -> None:
    """The account's messages keep their place (seq) in each conversation but lose their content.

    TODO(merge): switch to the unsend function (messages.unsent_at) once it is on main."""
    await session.execute(
        update(Message)
        .where(Message.sender_id == user_id)
        .values(body="", media_id=None, reply_to_story_id=None)
        .execution_options(synchronize_session=False)
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
