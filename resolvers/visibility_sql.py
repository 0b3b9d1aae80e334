"""SQL forms of rules in resolvers/visibility.py, for pages and counts that must be exact in SQL.

A page filtered only in Python would come up short, and a count could disagree with its list, so
the statements that page or count filter with these; the rows they return are still checked with
the functions of visibility.py before anything is shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, and_, exists, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from models import Block, Follow, FollowState


def blocked_with(viewer: int) -> CompoundSelect[Any]:
    """Ids of the users in a blocked pair with the viewer, either way (`can_interact` is false)."""
    return union(
        select(Block.other_id).where(Block.user_id == viewer),
        select(Block.user_id).where(Block.other_id == viewer),
    )


def interacts(viewer: int | None, user_id: Any) -> ColumnElement[bool]:
    """`can_interact`: no block between the viewer and the user in `user_id`, in either direction."""
    if viewer is None:
        return user_id.is_not(None)  # type: ignore[no-any-return]
    return user_id.not_in(blocked_with(viewer))  # type: ignore[no-any-return]


def blocked_between(a: Any, b: Any) -> ColumnElement[bool]:
    """A block between two users (ids or columns), in either direction."""
    return exists().where(
        or_(and_(Block.user_id == a, Block.other_id == b), and_(Block.user_id == b, Block.other_id == a))
    )


def content_visible(viewer: Any, author_id: Any, author_is_private: Any) -> ColumnElement[bool]:
    """`can_see_content` (posts and what hangs off them) as SQL: the viewer (an id or a column) sees
    the author's content when it is their own, or no block stands either way and the account is
    public or followed (accepted)."""
    follows = exists().where(
        Follow.follower_id == viewer, Follow.followee_id == author_id, Follow.state == FollowState.ACCEPTED
    )
    return or_(
        author_id == viewer,
        and_(~blocked_between(viewer, author_id), or_(author_is_private.is_(False), follows)),
    )
