"""Posts: creating, deleting and liking them, and the loaders a page of posts is built from."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import ScalarSelect, Select, delete, func, select, update

from core.context import RequestContext
from core.errors import BadInput, Forbidden, NotFound
from core.sql import insert_ignore
from core.unit_of_work import UnitOfWork
from models import Media, Post, PostLike, PostMedia, User
from resolvers.accounts.users import UserById, relationship, relationships
from resolvers.activity import recording as activity
from resolvers.discovery import caption_text
from resolvers.discovery.captions import caption_written
from resolvers.feed import fanout
from resolvers.loader import RequestLoader, unique
from resolvers.media.uploads import attach, object_keys
from resolvers.paging import Page, PageArgs
from resolvers.parent_pages import PageKey, ParentPages
from resolvers.text import clean_text
from resolvers.visibility import can_see_content

MAX_CAPTION = 2200
MAX_MEDIA = 10


class PostById(RequestLoader[int, Post | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Post | None]:
        async with self.ctx.read() as session:
            return {p.id: p for p in await session.scalars(select(Post).where(Post.id.in_(unique(keys))))}

    def default(self, key: int) -> Post | None:
        return None


class PostMediaRows(RequestLoader[int, list[Media]]):
    """A post's media in the order the author gave."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[Media]]:
        stmt = (
            select(PostMedia.post_id, Media)
            .join(Media, Media.id == PostMedia.media_id)
            .where(PostMedia.post_id.in_(unique(keys)))
            .order_by(PostMedia.post_id, PostMedia.position)
        )
        found: dict[int, list[Media]] = {}
        async with self.ctx.read() as session:
            for post_id, media in (await session.execute(stmt)).all():
                found.setdefault(post_id, []).append(media)
        return found

    def default(self, key: int) -> list[Media]:
        return []


class ViewerLiked(RequestLoader[int, bool]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, bool]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(PostLike.post_id).where(PostLike.user_id == viewer, PostLike.post_id.in_(unique(keys)))
        async with self.ctx.read() as session:
            return {post_id: True for post_id in await session.scalars(stmt)}

    def default(self, key: int) -> bool:
        return False


