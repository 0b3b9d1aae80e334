"""The social graph: finding users, follow requests, and every relationship mutation."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from models import Block, CloseFriend, Contact, StoryHide
from resolvers import graph
from resolvers.follow_lists import FollowRequestsPage
from resolvers.paging import page_args
from resolvers.parent_pages import PageKey
from resolvers.users import user_by_username
from schema.node import decode_id
from schema.users import UserConnection, UserType

Ctx = Info[RequestContext, None]


def _user_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "User")


@strawberry.type
class GraphQuery:
    @strawberry.field(description="null when no such user, or when that user blocked the viewer.")
    async def user(self, info: Ctx, username: str) -> UserType | None:
        found = await user_by_username(info.context, username)
        return UserType.of(found) if found else None

    @strawberry.field(description="Pending requests to follow the (private) viewer.")
    async def follow_requests(
        self, info: Ctx, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> UserConnection:
        args = page_args(first, after)
        viewer = info.context.require_viewer()
        page = await FollowRequestsPage(info.context).load(PageKey(viewer, args.first, args.after))
        return await UserConnection.of(info.context, page)


@strawberry.type
class GraphMutation:
    @strawberry.mutation(description="FOLLOWING at once for a public account, REQUESTED for a private one.")
    async def follow(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.follow(info.context, _user_id(user_id)))

    @strawberry.mutation
    async def unfollow(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.unfollow(info.context, _user_id(user_id)))

    @strawberry.mutation
    async def approve_follow_request(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.approve_follow_request(info.context, _user_id(user_id)))

    @strawberry.mutation
    async def decline_follow_request(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.decline_follow_request(info.context, _user_id(user_id)))

    @strawberry.mutation(description="Also ends follows in both directions.")
    async def block(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.block(info.context, _user_id(user_id)))

    @strawberry.mutation
    async def unblock(self, info: Ctx, user_id: strawberry.ID) -> UserType:
        return UserType.of(await graph.set_edge(info.context, Block, _user_id(user_id), False))

    @strawberry.mutation
    async def set_close_friend(self, info: Ctx, user_id: strawberry.ID, is_close_friend: bool) -> UserType:
        return UserType.of(
            await graph.set_edge(info.context, CloseFriend, _user_id(user_id), is_close_friend)
        )

    @strawberry.mutation
    async def set_contact(self, info: Ctx, user_id: strawberry.ID, is_contact: bool) -> UserType:
        return UserType.of(await graph.set_edge(info.context, Contact, _user_id(user_id), is_contact))

    @strawberry.mutation(description="Hide the viewer's stories from that user, whatever the audience.")
    async def set_stories_hidden(self, info: Ctx, user_id: strawberry.ID, hidden: bool) -> UserType:
        return UserType.of(await graph.set_edge(info.context, StoryHide, _user_id(user_id), hidden))
