"""SQL forms of rules in resolvers/visibility.py, for pages and counts that must be exact in SQL.

A page filtered only in Python would come up short, and a count could disagree with its list, so
the statements that page or count filter with these; the rows they return are still checked with
the functions of visibility.py before anything is shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.sql.elements import ColumnElement

from models import Block


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
