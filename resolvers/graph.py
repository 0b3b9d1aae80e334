"""Changes to the social graph. Each is idempotent and all-or-nothing."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.sql import insert_ignore
from models import Block, CloseFriend, Contact, Follow, FollowState, StoryHide, User
from resolvers import fanout
from resolvers.users import findable_user, relationship

_EdgeModel = type[Block] | type[CloseFriend] | type[Contact] | type[StoryHide]


async def _target(ctx: RequestContext, user_id: int) -> User:
    """The other user of a graph change: never the viewer, and findable by the viewer."""
    viewer = ctx.require_viewer()
    if user_id == viewer:
        raise BadInput("You cannot do that to yourself.", field="userId")
    user = await findable_user(ctx, user_id)
    if user is None:
        raise NotFound("User")
    return user


async def _done(ctx: RequestContext, user_id: int) -> User:
    ctx.forget_loaded()
    user = await findable_user(ctx, user_id)
    if user is None:
        raise NotFound("User")
    return user


async def follow(ctx: RequestContext, user_id: int) -> User:
    target = await _target(ctx, user_id)
    if (await relationship(ctx, user_id)).blocking:
        raise BadInput("Unblock this account before following it.", field="userId")
    state = FollowState.PENDING if target.is_private else FollowState.ACCEPTED
    services = ctx.services
    viewer = ctx.require_viewer()
    async with services.db.write() as session:
        created = await insert_ignore(
            session,
            Follow,
            id=services.ids.next_id(),
            follower_id=viewer,
            followee_id=user_id,
            state=state,
            created_at=services.clock.now(),
        )
    if created and state is FollowState.ACCEPTED:
        await fanout.on_follow(services, viewer, user_id)
    return await _done(ctx, user_id)


async def unfollow(ctx: RequestContext, user_id: int) -> User:
    await _target(ctx, user_id)
    async with ctx.services.db.write() as session:
        await session.execute(
            delete(Follow).where(Follow.follower_id == ctx.require_viewer(), Follow.followee_id == user_id)
        )
    await fanout.on_unfollow(ctx.services, [(ctx.require_viewer(), user_id)])
    return await _done(ctx, user_id)


async def approve_follow_request(ctx: RequestContext, user_id: int) -> User:
    await _target(ctx, user_id)
    async with ctx.services.db.write() as session:
        state = await session.scalar(
            select(Follow.state).where(
                Follow.follower_id == user_id, Follow.followee_id == ctx.require_viewer()
            )
        )
        if state is None:
            raise NotFound("Follow request")
        await session.execute(
            update(Follow)
            .where(Follow.follower_id == user_id, Follow.followee_id == ctx.require_viewer())
            .values(state=FollowState.ACCEPTED)
        )
    if state is FollowState.PENDING:
        await fanout.on_follow(ctx.services, user_id, ctx.require_viewer())
    return await _done(ctx, user_id)


async def decline_follow_request(ctx: RequestContext, user_id: int) -> User:
    await _target(ctx, user_id)
    async with ctx.services.db.write() as session:
        await session.execute(
            delete(Follow).where(
                Follow.follower_id == user_id,
                Follow.followee_id == ctx.require_viewer(),
                Follow.state == FollowState.PENDING,
            )
        )
    return await _done(ctx, user_id)


async def block(ctx: RequestContext, user_id: int) -> User:
    await _target(ctx, user_id)
    viewer = ctx.require_viewer()
    services = ctx.services
    async with services.db.write() as session:
        await _set_edge(session, Block, viewer, user_id, True, ctx)
        await session.execute(
            delete(Follow).where(
                or_(
                    and_(Follow.follower_id == viewer, Follow.followee_id == user_id),
                    and_(Follow.follower_id == user_id, Follow.followee_id == viewer),
                )
            )
        )
    await fanout.on_unfollow(services, [(viewer, user_id), (user_id, viewer)])
    return await _done(ctx, user_id)


async def set_edge(ctx: RequestContext, model: _EdgeModel, user_id: int, on: bool) -> User:
    """Close friends, contacts, story hides and unblock: one directed row, present or not."""
    await _target(ctx, user_id)
    async with ctx.services.db.write() as session:
        await _set_edge(session, model, ctx.require_viewer(), user_id, on, ctx)
    return await _done(ctx, user_id)


async def _set_edge(
    session: AsyncSession, model: _EdgeModel, viewer: int, other: int, on: bool, ctx: RequestContext
) -> None:
    if on:
        await insert_ignore(
            session, model, user_id=viewer, other_id=other, created_at=ctx.services.clock.now()
        )
    else:
        await session.execute(delete(model).where(model.user_id == viewer, model.other_id == other))
