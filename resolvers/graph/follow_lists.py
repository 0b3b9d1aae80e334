"""Followers, following and follow requests as keyset pages, batched across parents.

A profile's followers and following are its content: `followers` and `following` answer an empty
page to a viewer who may not see the account's content (`can_see_content`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from core.context import RequestContext
from models import Follow, FollowState, User
from resolvers.accounts.users import relationship
from resolvers.paging import Page, PageArgs
from resolvers.parent_pages import PageKey, ParentPages
from resolvers.visibility import can_see_content


class _FollowPages(ParentPages[int]):
    """Pages of user ids related to the parent by follow rows, newest follow first."""

    key = Follow.id
    parent = Follow.followee_id
    child = Follow.follower_id
    state = FollowState.ACCEPTED

    def candidates(self, parents: list[int]) -> Select[*tuple[Any, ...]]:
        cls = type(self)  # class attributes: mapped columns are descriptors on instances
        return select(Follow.id, cls.parent, cls.child).where(
            cls.parent.in_(parents), Follow.state == cls.state
        )

    def item(self, row: Any) -> int:
        return int(getattr(row, type(self).child.key))


class FollowersPage(_FollowPages):
    pass


class FollowingPage(_FollowPages):
    parent = Follow.follower_id
    child = Follow.followee_id


class FollowRequestsPage(_FollowPages):
    state = FollowState.PENDING


async def followers(ctx: RequestContext, user: User, args: PageArgs) -> Page[int]:
    """The ids of the accounts following `user`, newest follow first, as the viewer may see them."""
    if not await sees_content(ctx, user):
        return Page([], False)
    return await FollowersPage(ctx).load(PageKey(user.id, args.first, args.after))


async def following(ctx: RequestContext, user: User, args: PageArgs) -> Page[int]:
    """The ids of the accounts `user` follows, newest follow first, as the viewer may see them."""
    if not await sees_content(ctx, user):
        return Page([], False)
    return await FollowingPage(ctx).load(PageKey(user.id, args.first, args.after))


async def sees_content(ctx: RequestContext, user: User) -> bool:
    return can_see_content(await relationship(ctx, user.id), author_is_private=user.is_private)
