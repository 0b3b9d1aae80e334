"""The activity inbox: the Activity type, its connection, the unseen count, and activityAdded."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from core.observability import tracked
from resolvers import activity_inbox, activity_live
from resolvers.activity_inbox import ActivityItem
from resolvers.paging import Page, page_args
from schema.comments import CommentType
from schema.conversations import MessageType
from schema.node import Node, PageInfo
from schema.posts import PostType
from schema.stories import StoryType
from schema.users import UserType

Ctx = Info[RequestContext, None]


@strawberry.enum
class ActivityKind(Enum):
    FOLLOWED = "FOLLOWED"
    FOLLOW_REQUESTED = "FOLLOW_REQUESTED"
    FOLLOW_ACCEPTED = "FOLLOW_ACCEPTED"
    POST_LIKED = "POST_LIKED"
    POST_COMMENTED = "POST_COMMENTED"
    STORY_REACTED = "STORY_REACTED"
    STORY_REPLIED = "STORY_REPLIED"


@strawberry.type(
    name="Activity",
    description="One item of the viewer's activity inbox; likes of one post are grouped into one item.",
)
class ActivityType(Node):
    item: strawberry.Private[ActivityItem]

    @classmethod
    def of(cls, item: ActivityItem) -> ActivityType:
        return cls(id=strawberry.ID(to_global_id("Activity", item.row.id)), item=item)

    @strawberry.field
    def kind(self) -> ActivityKind:
        return ActivityKind(self.item.row.kind)

    @strawberry.field(description="The most recent actors the viewer may see, newest first, at most three.")
    def actors(self) -> list[UserType]:
        return [UserType.of(user) for user in self.item.actors]

    @strawberry.field(description="How many actors the item holds (visible to the viewer).")
    def actor_count(self) -> int:
        return self.item.actor_count

    @strawberry.field
    def post(self) -> PostType | None:
        return PostType.of(self.item.post) if self.item.post else None

    @strawberry.field
    def comment(self) -> CommentType | None:
        return CommentType.of(self.item.comment) if self.item.comment else None

    @strawberry.field
    def story(self) -> StoryType | None:
        return StoryType.of(self.item.story) if self.item.story else None

    @strawberry.field
    def message(self) -> MessageType | None:
        return MessageType.of(self.item.message) if self.item.message else None

    @strawberry.field
    def emoji(self) -> str | None:
        return self.item.row.emoji

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.item.row.updated_at

    @strawberry.field(description="Grows each time an item of this viewer is added or regrouped.")
    def seq(self) -> int:
        return self.item.row.seq

    @strawberry.field
    def is_unseen(self) -> bool:
        return self.item.unseen


@strawberry.type
class ActivityEdge:
    cursor: str
    node: ActivityType


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[ActivityItem]) -> ActivityConnection:
        edges = [ActivityEdge(cursor=cursor, node=ActivityType.of(item)) for cursor, item in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class ActivityQuery:
    @strawberry.field(
        description="What happened to the viewer's account and content, most recently updated first."
    )
    async def activity(
        self, info: Ctx, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> ActivityConnection:
        return ActivityConnection.of(
            await activity_inbox.activity_page(info.context, page_args(first, after))
        )

    @strawberry.field(description="Activity items updated since the viewer last called markActivitySeen.")
    async def activity_unseen_count(self, info: Ctx) -> int:
        return await activity_inbox.unseen_count(info.context)


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="Marks every activity item seen; returns the unseen count (0).")
    async def mark_activity_seen(self, info: Ctx) -> int:
        return await activity_inbox.mark_seen(info.context)


@strawberry.type
class ActivitySubscription:
    @strawberry.subscription(
        description="New and regrouped items of the viewer's activity inbox. With afterSeq, first every "
        "item whose seq is above it, then live: no gap, no duplicate."
    )
    async def activity_added(
        self, info: Ctx, after_seq: int | None = strawberry.UNSET
    ) -> AsyncGenerator[ActivityType, None]:
        ctx = info.context
        after = after_seq if isinstance(after_seq, int) else None
        async for item in ctx.each_event(tracked(activity_live.activity_added(ctx, after))):
            yield ActivityType.of(item)


async def activity_node(ctx: RequestContext, activity_id: int) -> ActivityType | None:
    item = await activity_inbox.visible_activity(ctx, activity_id)
    return ActivityType.of(item) if item else None