class PostCount(RequestLoader[int, int]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(Post.author_id, func.count())
            .where(Post.author_id.in_(unique(keys)))
            .group_by(Post.author_id)
        )
        async with self.ctx.read() as session:
            return {author: count for author, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


def posts_of(authors: list[Any]) -> Select[*tuple[Any, ...]]:
    """The posts of those authors (ids or bound parameters): a profile's posts."""
    return select(Post).where(Post.author_id.in_(authors))


def post_count_of(author_id: Any) -> ScalarSelect[int]:
    """`PostCount` of one author (an id or an outer statement's column), as a correlated count."""
    return select(func.count()).where(Post.author_id == author_id).scalar_subquery()


class PostsByAuthor(ParentPages[Post]):
    """Profile pages, newest first; several authors' pages in one statement per page shape."""

    key = Post.id
    parent = Post.author_id
    entity: ClassVar[type[Any] | None] = Post

    def candidates(self, parents: list[Any]) -> Select[*tuple[Any, ...]]:
        return posts_of(parents)


class PostRowsByAuthor(PostsByAuthor):
    """The same pages as named Core rows (the compiled executor's): no ORM objects to build."""

    entity = None

    def candidates(self, parents: list[int]) -> Select[*tuple[Any, ...]]:
        return super().candidates(parents).with_only_columns(*Post.__table__.c)

    def item(self, row: Any) -> Any:
        return row


async def visible_posts(ctx: RequestContext, posts: Sequence[Post]) -> list[bool]:
    """Which of `posts` the viewer may see (`can_see_content` for each author), in two batched loads."""
    authors = [post.author_id for post in posts]
    users, rels = await asyncio.gather(UserById(ctx).load_many(authors), relationships(ctx, authors))
    return [
        user is not None and can_see_content(rel, author_is_private=user.is_private)
        for user, rel in zip(users, rels, strict=True)
    ]


async def can_see_post(ctx: RequestContext, post: Post) -> bool:
    return (await visible_posts(ctx, [post]))[0]


async def visible_post(ctx: RequestContext, post_id: int) -> Post | None:
    post = await PostById(ctx).load(post_id)
    return post if post is not None and await can_see_post(ctx, post) else None


async def visible_post_locked(ctx: RequestContext, work: UnitOfWork, post_id: int) -> Post:
    """The post a write acts on, checked with the viewer/author pair locked (a block in flight
    commits first, or waits for this transaction); NOT_FOUND when the viewer may not see it."""
    post = await PostById(ctx).load(post_id)
    if post is None:
        raise NotFound("Post")
    await work.lock_pair(ctx.require_viewer(), post.author_id)
    if not await can_see_post(ctx, post):
        raise NotFound("Post")
    return post


async def author_posts(
    ctx: RequestContext, author: User, args: PageArgs, pages: type[PostsByAuthor] = PostsByAuthor
) -> Page[Any]:
    """Empty for a private account the viewer does not follow, and across a block. `pages` reads
    the posts as ORM objects (primed for strawberry's loaders) or as Core rows (`PostRowsByAuthor`)."""
    rel = await relationship(ctx, author.id)
    if not can_see_content(rel, author_is_private=author.is_private):
        return Page([], False)
    page = await pages(ctx).load(PageKey(author.id, args.first, args.after))
    if pages.entity is not None:
        for _, post in page.items:
            PostById(ctx).prime(post.id, post)
    return page


async def create_post(ctx: RequestContext, caption: str | None, media_ids: Sequence[int]) -> Post:
    viewer = ctx.require_viewer()
    services = ctx.services
    text = clean_text(caption or "", field="caption", max_length=MAX_CAPTION)
    parsed = caption_text.parse(text, field="caption")
    if not 1 <= len(media_ids) <= MAX_MEDIA:
        raise BadInput(f"A post has 1 to {MAX_MEDIA} photos or videos.", field="mediaIds")
    media = await attach(ctx, media_ids, "POST", "mediaIds")
    post = Post(
        id=services.ids.next_id(),
        author_id=viewer,
        caption=text,
        like_count=0,
        created_at=services.clock.now(),
    )
    async with ctx.write() as work:
        # Locked, so two posts racing for the same media cannot both take it.
        ids = [m.id for m in media]
        await work.session.execute(select(Media.id).where(Media.id.in_(ids)).with_for_update())
        used = await work.session.scalar(
            select(PostMedia.media_id).where(PostMedia.media_id.in_(ids)).limit(1)
        )
        if used is not None:
            raise BadInput("This media is already in a post.", field="mediaIds")
        post.pushed = await fanout.should_push(services, work.session, viewer)
        work.session.add(post)
        await work.session.flush()
        work.session.add_all(
            PostMedia(post_id=post.id, position=i, media_id=m.id) for i, m in enumerate(media)
        )
        await caption_written(work, post, parsed)
        fanout.post_created(work, post.id, viewer)
    return post


async def delete_post(ctx: RequestContext, post_id: int) -> int:
    """The author only; the post, its likes and its media go at once (feeds filter it on read)."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        post = await visible_post(ctx, post_id)
        if post is None:
            raise NotFound("Post")
        if post.author_id != viewer:
            raise Forbidden("Only the author can delete a post.")
        media = list(
            await work.session.scalars(
                select(Media)
                .join(PostMedia, PostMedia.media_id == Media.id)
                .where(PostMedia.post_id == post_id)
                .with_for_update()
            )
        )
        result = await work.session.execute(delete(Post).where(Post.id == post_id, Post.author_id == viewer))
        if not getattr(result, "rowcount", 0):
            raise NotFound("Post")
        await work.session.execute(delete(Media).where(Media.id.in_([m.id for m in media])))
        work.delete_objects(key for m in media for key in object_keys(m))
        fanout.post_deleted(work, post_id, viewer)
    return post_id


async def set_liked(ctx: RequestContext, post_id: int, liked: bool) -> Post:
    """Idempotent: liking twice counts once; the count moves in the same transaction as the row."""
    viewer = ctx.require_viewer()
    services = ctx.services
    async with ctx.write() as work:
        row = await visible_post_locked(ctx, work, post_id)
        if liked:
            changed = await insert_ignore(
                work.session, PostLike, post_id=post_id, user_id=viewer, created_at=services.clock.now()
            )
            delta = 1
        else:
            result = await work.session.execute(
                delete(PostLike).where(PostLike.post_id == post_id, PostLike.user_id == viewer)
            )
            changed, delta = bool(getattr(result, "rowcount", 0)), -1
        if changed:
            await work.session.execute(
                update(Post).where(Post.id == post_id).values(like_count=Post.like_count + delta)
            )
        if changed and liked:
            await activity.record(
                work, row.author_id, activity.ActivityKind.POST_LIKED, viewer, post_id=post_id
            )
    post = await PostById(ctx).load(post_id)
    if post is None:
        raise NotFound("Post")
    return post
