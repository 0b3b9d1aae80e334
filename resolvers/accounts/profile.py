"""Editing one's own profile."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from core.context import RequestContext
from core.errors import NotFound
from models import Follow, FollowState, User
from resolvers.accounts.users import UserById
from resolvers.feed import fanout
from resolvers.media import uploads as media
from resolvers.text import clean_line, clean_text

MAX_DISPLAY_NAME = 64
MAX_BIO = 150


@dataclass(frozen=True)
class ProfileChanges:
    display_name: str | None = None
    bio: str | None = None
    is_private: bool | None = None
    avatar_media_id: int | None = None
    archive_stories: bool | None = None


async def update_profile(ctx: RequestContext, changes: ProfileChanges) -> User:
    viewer = ctx.require_viewer()
    values: dict[str, object] = {}
    if changes.display_name is not None:
        values["display_name"] = clean_line(
            changes.display_name, field="displayName", max_length=MAX_DISPLAY_NAME
        )
    if changes.bio is not None:
        values["bio"] = clean_text(changes.bio, field="bio", max_length=MAX_BIO)
    if changes.is_private is not None:
        values["is_private"] = changes.is_private
    if changes.archive_stories is not None:
        # Off again: expired stories in no highlight are swept by the next run past their retention.
        values["archive_stories"] = changes.archive_stories
    if changes.avatar_media_id is not None:
        (avatar,) = await media.attach(ctx, [changes.avatar_media_id], "AVATAR", "avatarMediaId")
        values["avatar_media_id"] = avatar.id
    async with ctx.write() as work:
        if values:
            await work.session.execute(update(User).where(User.id == viewer).values(**values))
        if changes.is_private is False:
            # Going public lets everyone in: pending requests become follows.
            result = await work.session.execute(
                update(Follow)
                .where(Follow.followee_id == viewer, Follow.state == FollowState.PENDING)
                .values(state=FollowState.ACCEPTED)
                .returning(Follow.follower_id)
            )
            fanout.followers_accepted(work, viewer, result.scalars())
    user = await UserById(ctx).load(viewer)
    if user is None:
        raise NotFound("User")
    return user
