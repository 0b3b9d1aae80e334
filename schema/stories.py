"""Stories: the Story type, the tray, and creating, deleting, seeing and reacting to stories."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from models import Story as StoryRow
from resolvers import stories, story_reactions, story_views, tray
from resolvers.media import MediaById
from resolvers.paging import Page, page_args
from resolvers.parent_pages import PageKey
from resolvers.story_reactions import ViewerReaction
from resolvers.story_views import ViewCount, ViewersPage, ViewIdOf
from resolvers.users import findable_users
from schema.media import MediaType
from schema.node import Node, PageInfo, decode_id
from schema.users import UserType, author_of

Ctx = Info[RequestContext, None]


@strawberry.enum
class StoryAudience(Enum):
    PUBLIC = strawberry.enum_value(
        "PUBLIC",
        description="Anyone not blocked, when the author's account is public; "
        "for a private account this means FOLLOWERS.",
    )
    FOLLOWERS = strawberry.enum_value("FOLLOWERS", description="Accepted followers.")
    CLOSE_FRIENDS = strawberry.enum_value("CLOSE_FRIENDS", description="The author's close-friends list.")
    CONTACTS = strawberry.enum_value(
        "CONTACTS",
        description="Mutual contacts: the author has the viewer as a contact and the viewer has the author.",
    )


@strawberry.type
class StoryViewer:
    user: UserType
    viewed_at: datetime
    reaction: str | None


@strawberry.type
class StoryViewerEdge:
    cursor: str
    node: StoryViewer


@strawberry.type
class StoryViewerConnection:
    edges: list[StoryViewerEdge]
    page_info: PageInfo


@strawberry.type(name="Story")
class StoryType(Node):
    row: strawberry.Private[StoryRow]
    # Shown where its author keeps it past expiry (a highlight, the archive): URLs need not end with it.
    kept: strawberry.Private[bool] = False

    @classmethod
    def of(cls, row: StoryRow, *, kept: bool = False) -> StoryType:
        return cls(id=strawberry.ID(to_global_id("Story", row.id)), row=row, kept=kept)

    @strawberry.field
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    @strawberry.field
    async def media(self, info: Ctx) -> MediaType:
        media = await self.media_of(info.context)
        if media is None:
            raise NotFound("Media")
        return media

    async def media_of(self, ctx: RequestContext) -> MediaType | None:
        row = await MediaById(ctx).load(self.row.media_id) if self.row.media_id else None
        if row is None:
            return None
        # A live story's media ends with it; past expiry only a kept story is ever shown.
        outlives = self.kept or not stories.is_live(self.row, ctx.services.clock.now())
        return MediaType.of(row, urls_end_by=None if outlives else self.row.expires_at)

    @strawberry.field
    def audience(self) -> StoryAudience:
        return StoryAudience[self.row.audience]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def expires_at(self) -> datetime:
        return self.row.expires_at

    @strawberry.field
    async def viewer_has_seen(self, info: Ctx) -> bool:
        return await ViewIdOf(info.context).load(self.row.id) is not None

    @strawberry.field(description="The viewer's own reaction, if any.")
    async def viewer_reaction(self, info: Ctx) -> str | None:
        return await ViewerReaction(info.context).load(self.row.id)

    def _is_author_of_live(self, info: Ctx) -> bool:
        """Views are about a story while it is active: past expiry (in a highlight or the archive)
        nobody, the author included, sees who watched it."""
        ctx = info.context
        return ctx.viewer_id == self.row.author_id and stories.is_live(self.row, ctx.services.clock.now())

    @strawberry.field(description="Author only, while the story is active; null for anyone else.")
    async def view_count(self, info: Ctx) -> int | None:
        if not self._is_author_of_live(info):
            return None
        return await ViewCount(info.context).load(self.row.id)

    @strawberry.field(
        description="Author only, while the story is active; null for anyone else. Most recent first."
    )
    async def viewers(
        self, info: Ctx, first: int | None = 50, after: str | None = strawberry.UNSET
    ) -> StoryViewerConnection | None:
        args = page_args(first, after)
        if not self._is_author_of_live(info):
            return None
        ctx = info.context
        page = await ViewersPage(ctx).load(PageKey(self.row.id, args.first, args.after))
        users = await findable_users(ctx, [row.user_id for _, row in page.items])
        edges = [
            StoryViewerEdge(
                cursor=cursor,
                node=StoryViewer(user=UserType.of(user), viewed_at=row.viewed_at, reaction=row.reaction),
            )
            for (cursor, row), user in zip(page.items, users, strict=True)
            if user is not None
        ]
        return StoryViewerConnection(edges=edges, page_info=PageInfo.of(page))


@strawberry.type(
    description="One account's entry in the viewer's tray; its id is stable, so a normalized cache "
    "can update `hasUnseen` after markStoriesSeen, and `node(id:)` refetches it."
)
class StoryTrayItem(Node):
    owner: UserType
    stories: list[StoryType] = strawberry.field(
        description="Active stories the viewer may see, oldest first."
    )
    has_unseen: bool
    latest_story_at: datetime

    @classmethod
    def of(cls, item: tray.TrayItem) -> StoryTrayItem:
        return cls(
            id=strawberry.ID(to_global_id("StoryTrayItem", item.owner.id)),
            owner=UserType.of(item.owner),
            stories=[StoryType.of(s) for s in item.stories],
            has_unseen=item.has_unseen,
            latest_story_at=item.latest_story_at,
        )


@strawberry.type
class StoryTrayEdge:
    cursor: str
    node: StoryTrayItem


@strawberry.type
class StoryTrayConnection:
    edges: list[StoryTrayEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[tray.TrayItem]) -> StoryTrayConnection:
        edges = [StoryTrayEdge(cursor=cursor, node=StoryTrayItem.of(item)) for cursor, item in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class StoryReacted:
    """A reaction to one of the viewer's stories (delivered by the storyActivity subscription)."""

    story: StoryType
    user: UserType
    emoji: str
    reacted_at: datetime


