"""Highlights: the Highlight type, and creating, filling, emptying and deleting highlights."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from resolvers import highlights
from resolvers.highlights import VisibleHighlight
from schema.media import MediaType
from schema.node import Node, decode_id
from schema.stories import StoryType
from schema.users import UserType, author_of

Ctx = Info[RequestContext, None]


@strawberry.type(name="Highlight")
class HighlightType(Node):
    found: strawberry.Private[VisibleHighlight]

    @classmethod
    def of(cls, found: VisibleHighlight) -> HighlightType:
        return cls(id=strawberry.ID(to_global_id("Highlight", found.row.id)), found=found)

    @strawberry.field
    async def owner(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.found.row.owner_id)

    @strawberry.field
    def title(self) -> str:
        return self.found.row.title

    @strawberry.field(
        description="The cover the owner chose when the viewer may see its story; else the first story's."
    )
    async def cover(self, info: Ctx) -> MediaType | None:
        return await StoryType.of(self.found.cover, kept=True).media_of(info.context)

    @strawberry.field(
        description="Stories of the highlight the viewer may see under each story's audience, oldest first."
    )
    def stories(self) -> list[StoryType]:
        return [StoryType.of(row, kept=True) for row in self.found.stories]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.found.row.created_at


@strawberry.input
class CreateHighlightInput:
    title: str
    story_ids: list[strawberry.ID]
    cover_media_id: strawberry.ID | None = None


def _story_ids(ids: list[strawberry.ID]) -> list[int]:
    highlights.check_story_count(len(ids))
    return [decode_id(global_id, "Story") for global_id in ids]


async def _answer(ctx: RequestContext, highlight_id: int) -> HighlightType:
    found = await highlights.visible_highlight(ctx, highlight_id)
    if found is None:
        raise NotFound("Highlight")
    return HighlightType.of(found)


@strawberry.type
class HighlightMutation:
    @strawberry.mutation
    async def create_highlight(self, info: Ctx, input: CreateHighlightInput) -> HighlightType:
        cover = decode_id(input.cover_media_id, "Media") if input.cover_media_id is not None else None
        created = await highlights.create_highlight(
            info.context, input.title, _story_ids(input.story_ids), cover
        )
        return await _answer(info.context, created)

    @strawberry.mutation
    async def add_to_highlight(
        self, info: Ctx, highlight_id: strawberry.ID, story_ids: list[strawberry.ID]
    ) -> HighlightType:
        target = decode_id(highlight_id, "Highlight")
        changed = await highlights.add_to_highlight(info.context, target, _story_ids(story_ids))
        return await _answer(info.context, changed)

    @strawberry.mutation
    async def remove_from_highlight(
        self, info: Ctx, highlight_id: strawberry.ID, story_ids: list[strawberry.ID]
    ) -> HighlightType:
        target = decode_id(highlight_id, "Highlight")
        changed = await highlights.remove_from_highlight(info.context, target, _story_ids(story_ids))
        return await _answer(info.context, changed)

    @strawberry.mutation
    async def delete_highlight(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        deleted = await highlights.delete_highlight(info.context, decode_id(id, "Highlight"))
        return strawberry.ID(to_global_id("Highlight", deleted))


async def highlight_node(ctx: RequestContext, highlight_id: int) -> HighlightType | None:
    found = await highlights.visible_highlight(ctx, highlight_id)
    return HighlightType.of(found) if found else None
