"""Stories: the Story type, the tray, and creating, deleting, seeing and reacting to stories."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from models import Story as StoryRow
from resolvers.accounts.users import UserById, interacting
from resolvers.media.uploads import MediaById
from resolvers.paging import Page, page_args
from resolvers.stories import reactions as story_reactions
from resolvers.stories import stories, tray
from resolvers.stories import views as story_views
from resolvers.stories.reactions import ViewerReaction
from resolvers.stories.views import ViewIdOf
from schema.accounts.users import UserType, author_of
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.media.media import MediaType
from schema.node import After, First, Node, PageInfo, decode_id
from schema.planning import Child, Column, Pure, Root, itself, planned

Ctx = Info[RequestContext, None]


@strawberry.enum(description="Who may see a story; blocked users and those it is hidden from never do.")
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


VIEWERS_PAGE = 50


@strawberry.type(description="Someone who viewed a story, as its author sees them.")
class StoryViewer:
    # Compiled, its source is execution/story_loaders.py `ViewerItem`.
    user: UserType = strawberry.field(
        description="Who viewed it.",
        extensions=[Edge(UserType.interacting)],
        metadata=planned(Child("viewer_user", key=lambda item: item.user)),
    )
    viewed_at: datetime = strawberry.field(
        description="When they first viewed it.", metadata=planned(Column("viewed_at"))
    )
    reaction: str | None = strawberry.field(
        description="Their reaction, a single emoji; null when none.", metadata=planned(Column("reaction"))
    )

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[StoryViewer]) -> list[bool]:
        """A view and its reaction are what the viewer did: shown across no block, either way."""
        return await UserType.interacting(ctx, [item.user for item in items])


@strawberry.type(description="A story viewer in a paged list, with the cursor of its position.")
class StoryViewerEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this viewer in the list; pass it as `after`.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: StoryViewer = strawberry.field(
        description="The viewer at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of a story's viewers.")
class StoryViewerConnection:
    edges: list[StoryViewerEdge] = strawberry.field(
        description="The page's viewers, most recent first; users in a blocked pair with the author (either "
        "way) are left out, so a page may hold fewer than `first`.",
        metadata=planned(Pure(lambda shown, ctx: shown.shown)),
    )
    # Compiled, its source is execution/batched.py `ShownPage`.
    page_info: PageInfo = strawberry.field(
        description="Whether more viewers follow, and the cursor to get them.",
        metadata=planned(Pure(lambda shown, ctx: shown.page)),
    )


@strawberry.type(
    name="Story",
    description="A photo or video shown to its audience for 24 hours, unless its author keeps it (the "
    "archive, a highlight).",
)
class StoryType(Node):
    row: strawberry.Private[StoryRow]
    # Shown where its author keeps it past expiry (a highlight, the archive): URLs need not end with it.
    kept: strawberry.Private[bool] = False

    @classmethod
    def of(cls, row: StoryRow, *, kept: bool = False) -> StoryType:
        return cls(id=strawberry.ID(to_global_id("Story", row.id)), row=row, kept=kept)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[StoryType]) -> list[bool]:
        """An edge to a story: live ones by audience, past expiry the kept ones (as node(id:))."""
        return await stories.reachable(ctx, [item.row for item in items])

    @strawberry.field(
        description="Who posted it.",
        extensions=[Edge()],
        metadata=planned(Child("findable_users", key=lambda story: story.author_id)),
    )
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    # A story's compiled source is its row, never kept: its media's URLs end with it while it is live.
    @strawberry.field(
        description="The photo or video; while the story is live, its URLs expire no later than the story.",
        metadata=planned(Child("story_media", key=itself)),
    )
    async def media(self, info: Ctx) -> MediaType:
        media = await self.media_of(info.context)
        if media is None:
            raise NotFound("Media")
        return media

    async def media_of(self, ctx: RequestContext) -> MediaType | None:
        row = await MediaById(ctx).load(self.row.media_id) if self.row.media_id else None
        if row is None:
            return None
        return MediaType.of(row, urls_end_by=stories.media_urls_end(ctx, self.row, kept=self.kept))

    @strawberry.field(
        description="Who may see it, as chosen when it was posted.",
        metadata=planned(Pure(lambda row, ctx: StoryAudience[row.audience])),
    )
    def audience(self) -> StoryAudience:
        return StoryAudience[self.row.audience]

    @strawberry.field(description="When it was posted.", metadata=planned(Column("created_at")))
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(
        description="When it stops being live (24 hours after createdAt): hide it then, by the server's "
        "time.",
        metadata=planned(Column("expires_at")),
    )
    def expires_at(self) -> datetime:
        return self.row.expires_at

    @strawberry.field(
        description="The viewer has seen it (markStoriesSeen or a reaction).",
        metadata=planned(Child("story_seen")),
    )
    async def viewer_has_seen(self, info: Ctx) -> bool:
        return await ViewIdOf(info.context).load(self.row.id) is not None

    @strawberry.field(
        description="The viewer's own reaction, if any.", metadata=planned(Child("story_reaction"))
    )
    async def viewer_reaction(self, info: Ctx) -> str | None:
        return await ViewerReaction(info.context).load(self.row.id)

    @strawberry.field(
        description="Author only, while the story is active; null for anyone else.",
        metadata=planned(Child("story_view_count", key=lambda story: story)),
    )
    async def view_count(self, info: Ctx) -> int | None:
        return await story_views.view_count(info.context, self.row)

    @strawberry.field(
        description="Author only, while the story is active; null for anyone else. Most recent first.",
        extensions=[Edge()],
        metadata=planned(Child("story_viewers", key=lambda story: story)),
    )
    async def viewers(
        self, info: Ctx, first: First = VIEWERS_PAGE, after: After = strawberry.UNSET
    ) -> StoryViewerConnection | None:
        ctx = info.context
        page = await story_views.viewers(ctx, self.row, page_args(first, after, default=VIEWERS_PAGE))
        if page is None:
            return None
        ids = [row.user_id for _, row in page.items]
        users, shown = await asyncio.gather(UserById(ctx).load_many(ids), interacting(ctx, ids))
        edges = [
            StoryViewerEdge(
                cursor=cursor,
                node=StoryViewer(user=UserType.of(user), viewed_at=row.viewed_at, reaction=row.reaction),
            )
            for (cursor, row), user, ok in zip(page.items, users, shown, strict=True)
            if user is not None and ok
        ]
        return StoryViewerConnection(edges=edges, page_info=PageInfo.of(page))


@strawberry.type(
    description="One account's entry in the viewer's tray; its id is stable, so a normalized cache "
    "can update `hasUnseen` after markStoriesSeen, and `node(id:)` refetches it."
)
class StoryTrayItem(Node):
    # Its compiled source is the resolvers' `tray.TrayItem`.
    owner: UserType = strawberry.field(
        description="Whose stories these are.",
        extensions=[Edge()],
        metadata=planned(Child("findable_users", key=lambda item: item.owner.id)),
    )
    stories: list[StoryType] = strawberry.field(
        description="Active stories the viewer may see, oldest first.",
        metadata=at_most(stories.MAX_LIVE_STORIES)
        | planned(Child("reachable_stories", key=lambda item: tuple(item.stories))),
        extensions=[Edge()],
    )
    has_unseen: bool = strawberry.field(
        description="At least one of `stories` is not seen by the viewer yet.",
        metadata=planned(Column("has_unseen")),
    )
    latest_story_at: datetime = strawberry.field(
        description="When the newest of `stories` was posted.", metadata=planned(Column("latest_story_at"))
    )

    @classmethod
    def of(cls, item: tray.TrayItem) -> StoryTrayItem:
        return cls(
            id=strawberry.ID(to_global_id("StoryTrayItem", item.owner.id)),
            owner=UserType.of(item.owner),
            stories=[StoryType.of(s) for s in item.stories],
            has_unseen=item.has_unseen,
            latest_story_at=item.latest_story_at,
        )


@strawberry.type(description="A tray entry in a paged list, with the cursor of its position.")
class StoryTrayEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this entry in the tray; pass it as `after`. It keeps the order of "
        "the first page, so later pages never repeat or skip an entry.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: StoryTrayItem = strawberry.field(
        description="The tray entry at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of the stories tray.")
class StoryTrayConnection:
    edges: list[StoryTrayEdge] = strawberry.field(
        description="The page's entries, in tray order.", metadata=planned(Pure(lambda page, ctx: page.items))
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more entries follow, and the cursor to get them.",
        metadata=planned(Pure(lambda page, ctx: page)),
    )

    @classmethod
    def of(cls, page: Page[tray.TrayItem]) -> StoryTrayConnection:
        edges = [StoryTrayEdge(cursor=cursor, node=StoryTrayItem.of(item)) for cursor, item in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type(description="A reaction to one of the viewer's live stories, delivered by storyActivity.")
class StoryReacted:
    story: StoryType = strawberry.field(
        description="The viewer's story that got the reaction.", extensions=[Edge()]
    )
    user: UserType = strawberry.field(description="Who reacted.", extensions=[Edge(UserType.interacting)])
    emoji: str = strawberry.field(description="The reaction, a single emoji.")
    reacted_at: datetime = strawberry.field(description="When they reacted.")


@strawberry.input(description="A new story.")
class CreateStoryInput:
    media_id: strawberry.ID = strawberry.field(
        description="An upload of purpose STORY that no other story uses; checked now."
    )
    audience: StoryAudience | None = strawberry.field(
        default=StoryAudience.FOLLOWERS, description="Who may see it; FOLLOWERS when omitted or null."
    )


def _story_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Story")


StoryId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The story's global ID; NOT_FOUND when the viewer may not see it."),
]


@strawberry.type
class StoryQuery:
    @strawberry.field(
        description="Accounts with active stories the viewer may see: the viewer's own first, then owners "
        "with unseen stories, then the rest; within each group the most recent story first.",
        metadata=planned(Root("stories_tray")),
    )
    async def stories_tray(
        self, info: Ctx, first: First = 50, after: After = strawberry.UNSET
    ) -> StoryTrayConnection:
        return StoryTrayConnection.of(await tray.stories_tray(info.context, first, after or None))


@strawberry.type
class StoryMutation:
    @strawberry.mutation(
        description="Posts a story for 24 hours. BAD_USER_INPUT for media of another purpose, already used "
        "by a story, or failing its check."
    )
    async def create_story(
        self,
        info: Ctx,
        input: Annotated[CreateStoryInput, strawberry.argument(description="The media and the audience.")],
    ) -> StoryType:
        media_id = decode_id(input.media_id, "Media")
        audience = (input.audience or StoryAudience.FOLLOWERS).name
        return StoryType.of(await stories.create_story(info.context, media_id, audience))

    @strawberry.mutation(
        description="Deletes the viewer's story, live or kept; it leaves its highlights (one left empty is "
        "deleted). Returns its ID; FORBIDDEN for someone else's."
    )
    async def delete_story(self, info: Ctx, id: StoryId) -> strawberry.ID:
        deleted = await stories.delete_story(info.context, _story_id(id))
        return strawberry.ID(to_global_id("Story", deleted))

    @strawberry.mutation(
        description="Records that the viewer saw these live stories (repeating is harmless) and returns "
        "them. NOT_FOUND, and nothing recorded, when any is not visible.",
        metadata=at_most(story_views.MAX_SEEN_IDS),
    )
    async def mark_stories_seen(
        self,
        info: Ctx,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs of 1 to 100 stories (BAD_USER_INPUT otherwise)."),
        ],
    ) -> list[StoryType]:
        story_ids = [_story_id(global_id) for global_id in ids]
        return [StoryType.of(s) for s in await story_views.mark_seen(info.context, story_ids)]

    @strawberry.mutation(
        description="Reacts to a live story, replacing the viewer's earlier reaction; also counts as a view."
    )
    async def react_to_story(
        self,
        info: Ctx,
        story_id: StoryId,
        emoji: Annotated[
            str, strawberry.argument(description="A single emoji (BAD_USER_INPUT for anything else).")
        ],
    ) -> StoryType:
        return StoryType.of(await story_reactions.react(info.context, _story_id(story_id), emoji))


async def tray_item_node(ctx: RequestContext, owner_id: int) -> StoryTrayItem | None:
    item = await tray.tray_item(ctx, owner_id)
    return StoryTrayItem.of(item) if item else None


async def story_node(ctx: RequestContext, story_id: int) -> StoryType | None:
    """Live stories by audience; past expiry only the kept ones, for whom their lifetime admits."""
    found = (await stories.reachable_stories(ctx, [story_id])).get(story_id)
    return StoryType.of(found) if found else None