@strawberry.input
class CreateStoryInput:
    media_id: strawberry.ID
    audience: StoryAudience | None = StoryAudience.FOLLOWERS


def _story_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Story")


@strawberry.type
class StoryQuery:
    @strawberry.field(
        description="Accounts with active stories the viewer may see: the viewer's own first, then owners "
        "with unseen stories, then the rest; within each group the most recent story first."
    )
    async def stories_tray(
        self, info: Ctx, first: int | None = 50, after: str | None = strawberry.UNSET
    ) -> StoryTrayConnection:
        return StoryTrayConnection.of(await tray.stories_tray(info.context, first, after or None))


@strawberry.type
class StoryMutation:
    @strawberry.mutation
    async def create_story(self, info: Ctx, input: CreateStoryInput) -> StoryType:
        media_id = decode_id(input.media_id, "Media")
        audience = (input.audience or StoryAudience.FOLLOWERS).name
        return StoryType.of(await stories.create_story(info.context, media_id, audience))

    @strawberry.mutation
    async def delete_story(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        deleted = await stories.delete_story(info.context, _story_id(id))
        return strawberry.ID(to_global_id("Story", deleted))

    @strawberry.mutation
    async def mark_stories_seen(self, info: Ctx, ids: list[strawberry.ID]) -> list[StoryType]:
        story_ids = [_story_id(global_id) for global_id in ids]
        return [StoryType.of(s) for s in await story_views.mark_seen(info.context, story_ids)]

    @strawberry.mutation
    async def react_to_story(self, info: Ctx, story_id: strawberry.ID, emoji: str) -> StoryType:
        return StoryType.of(await story_reactions.react(info.context, _story_id(story_id), emoji))


async def tray_item_node(ctx: RequestContext, owner_id: int) -> StoryTrayItem | None:
    item = await tray.tray_item(ctx, owner_id)
    return StoryTrayItem.of(item) if item else None


async def story_node(ctx: RequestContext, story_id: int) -> StoryType | None:
    """Live stories by audience; past expiry only the kept ones, for whom their lifetime admits."""
    found = (await stories.reachable_stories(ctx, [story_id])).get(story_id)
    return StoryType.of(found) if found else None
