"""SQL forms of rules in resolvers/visibility.py, for pages and counts that must be exact in SQL.

A page filtered only in Python would come up short, and a count could disagree with its list, so
the statements that page or count filter with these; the rows they return are still checked with
the functions of visibility.py before anything is shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, and_, exists, or_, select, union
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models import Block, Follow, FollowState, User

# Its own alias: `blocked_between` is also asked about the `users` rows of an outer statement.
_SUSPENDED = aliased(User, name="suspended_user")


def blocked_with(viewer: Any) -> CompoundSelect[Any]:
    """Ids of the users in a blocked pair with the viewer, either way, and of suspended accounts
    (`can_interact` is false)."""
    return union(
        select(Block.other_id).where(Block.user_id == viewer),
        select(Block.user_id).where(Block.other_id == viewer),
        select(User.id).where(User.suspended_at.is_not(None)),
    )


def interacts(viewer: Any, user_id: Any) -> ColumnElement[bool]:
    """`can_interact`: no block between the viewer (an id, a bound parameter, or None) and the user
    in `user_id`, in either direction."""
    if viewer is None:
        return user_id.is_not(None)  # type: ignore[no-any-return]
    return user_id.not_in(blocked_with(viewer))  # type: ignore[no-any-return]


def blocks_either_way(a: Any, b: Any) -> ColumnElement[bool]:
    """Block symmetry: a block row between two users (ids or columns), in either direction
    (`Relationship.blocking or Relationship.blocked_by`)."""
    return exists().where(
        or_(and_(Block.user_id == a, Block.other_id == b), and_(Block.user_id == b, Block.other_id == a))
    )


def blocked_between(a: Any, b: Any, *, b_row: Any = None) -> ColumnElement[bool]:
    """A block between two users (ids or columns), in either direction, or either one suspended.
    `b_row`: b's `users` row when the statement joins it already: then only b's suspension counts,
    as `Relationship.blocked_either_way` (a being the viewer, signed in, so not suspended)."""
    if b_row is not None:
        return or_(blocks_either_way(a, b), b_row.suspended_at.is_not(None))
    return or_(
        blocks_either_way(a, b),
        exists().where(_SUSPENDED.id.in_([a, b]), _SUSPENDED.suspended_at.is_not(None)),
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
