"""Highlights: the Highlight type, and creating, filling, emptying and deleting highlights."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from resolvers.stories import highlights
from resolvers.stories.highlights import VisibleHighlight
from schema.accounts.users import UserType, author_of
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.media.media import MediaType
from schema.node import Node, decode_id
from schema.stories.stories import StoryType

Ctx = Info[RequestContext, None]


@strawberry.type(
    name="Highlight",
    description="A named set of its owner's stories on their profile, kept past their expiry; each "
    "story is shown to those its audience admits today.",
)
class HighlightType(Node):
    found: strawberry.Private[VisibleHighlight]

    @classmethod
    def of(cls, found: VisibleHighlight) -> HighlightType:
        return cls(id=strawberry.ID(to_global_id("Highlight", found.row.id)), found=found)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[HighlightType]) -> list[bool]:
        return await highlights.visible_highlights(ctx, [item.found.row for item in items])

    @strawberry.field(description="Whose profile it is on; the author of its stories.", extensions=[Edge()])
    async def owner(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.found.row.owner_id)

    @strawberry.field(description="Its name, 1 to 30 characters.")
    def title(self) -> str:
        return self.found.row.title

    @strawberry.field(
        description="The cover the owner chose when the viewer may see its story; else the first story's."
    )
    async def cover(self, info: Ctx) -> MediaType | None:
        return await StoryType.of(self.found.cover, kept=True).media_of(info.context)

    @strawberry.field(
        description="Stories of the highlight the viewer may see under each story's audience, oldest first.",
        metadata=at_most(highlights.MAX_STORIES_PER_HIGHLIGHT),
        extensions=[Edge()],
    )
    def stories(self) -> list[StoryType]:
        return [StoryType.of(row, kept=True) for row in self.found.stories]

    @strawberry.field(description="When it was created.")
    def created_at(self) -> datetime:
        return self.found.row.created_at


@strawberry.input(description="A new highlight.")
class CreateHighlightInput:
    title: str = strawberry.field(description="Its name, 1 to 30 characters, on one line.")
    story_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 100 of the viewer's own stories, live or kept (NOT_FOUND for any other)."
    )
    cover_media_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The media of one of these stories, as the cover; the first visible story's when "
        "omitted.",
    )


def _story_ids(ids: list[strawberry.ID]) -> list[int]:
    highlights.check_story_count(len(ids))
    return [decode_id(global_id, "Story") for global_id in ids]


HighlightId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The global ID of one of the viewer's highlights (NOT_FOUND otherwise)."),
]
StoryIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(
        description="1 to 100 of the viewer's own stories, live or kept (NOT_FOUND otherwise)."
    ),
]


async def _answer(ctx: RequestContext, highlight_id: int) -> HighlightType:
    found = await highlights.visible_highlight(ctx, highlight_id)
    if found is None:
        raise NotFound("Highlight")
    return HighlightType.of(found)


@strawberry.type
class HighlightMutation:
    @strawberry.mutation(
        description="Creates a highlight on the viewer's profile; BAD_USER_INPUT beyond 50 highlights."
    )
    async def create_highlight(
        self,
        info: Ctx,
        input: Annotated[
            CreateHighlightInput, strawberry.argument(description="The title, the stories and the cover.")
        ],
    ) -> HighlightType:
        cover = decode_id(input.cover_media_id, "Media") if input.cover_media_id is not None else None
        created = await highlights.create_highlight(
            info.context, input.title, _story_ids(input.story_ids), cover
        )
        return await _answer(info.context, created)

    @strawberry.mutation(
        description="Adds stories to the viewer's highlight (those already in it stay as they are); "
        "BAD_USER_INPUT beyond 100 stories."
    )
    async def add_to_highlight(
        self, info: Ctx, highlight_id: HighlightId, story_ids: StoryIds
    ) -> HighlightType:
        target = decode_id(highlight_id, "Highlight")
        changed = await highlights.add_to_highlight(info.context, target, _story_ids(story_ids))
        return await _answer(info.context, changed)

    @strawberry.mutation(
        description="Takes stories out of the viewer's highlight (stories not in it are ignored); "
        "BAD_USER_INPUT when that would empty it: delete it instead."
    )
    async def remove_from_highlight(
        self,
        info: Ctx,
        highlight_id: HighlightId,
        story_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs of 1 to 100 stories to take out of it."),
        ],
    ) -> HighlightType:
        target = decode_id(highlight_id, "Highlight")
        changed = await highlights.remove_from_highlight(info.context, target, _story_ids(story_ids))
        return await _answer(info.context, changed)

    @strawberry.mutation(
        description="Deletes the viewer's highlight and returns its ID; its stories stay where else they are "
        "kept."
    )
    async def delete_highlight(self, info: Ctx, id: HighlightId) -> strawberry.ID:
        deleted = await highlights.delete_highlight(info.context, decode_id(id, "Highlight"))
        return strawberry.ID(to_global_id("Highlight", deleted))


async def highlight_node(ctx: RequestContext, highlight_id: int) -> HighlightType | None:
    found = await highlights.visible_highlight(ctx, highlight_id)
    return HighlightType.of(found) if found else None
