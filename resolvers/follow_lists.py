"""Followers, following and follow requests as keyset pages, batched across parents.

A page of users each asking for their own followers costs one statement: ROW_NUMBER()
over each parent's follow rows picks every parent's page at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import func, select

from models import Follow, FollowState
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows


class EdgeKey(NamedTuple):
    user_id: int
    first: int
    after: int | None


class _FollowPages(RequestLoader[EdgeKey, Page[int]]):
    """Pages of user ids related to `user_id` by follow rows, newest follow first."""

    parent_column = "followee_id"
    child_column = "follower_id"
    state = FollowState.ACCEPTED

    async def fetch(self, keys: Sequence[EdgeKey]) -> Mapping[EdgeKey, Page[int]]:
        groups: dict[tuple[int, int | None], list[int]] = {}
        for key in unique(keys):
            groups.setdefault((key.first, key.after), []).append(key.user_id)
        found: dict[EdgeKey, Page[int]] = {}
        parent_col, child_col = getattr(Follow, self.parent_column), getattr(Follow, self.child_column)
        async with self.ctx.read() as session:
            for (first, after), parents in groups.items():
                rank = func.row_number().over(partition_by=parent_col, order_by=Follow.id.desc())
                inner = select(
                    Follow.id, parent_col.label("parent"), child_col.label("child"), rank.label("rank")
                )
                inner = inner.where(parent_col.in_(parents), Follow.state == self.state)
                if after is not None:
                    inner = inner.where(Follow.id < after)
                sub = inner.subquery()
                stmt = select(sub.c.id, sub.c.parent, sub.c.child).where(sub.c.rank <= first + 1)
                rows: dict[int, list[tuple[int, int]]] = {parent: [] for parent in parents}
                for follow_id, parent, child in (await session.execute(stmt.order_by(sub.c.id.desc()))).all():
                    rows[parent].append((follow_id, child))
                args = PageArgs(first, after)
                for parent in parents:
                    found[EdgeKey(parent, first, after)] = page_from_rows(rows[parent], args)
        return found


class FollowersPage(_FollowPages):
    pass


class FollowingPage(_FollowPages):
    parent_column = "follower_id"
    child_column = "followee_id"


class FollowRequestsPage(_FollowPages):
    state = FollowState.PENDING
