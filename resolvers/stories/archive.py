"""The story archive: an author's own expired stories, kept while their archive setting is on."""

from __future__ import annotations

from sqlalchemy import select

from core.context import RequestContext
from models import Story
from resolvers.accounts.users import UserById
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.stories.rules import expired
from resolvers.stories.stories import filter_reachable


async def story_archive(ctx: RequestContext, args: PageArgs) -> Page[Story]:
    """The viewer's archived stories, newest first; empty while the setting is off (what expired
    then is gone, as it always was, once the sweeper has run)."""
    viewer = ctx.require_viewer()
    user = await UserById(ctx).load(viewer)
    if user is None or not user.archive_stories:
        return Page([], False, args.after is not None)
    stmt = (
        select(Story)
        .where(
            Story.author_id == viewer,
            expired(ctx.services.clock.now()),
            Story.deleted_at.is_(None),
            Story.media_id.is_not(None),
        )
        .order_by(Story.id.desc())
        .limit(args.first + 1)
    )
    if args.after is not None:
        stmt = stmt.where(Story.id < args.after)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt))
    # The lifetime rule decides even here (archived: the author alone), as on every path.
    allowed = {s.id for s in await filter_reachable(ctx, rows, highlighted=())}
    return page_from_rows([(s.id, s) for s in rows if s.id in allowed], args)
