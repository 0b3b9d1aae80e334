"""The User type and its connection."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from models import FollowState
from models import User as UserRow
from resolvers.accounts.users import (
    FollowerCount,
    FollowingCount,
    UserById,
    findable,
    findable_user,
    findable_users,
    interacting,
    is_own,
    relationship,
)
from resolvers.graph import follow_lists
from resolvers.media.uploads import MediaById
from resolvers.paging import Page, page_args
from resolvers.posts.posts import PostCount, author_posts
from resolvers.stories.highlights import MAX_HIGHLIGHTS_PER_USER, user_highlights
from resolvers.stories.stories import MAX_LIVE_STORIES, user_stories
from resolvers.visibility import Relationship
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.media.media import MediaType
from schema.node import After, First, Node, PageInfo
from schema.planning import Child, Column, itself, planned

if TYPE_CHECKING:
    from schema.posts.posts import PostConnection
    from schema.stories.highlights import HighlightType
    from schema.stories.stories import StoryType


@strawberry.enum(description="Whether the viewer follows a user.")
class FollowStatus(Enum):
    NONE = strawberry.enum_value("NONE", description="No follow and no pending request (or signed out).")
    REQUESTED = strawberry.enum_value(
        "REQUESTED", description="The viewer asked to follow this private account; not yet approved."
    )
    FOLLOWING = strawberry.enum_value("FOLLOWING", description="The viewer follows this user (accepted).")


@strawberry.type(
    name="User",
    description="An account. Fields about the viewer's relationship (`viewer...`, `is...`, `follows...`) are "
    "from the signed-in user's point of view: NONE or false when signed out.",
)
class UserType(Node):
    row: strawberry.Private[UserRow]
    # The account just signed in to (AuthPayload.user): its own fields show before a token is sent.
    signed_in: strawberry.Private[bool] = False

    @classmethod
    def of(cls, row: UserRow, *, signed_in: bool = False) -> UserType:
        return cls(id=strawberry.ID(to_global_id("User", row.id)), row=row, signed_in=signed_in)

    def _own(self, info: Info[RequestContext, None]) -> bool:
        return self.signed_in or is_own(info.context, self.row.id)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[UserType]) -> list[bool]:
        """An edge to a user: the users the viewer may find (not one who blocked them)."""
        return await findable(ctx, [item.row for item in items])

    @classmethod
    async def interacting(cls, ctx: RequestContext, items: Sequence[UserType]) -> list[bool]:
        """An edge to what a user did (viewed a story): no block in either direction."""
        return await interacting(ctx, [item.row.id for item in items])

    @strawberry.field(
        description="Unique handle: 3 to 30 characters, lowercase letters, digits, '.' and '_'.",
        metadata=planned(Column("username")),
    )
    def username(self) -> str:
        return self.row.username

    @strawberry.field(
        description="The name to show, at most 64 characters; the username unless one was given.",
        metadata=planned(Column("display_name")),
    )
    def display_name(self) -> str:
        return self.row.display_name

    @strawberry.field(
        description="Profile text, at most 150 characters; empty when not set.",
        metadata=planned(Column("bio")),
    )
    def bio(self) -> str:
        return self.row.bio

    @strawberry.field(
        description="New followers need approval, and only accepted followers see the posts, followers "
        "and following.",
        metadata=planned(Column("is_private")),
    )
    def is_private(self) -> bool:
        return self.row.is_private

    @strawberry.field(
        description="The profile photo; null when none is set.",
        metadata=planned(Child("media_by_id", key=lambda user: user.avatar_media_id)),
    )
    async def avatar(self, info: Info[RequestContext, None]) -> MediaType | None:
        if self.row.avatar_media_id is None:
            return None
        row = await MediaById(info.context).load(self.row.avatar_media_id)
        return MediaType.of(row) if row else None

    @strawberry.field(
        description="Accepted followers; pending requests are not counted.",
        metadata=planned(Child("follower_count", key=itself)),
    )
    async def follower_count(self, info: Info[RequestContext, None]) -> int:
        return await FollowerCount(info.context).load(self.row.id)

    @strawberry.field(
        description="Accounts this user follows (accepted follows only).",
        metadata=planned(Child("following_count", key=itself)),
    )
    async def following_count(self, info: Info[RequestContext, None]) -> int:
        return await FollowingCount(info.context).load(self.row.id)

    async def _rel(self, info: Info[RequestContext, None]) -> Relationship:
        return await relationship(info.context, self.row.id)

    @strawberry.field(
        description="Whether the viewer follows this user: FOLLOWING, REQUESTED (awaiting approval) or NONE."
    )
    async def viewer_follow_status(self, info: Info[RequestContext, None]) -> FollowStatus:
        follow = (await self._rel(info)).follow
        if follow is FollowState.ACCEPTED:
            return FollowStatus.FOLLOWING
        return FollowStatus.REQUESTED if follow is FollowState.PENDING else FollowStatus.NONE

    @strawberry.field(description="This user follows the viewer (an accepted follow).")
    async def follows_viewer(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).followed_by is FollowState.ACCEPTED

    @strawberry.field(description="In the viewer's close-friends list (who sees CLOSE_FRIENDS stories).")
    async def is_close_friend(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).close_friend

    @strawberry.field(description="In the viewer's contacts (CONTACTS stories need it both ways).")
    async def is_contact(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).contact

    @strawberry.field(description="Blocked by the viewer.")
    async def is_blocked(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).blocking

    @strawberry.field(description="The viewer hides their own stories from this user.")
    async def stories_hidden(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).hiding_stories

    @strawberry.field(description="Has active stories that the viewer may see.")
    async def has_active_stories(self, info: Info[RequestContext, None]) -> bool:
        return bool(await user_stories(info.context, self.row.id))

    @strawberry.field(
        description="Active stories the viewer may see, oldest first.",
        metadata=at_most(MAX_LIVE_STORIES),
        extensions=[Edge()],
    )
    async def stories(
        self, info: Info[RequestContext, None]
    ) -> list[Annotated[StoryType, strawberry.lazy("schema.stories.stories")]]:
        from schema.stories.stories import StoryType

        return [StoryType.of(row) for row in await user_stories(info.context, self.row.id)]

    @strawberry.field(
        description="Highlights with at least one story the viewer may see; in the owner's order.",
        metadata=at_most(MAX_HIGHLIGHTS_PER_USER),
        extensions=[Edge()],
    )
    async def highlights(
        self, info: Info[RequestContext, None]
    ) -> list[Annotated[HighlightType, strawberry.lazy("schema.stories.highlights")]]:
        from schema.stories.highlights import HighlightType  # schema.stories.highlights imports this module

        return [HighlightType.of(found) for found in await user_highlights(info.context, self.row.id)]

    @strawberry.field(
        description="The viewer's own setting: keep expired stories in the archive. null for anyone else."
    )
    def archive_stories(self, info: Info[RequestContext, None]) -> bool | None:
        return self.row.archive_stories if is_own(info.context, self.row.id) else None

    @strawberry.field(description="The viewer's own email address; null for anyone else.")
    def email(self, info: Info[RequestContext, None]) -> str | None:
        return self.row.email if self._own(info) else None

    @strawberry.field(
        description="The viewer's own: whether the email address was confirmed; null for anyone else."
    )
    def email_verified(self, info: Info[RequestContext, None]) -> bool | None:
        return self.row.email_verified if self._own(info) else None

    @strawberry.field(
        description="The viewer muted this account's posts: they leave the viewer's feed; the follow stays."
    )
    async def muted_posts(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).muting_posts

    @strawberry.field(
        description="The viewer muted this account's stories: they leave the viewer's tray; the follow stays."
    )
    async def muted_stories(self, info: Info[RequestContext, None]) -> bool:
        return (await self._rel(info)).muting_stories

    @strawberry.field(description="The viewer's own: a moderator may review reports; null for anyone else.")
    def is_moderator(self, info: Info[RequestContext, None]) -> bool | None:
        return self.row.is_moderator if self._own(info) else None

    @strawberry.field(
        description="Posts this user has published, counted even when the viewer may not see them.",
        metadata=planned(Child("post_count", key=itself)),
    )
    async def post_count(self, info: Info[RequestContext, None]) -> int:
        return await PostCount(info.context).load(self.row.id)

    @strawberry.field(
        description="The user's posts, newest first; empty for a private account the viewer does not follow.",
        extensions=[Edge()],
        metadata=planned(Child("user_posts", key=itself)),
    )
    async def posts(
        self, info: Info[RequestContext, None], first: First = 20, after: After = strawberry.UNSET
    ) -> Annotated[PostConnection, strawberry.lazy("schema.posts.posts")]:
        from schema.posts.posts import PostConnection  # schema.posts.posts imports this module

        return PostConnection.of(await author_posts(info.context, self.row, page_args(first, after)))

    @strawberry.field(
        description="Accounts following this user, most recent follow first; empty for a private account "
        "the viewer does not follow.",
        extensions=[Edge()],
    )
    async def followers(
        self, info: Info[RequestContext, None], first: First = 20, after: After = strawberry.UNSET
    ) -> UserConnection:
        page = await follow_lists.followers(info.context, self.row, page_args(first, after))
        return await UserConnection.of(info.context, page)

    @strawberry.field(
        description="Accounts this user follows, most recent follow first; empty for a private account the "
        "viewer does not follow.",
        extensions=[Edge()],
    )
    async def following(
        self, info: Info[RequestContext, None], first: First = 20, after: After = strawberry.UNSET
    ) -> UserConnection:
        page = await follow_lists.following(info.context, self.row, page_args(first, after))
        return await UserConnection.of(info.context, page)


@strawberry.type(description="A user in a paged list, with the cursor of its position.")
class UserEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this user in the list; pass it as `after`."
    )
    node: UserType = strawberry.field(description="The user at this position.")


@strawberry.type(description="One page of users.")
class UserConnection:
    edges: list[UserEdge] = strawberry.field(
        description="The page's users in the list's order; users the viewer may not find are left out, so "
        "a page may hold fewer than `first`."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more users follow, and the cursor to get them."
    )

    @classmethod
    async def of(cls, ctx: RequestContext, page: Page[int]) -> UserConnection:
        """Edges for the users of a page of ids; users that vanished meanwhile are left out."""
        users = await findable_users(ctx, [user_id for _, user_id in page.items])
        edges = [
            UserEdge(cursor=cursor, node=UserType.of(user))
            for (cursor, _), user in zip(page.items, users, strict=True)
            if user is not None
        ]
        return cls(edges=edges, page_info=PageInfo.of(page))


async def user_node(ctx: RequestContext, user_id: int) -> UserType | None:
    user = await findable_user(ctx, user_id)
    return UserType.of(user) if user else None


async def author_of(ctx: RequestContext, user_id: int) -> UserType:
    """The author of a post or story the viewer already may see."""
    user = await UserById(ctx).load(user_id)
    if user is None:
        raise NotFound("User")
    return UserType.of(user)
