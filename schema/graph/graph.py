"""The social graph: finding users, follow requests, and every relationship mutation."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from models import Block, CloseFriend, Contact, StoryHide
from resolvers.accounts.users import user_by_username
from resolvers.graph import actions as graph
from resolvers.graph.follow_lists import FollowRequestsPage
from resolvers.paging import page_args
from resolvers.parent_pages import PageKey
from schema.accounts.users import UserConnection, UserType
from schema.node import After, First, decode_id
from schema.planning import Root, planned

Ctx = Info[RequestContext, None]
UserId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The other user's global ID: yourself is BAD_USER_INPUT, a user you cannot find "
        "NOT_FOUND."
    ),
]


def _user_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "User")


@strawberry.type
class GraphQuery:
    @strawberry.field(
        description="The user with this username; null when there is none or that user blocked the viewer.",
        metadata=planned(Root("user")),
    )
    async def user(
        self,
        info: Ctx,
        username: Annotated[str, strawberry.argument(description="The username, in any case.")],
    ) -> UserType | None:
        found = await user_by_username(info.context, username)
        return UserType.of(found) if found else None

    @strawberry.field(description="Pending requests to follow the (private) viewer, newest first.")
    async def follow_requests(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> UserConnection:
        args = page_args(first, after)
        viewer = info.context.require_viewer()
        page = await FollowRequestsPage(info.context).load(PageKey(viewer, args.first, args.after))
        return await UserConnection.of(info.context, page)


@strawberry.type
class GraphMutation:
    @strawberry.mutation(
        description="Follows the user: FOLLOWING at once for a public account, REQUESTED for a private one. "
        "BAD_USER_INPUT while the viewer blocks them."
    )
    async def follow(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.follow(info.context, _user_id(user_id)))

    @strawberry.mutation(
        description="Stops following the user, or withdraws a pending request; returns them."
    )
    async def unfollow(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.unfollow(info.context, _user_id(user_id)))

    @strawberry.mutation(
        description="Accepts the user's request to follow the viewer; NOT_FOUND when they neither asked nor "
        "follow."
    )
    async def approve_follow_request(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.approve_follow_request(info.context, _user_id(user_id)))

    @strawberry.mutation(description="Deletes the user's pending request to follow the viewer, if any.")
    async def decline_follow_request(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.decline_follow_request(info.context, _user_id(user_id)))

    @strawberry.mutation(
        description="Blocks the user: follows end in both directions, and neither sees the other's content "
        "(they cannot even find the viewer)."
    )
    async def block(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.block(info.context, _user_id(user_id)))

    @strawberry.mutation(description="Lifts the viewer's block; the follows it ended stay ended.")
    async def unblock(self, info: Ctx, user_id: UserId) -> UserType:
        return UserType.of(await graph.set_edge(info.context, Block, _user_id(user_id), False))

    @strawberry.mutation(
        description="Puts the user on the viewer's close-friends list or takes them off (who sees "
        "CLOSE_FRIENDS stories)."
    )
    async def set_close_friend(
        self,
        info: Ctx,
        user_id: UserId,
        is_close_friend: Annotated[bool, strawberry.argument(description="True to add, false to remove.")],
    ) -> UserType:
        return UserType.of(
            await graph.set_edge(info.context, CloseFriend, _user_id(user_id), is_close_friend)
        )

    @strawberry.mutation(
        description="Adds the user to the viewer's contacts or removes them; CONTACTS stories need both ways."
    )
    async def set_contact(
        self,
        info: Ctx,
        user_id: UserId,
        is_contact: Annotated[bool, strawberry.argument(description="True to add, false to remove.")],
    ) -> UserType:
        return UserType.of(await graph.set_edge(info.context, Contact, _user_id(user_id), is_contact))

    @strawberry.mutation(
        description="Hides the viewer's stories from that user, whatever the audience, or shows them again."
    )
    async def set_stories_hidden(
        self,
        info: Ctx,
        user_id: UserId,
        hidden: Annotated[bool, strawberry.argument(description="True to hide, false to show again.")],
    ) -> UserType:
        return UserType.of(await graph.set_edge(info.context, StoryHide, _user_id(user_id), hidden))

    @strawberry.mutation(
        description="Mutes or unmutes the user's posts (they leave the viewer's feed) and stories (they "
        "leave the viewer's tray). The follow stays and the muted account is told nothing."
    )
    async def set_muted(
        self,
        info: Ctx,
        user_id: UserId,
        posts: Annotated[bool, strawberry.argument(description="True to mute their posts.")],
        stories: Annotated[bool, strawberry.argument(description="True to mute their stories.")],
    ) -> UserType:
        return UserType.of(await graph.set_muted(info.context, _user_id(user_id), posts, stories))
