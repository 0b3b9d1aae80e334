"""Changes to the social graph. Each is idempotent and all-or-nothing, its rules checked inside its
transaction: the pair of users is locked first, so a follow and a block of the same pair never
interleave, and a follow reads the followee's privacy after any switch in flight has committed."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.sql import insert_ignore
from core.unit_of_work import UnitOfWork
from models import Block, CloseFriend, Contact, Follow, FollowState, Mute, StoryHide, User
from resolvers.accounts.users import findable_user, relationship
from resolvers.activity import recording as activity
from resolvers.feed import fanout

_EdgeModel = type[Block] | type[CloseFriend] | type[Contact] | type[StoryHide]


async def _begin(ctx: RequestContext, work: UnitOfWork, user_id: int, *, privacy: bool = False) -> User:
    """Lock the pair (and, for `privacy`, the other user's row), then read the other user as the
    viewer finds them: never the viewer themself."""
    viewer = ctx.require_viewer()
    if user_id == viewer:
        raise BadInput("You cannot do that to yourself.", field="userId")
    await work.lock_pair(viewer, user_id)
    if privacy:
        await work.lock_users([user_id])  # a switch to private in flight commits first, or waits
    user = await findable_user(ctx, user_id)
    if user is None:
        raise NotFound("User")
    return user


async def _after(ctx: RequestContext, user_id: int) -> User:
    user = await findable_user(ctx, user_id)
    if user is None:
        raise NotFound("User")
    return user


async def follow(ctx: RequestContext, user_id: int) -> User:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        target = await _begin(ctx, work, user_id, privacy=True)
        if (await relationship(ctx, user_id)).blocking:
            raise BadInput("Unblock this account before following it.", field="userId")
        state = FollowState.PENDING if target.is_private else FollowState.ACCEPTED
        created = await insert_ignore(
            work.session,
            Follow,
            id=ctx.services.ids.next_id(),
            follower_id=viewer,
            followee_id=user_id,
            state=state,
            created_at=ctx.services.clock.now(),
        )
        if created and state is FollowState.ACCEPTED:
            fanout.followers_accepted(work, user_id, [viewer])
        if created:
            await activity.record(work, user_id, activity.followed_kind(state), viewer)
    return await _after(ctx, user_id)


async def unfollow(ctx: RequestContext, user_id: int) -> User:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        await work.session.execute(
            delete(Follow).where(Follow.follower_id == viewer, Follow.followee_id == user_id)
        )
        fanout.follows_ended(work, [(viewer, user_id)])
    return await _after(ctx, user_id)


async def approve_follow_request(ctx: RequestContext, user_id: int) -> User:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        result = await work.session.execute(
            update(Follow)
            .where(
                Follow.follower_id == user_id,
                Follow.followee_id == viewer,
                Follow.state == FollowState.PENDING,
            )
            .values(state=FollowState.ACCEPTED)
        )
        if getattr(result, "rowcount", 0):
            fanout.followers_accepted(work, viewer, [user_id])
            await activity.record(work, user_id, activity.ActivityKind.FOLLOW_ACCEPTED, viewer)
        elif (await relationship(ctx, user_id)).followed_by is None:
            raise NotFound("Follow request")
    return await _after(ctx, user_id)


async def decline_follow_request(ctx: RequestContext, user_id: int) -> User:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        await work.session.execute(
            delete(Follow).where(
                Follow.follower_id == user_id,
                Follow.followee_id == viewer,
                Follow.state == FollowState.PENDING,
            )
        )
    return await _after(ctx, user_id)


async def block(ctx: RequestContext, user_id: int) -> User:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        await _set_edge(ctx, work, Block, user_id, True)
        await work.session.execute(
            delete(Follow).where(
                or_(
                    and_(Follow.follower_id == viewer, Follow.followee_id == user_id),
                    and_(Follow.follower_id == user_id, Follow.followee_id == viewer),
                )
            )
        )
        fanout.follows_ended(work, [(viewer, user_id), (user_id, viewer)])
    return await _after(ctx, user_id)


async def set_edge(ctx: RequestContext, model: _EdgeModel, user_id: int, on: bool) -> User:
    """Close friends, contacts, story hides and unblock: one directed row, present or not."""
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        await _set_edge(ctx, work, model, user_id, on)
    return await _after(ctx, user_id)


async def _set_edge(ctx: RequestContext, work: UnitOfWork, model: _EdgeModel, other: int, on: bool) -> None:
    viewer = ctx.require_viewer()
    if on:
        await insert_ignore(
            work.session, model, user_id=viewer, other_id=other, created_at=ctx.services.clock.now()
        )
    else:
        await work.session.execute(delete(model).where(model.user_id == viewer, model.other_id == other))


async def set_muted(ctx: RequestContext, user_id: int, posts: bool, stories: bool) -> User:
    """Mute or unmute the user's posts (the viewer's feed) and stories (the viewer's tray). The
    viewer's pushed feed drops the author's posts at once, and gets them back on unmute."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await _begin(ctx, work, user_id)
        before = await work.session.scalar(
            select(Mute.posts).where(Mute.user_id == viewer, Mute.other_id == user_id)
        )
        await work.session.execute(delete(Mute).where(Mute.user_id == viewer, Mute.other_id == user_id))
        if posts or stories:
            now = ctx.services.clock.now()
            row = Mute(user_id=viewer, other_id=user_id, posts=posts, stories=stories, created_at=now)
            work.session.add(row)
        if posts and not before:
            fanout.follows_ended(work, [(viewer, user_id)])
        elif before and not posts and (await relationship(ctx, user_id)).follows:
            fanout.followers_accepted(work, user_id, [viewer])
    return await _after(ctx, user_id)
