"""What a written caption leaves behind besides its text: hashtag rows and mentions (with their
MENTIONED items). Called inside the unit of work of createPost and editPost."""

from __future__ import annotations

from sqlalchemy import delete, select

from core.sql import insert_ignore_many
from core.unit_of_work import UnitOfWork
from models import Hashtag, Post, PostHashtag
from resolvers.discovery.caption_text import Parsed
from resolvers.discovery.mentions import caption_mentions


async def caption_written(work: UnitOfWork, post: Post, parsed: Parsed, *, edit: bool = False) -> None:
    await store_hashtags(work, post.id, parsed.hashtags, replace=edit)
    await caption_mentions(work, post, parsed.usernames, edit=edit)


async def store_hashtags(work: UnitOfWork, post_id: int, tags: list[str], *, replace: bool = False) -> None:
    """The post carries exactly `tags` (an edit replaces what the old caption had)."""
    session, services = work.session, work.services
    if replace:
        await session.execute(delete(PostHashtag).where(PostHashtag.post_id == post_id))
    if not tags:
        return
    now = services.clock.now()
    await insert_ignore_many(
        session, Hashtag, [{"id": services.ids.next_id(), "name": tag, "created_at": now} for tag in tags]
    )
    ids = list(await session.scalars(select(Hashtag.id).where(Hashtag.name.in_(tags))))
    await insert_ignore_many(session, PostHashtag, [{"hashtag_id": tag, "post_id": post_id} for tag in ids])
