"""Mute: the viewer's own filter on their feed (posts) and tray (stories). Not a visibility rule: the
muted account still sees and reaches everything as before, the follow stays, and nobody is told."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from models import Mute


def muted(viewer: Any, author_id: Any, *, stories: bool) -> ColumnElement[bool]:
    """SQL: the viewer muted this author's posts (or, with `stories`, their stories)."""
    flag = Mute.stories if stories else Mute.posts
    return author_id.in_(  # type: ignore[no-any-return]
        select(Mute.other_id).where(Mute.user_id == viewer, flag.is_(True))
    )
