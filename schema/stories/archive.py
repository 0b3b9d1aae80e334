"""The story archive: `storyArchive`, the viewer's own expired stories kept by their archive setting."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.paging import page_args
from resolvers.stories.archive import story_archive
from schema.node import After, First, PageInfo
from schema.stories.stories import StoryType

Ctx = Info[RequestContext, None]


@strawberry.type(description="A story in a paged list, with the cursor of its position.")
class StoryEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this story in the list; pass it as `after`."
    )
    node: StoryType = strawberry.field(description="The story at this position.")


@strawberry.type(description="One page of stories.")
class StoryConnection:
    edges: list[StoryEdge] = strawberry.field(description="The page's stories, in the list's order.")
    page_info: PageInfo = strawberry.field(
        description="Whether more stories follow, and the cursor to get them."
    )


@strawberry.type
class StoryArchiveQuery:
    @strawberry.field(
        description="The viewer's own expired stories kept by the archive setting, newest first; empty "
        "while `archiveStories` is off."
    )
    async def story_archive(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> StoryConnection:
        page = await story_archive(info.context, page_args(first, after))
        edges = [StoryEdge(cursor=cursor, node=StoryType.of(row, kept=True)) for cursor, row in page.items]
        return StoryConnection(edges=edges, page_info=PageInfo.of(page))
