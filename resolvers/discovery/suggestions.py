"""suggestedUsers: accounts followed by the accounts the viewer follows, most such followees first.

One statement: the viewer's most recent FAN_IN followees (the bounded fan-in), the accounts they
follow counted per account, without the viewer, anyone the viewer follows or asked to follow, and
blocked pairs (either way). The ranked ids are cached per viewer for CACHE_SECONDS (Redis, or the
process without it); every read checks the cached ids again with `can_suggest`, so a follow or a
block made since takes effect at once.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.context import RequestContext, Services
from models import Follow, FollowState, User
from resolvers.accounts.users import findable_users, relationships
from resolvers.paging import MAX_PAGE, check_size
from resolvers.visibility import can_suggest
from resolvers.visibility_sql import interacts

log = logging.getLogger("ephemera.suggestions")
FAN_IN = 100
CACHE_SECONDS = 60
_LOCAL = "suggestions"


async def ranked_suggestions(ctx: RequestContext, viewer: int) -> list[int]:
    mine, theirs = aliased(Follow), aliased(Follow)
    top = (
        select(mine.followee_id)
        .where(mine.follower_id == viewer, mine.state == FollowState.ACCEPTED)
        .order_by(mine.id.desc())
        .limit(FAN_IN)
        .subquery()
    )
    asked = select(Follow.followee_id).where(Follow.follower_id == viewer)  # accepted or pending
    mutual = func.count().label("mutual")
    stmt = (
        select(theirs.followee_id, mutual)
        .where(
            theirs.follower_id.in_(select(top.c.followee_id)),
            theirs.state == FollowState.ACCEPTED,
            theirs.followee_id != viewer,
            theirs.followee_id.not_in(asked),
            interacts(viewer, theirs.followee_id),
        )
        .group_by(theirs.followee_id)
        .order_by(mutual.desc(), theirs.followee_id)
        .limit(MAX_PAGE)
    )
    async with ctx.read() as session:
        return [user_id for user_id, _ in (await session.execute(stmt)).all()]


async def _cached(services: Services, viewer: int) -> list[int] | None:
    if services.redis is None:
        entry = services.extras.get(_LOCAL, {}).get(viewer)
        return entry[1] if entry and entry[0] > services.clock.now() else None
    raw = await services.redis.get(f"suggested:{viewer}")
    return [int(user_id) for user_id in json.loads(raw)] if raw else None


async def _keep(services: Services, viewer: int, ids: list[int]) -> None:
    if services.redis is None:
        expires = services.clock.now() + timedelta(seconds=CACHE_SECONDS)
        services.extras.setdefault(_LOCAL, {})[viewer] = (expires, ids)
        return
    await services.redis.set(f"suggested:{viewer}", json.dumps(ids), ex=CACHE_SECONDS)


async def suggested_users(ctx: RequestContext, first: int | None) -> list[User]:
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=20)
    services = ctx.services
    try:
        ids = await _cached(services, viewer)
    except RedisError:
        log.warning("suggestion cache unavailable; computing them", exc_info=True)
        ids = None
    if ids is None:
        ids = await ranked_suggestions(ctx, viewer)
        try:
            await _keep(services, viewer, ids)
        except RedisError:
            log.warning("suggestion cache unavailable; not kept", exc_info=True)
    users = await findable_users(ctx, ids)  # not deleted meanwhile
    rels = await relationships(ctx, ids)
    kept = [user for user, rel in zip(users, rels, strict=True) if user is not None and can_suggest(rel)]
    return kept[:size]
