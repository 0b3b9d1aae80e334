"""Followers, following and follow requests as keyset pages, batched across parents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from models import Follow, FollowState
from resolvers.parent_pages import ParentPages


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
