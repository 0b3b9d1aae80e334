"""The story archive: `storyArchive`, the viewer's own expired stories kept by their archive setting."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.paging import page_args
from resolvers.story_archive import story_archive
from schema.node import PageInfo
from schema.stories import StoryType

Ctx = Info[RequestContext, None]


@strawberry.type
class StoryEdge:
    cursor: str
    node: StoryType


@strawberry.type
class StoryConnection:
    edges: list[StoryEdge]
    page_info: PageInfo


@strawberry.type
class StoryArchiveQuery:
    @strawberry.field(
        description="The viewer's own expired stories kept by the archive setting, newest first."
    )
    async def story_archive(
        self, info: Ctx, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> StoryConnection:
        page = await story_archive(info.context, page_args(first, after))
        edges = [StoryEdge(cursor=cursor, node=StoryType.of(row, kept=True)) for cursor, row in page.items]
        return StoryConnection(edges=edges, page_info=PageInfo.of(page))
