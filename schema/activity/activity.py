"""The activity inbox: the Activity type, its connection, the unseen count, and activityAdded."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from core.observability import tracked
from resolvers.activity import inbox as activity_inbox
from resolvers.activity import live as activity_live
from resolvers.activity.inbox import ActivityItem
from resolvers.paging import Page, page_args
from schema.accounts.users import UserType
from schema.conversations import MessageType
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.node import After, First, Node, PageInfo
from schema.planning import Child, Column, Pure, Root, planned
from schema.posts.comments import CommentType
from schema.posts.posts import PostType
from schema.stories.stories import StoryType

Ctx = Info[RequestContext, None]


@strawberry.enum(description="What happened, in an activity item.")
class ActivityKind(Enum):
    FOLLOWED = strawberry.enum_value("FOLLOWED", description="The actor follows the viewer.")
    FOLLOW_REQUESTED = strawberry.enum_value(
        "FOLLOW_REQUESTED", description="The actor asks to follow the (private) viewer; see followRequests."
    )
    FOLLOW_ACCEPTED = strawberry.enum_value(
        "FOLLOW_ACCEPTED", description="The actor approved the viewer's request to follow them."
    )
    POST_LIKED = strawberry.enum_value(
        "POST_LIKED", description="Actors liked the viewer's `post`: one item per post, for every like."
    )
    POST_COMMENTED = strawberry.enum_value(
        "POST_COMMENTED", description="The actor added `comment` to the viewer's `post`."
    )
    STORY_REACTED = strawberry.enum_value(
        "STORY_REACTED",
        description="The actor reacted with `emoji` to the viewer's `story`, while it is live.",
    )
    STORY_REPLIED = strawberry.enum_value(
        "STORY_REPLIED", description="The actor replied to the viewer's `story` with `message`."
    )
    MENTIONED = strawberry.enum_value(
        "MENTIONED", description="The viewer was @mentioned in a post caption or a comment."
    )


@strawberry.type(
    name="Activity",
    description="One item of the viewer's activity inbox; likes of one post are grouped into one item.",
)
class ActivityType(Node):
    item: strawberry.Private[ActivityItem]

    @classmethod
    def of(cls, item: ActivityItem) -> ActivityType:
        return cls(id=strawberry.ID(to_global_id("Activity", item.row.id)), item=item)

    # Its compiled source is the resolvers' `ActivityItem`; each edge's loader applies its rule.
    @strawberry.field(
        description="What happened; it says which of the fields below are set.",
        metadata=planned(Pure(lambda item, ctx: ActivityKind(item.row.kind))),
    )
    def kind(self) -> ActivityKind:
        return ActivityKind(self.item.row.kind)

    @strawberry.field(
        description="The most recent actors the viewer may see, newest first, at most three.",
        metadata=at_most(activity_inbox.MAX_ACTORS)
        | planned(Child("activity_actors", key=lambda item: tuple(item.actors))),
        extensions=[Edge(UserType.interacting)],
    )
    def actors(self) -> list[UserType]:
        return [UserType.of(user) for user in self.item.actors]

    @strawberry.field(
        description="How many actors the item holds (visible to the viewer).",
        metadata=planned(Column("actor_count")),
    )
    def actor_count(self) -> int:
        return self.item.actor_count

    @strawberry.field(
        description="The post liked or commented on (POST_LIKED, POST_COMMENTED); else null.",
        extensions=[Edge()],
        metadata=planned(Child("activity_post", key=lambda item: item.post)),
    )
    def post(self) -> PostType | None:
        return PostType.of(self.item.post) if self.item.post else None

    @strawberry.field(
        description="The new comment (POST_COMMENTED); else null.",
        extensions=[Edge()],
        metadata=planned(Child("activity_comment", key=lambda item: item.comment)),
    )
    def comment(self) -> CommentType | None:
        return CommentType.of(self.item.comment) if self.item.comment else None

    @strawberry.field(
        description="The story reacted or replied to, while it is live (STORY_REACTED, STORY_REPLIED); "
        "else null.",
        extensions=[Edge()],
        metadata=planned(Child("activity_story", key=lambda item: item.story)),
    )
    def story(self) -> StoryType | None:
        return StoryType.of(self.item.story) if self.item.story else None

    @strawberry.field(
        description="The reply (STORY_REPLIED); else null.",
        extensions=[Edge()],
        metadata=planned(Child("activity_message", key=lambda item: item.message)),
    )
    def message(self) -> MessageType | None:
        return MessageType.of(self.item.message) if self.item.message else None

    @strawberry.field(
        description="The reaction (STORY_REACTED); else null.", metadata=planned(Column("row.emoji"))
    )
    def emoji(self) -> str | None:
        return self.item.row.emoji

    @strawberry.field(
        description="When the item was added or last regrouped.", metadata=planned(Column("row.updated_at"))
    )
    def updated_at(self) -> datetime:
        return self.item.row.updated_at

    @strawberry.field(
        description="Grows each time an item of this viewer is added or regrouped.",
        metadata=planned(Column("row.seq")),
    )
    def seq(self) -> int:
        return self.item.row.seq

    @strawberry.field(
        description="Added or regrouped since the viewer last called markActivitySeen.",
        metadata=planned(Column("unseen")),
    )
    def is_unseen(self) -> bool:
        return self.item.unseen


@strawberry.type(description="An activity item in a paged list, with the cursor of its position.")
class ActivityEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this item in the list; pass it as `after`.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: ActivityType = strawberry.field(
        description="The activity item at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of the activity inbox.")
class ActivityConnection:
    edges: list[ActivityEdge] = strawberry.field(
        description="The page's items, most recently updated first; items the viewer may no longer see are "
        "left out, so a page may hold fewer than `first`.",
        metadata=planned(Pure(lambda page, ctx: page.items)),
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to get them.",
        metadata=planned(Pure(lambda page, ctx: page)),
    )

    @classmethod
    def of(cls, page: Page[ActivityItem]) -> ActivityConnection:
        edges = [ActivityEdge(cursor=cursor, node=ActivityType.of(item)) for cursor, item in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class ActivityQuery:
    @strawberry.field(
        description="What happened to the viewer's account and content, most recently updated first.",
        metadata=planned(Root("activity")),
    )
    async def activity(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> ActivityConnection:
        return ActivityConnection.of(
            await activity_inbox.activity_page(info.context, page_args(first, after))
        )

    @strawberry.field(
        description="Activity items updated since the viewer last called markActivitySeen.",
        metadata=planned(Root("activity_unseen_count")),
    )
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
        "item whose seq is above it, then live: no gap, no duplicate. A subscriber that falls behind gets "
        "RATE_LIMITED with `resubscribe` and `afterSeq` to resume from."
    )
    async def activity_added(
        self,
        info: Ctx,
        after_seq: Annotated[
            int | None,
            strawberry.argument(
                description="The highest seq the client has shown; items above it are replayed first."
            ),
        ] = strawberry.UNSET,
    ) -> AsyncGenerator[ActivityType, None]:
        ctx = info.context
        after = after_seq if isinstance(after_seq, int) else None
        async for item in ctx.each_event(tracked(activity_live.activity_added(ctx, after))):
            yield ActivityType.of(item)


async def activity_node(ctx: RequestContext, activity_id: int) -> ActivityType | None:
    item = await activity_inbox.visible_activity(ctx, activity_id)
    return ActivityType.of(item) if item else None
