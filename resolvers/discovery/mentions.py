"""@mentions: stored for captions, turned into MENTIONED activity for captions and comments.

On every write of a caption (create, edit) the mentioned accounts that exist are stored in order;
an account mentioned for the first time by this caption gets a MENTIONED item, unless a block
stands between it and the writer (either way) or it may not see the post: both are checked inside
the writer's transaction, after the pairs are locked, in SQL forms of the one rule family
(resolvers/visibility_sql.py). Reading `Post.mentions` leaves out anyone in a blocked pair with the
viewer (`can_interact`) and deleted accounts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select

from core.context import RequestContext
from core.sql import insert_ignore_many
from core.unit_of_work import UnitOfWork
from models import Post, PostMention, User
from resolvers.accounts.users import findable_users, relationships
from resolvers.activity import recording as activity
from resolvers.loader import RequestLoader, unique
from resolvers.visibility import can_interact
from resolvers.visibility_sql import blocked_between, content_visible


async def _existing(work: UnitOfWork, usernames: list[str]) -> list[int]:
    """Ids of the accounts with these usernames, in the order given (unknown names are skipped)."""
    if not usernames:
        return []
    rows = await work.session.execute(select(User.username, User.id).where(User.username.in_(usernames)))
    ids: dict[str, int] = {name: user_id for name, user_id in rows.all()}
    return [ids[name] for name in usernames if name in ids]


async def _notify(
    work: UnitOfWork, post: Post, actor: int, user_ids: list[int], comment_id: int | None = None
) -> None:
    """MENTIONED items for those of `user_ids` that may hear of it (see the module docstring)."""
    candidates = [user_id for user_id in dict.fromkeys(user_ids) if user_id != actor]
    if not candidates:
        return
    await work.lock_pairs(actor, candidates)  # a block in flight commits first, or waits
    author_is_private = select(User.is_private).where(User.id == post.author_id).scalar_subquery()
    stmt = select(User.id).where(
        User.id.in_(candidates),
        ~blocked_between(User.id, actor),
        content_visible(User.id, post.author_id, author_is_private),
    )
    allowed = set(await work.session.scalars(stmt))
    for user_id in candidates:
        if user_id in allowed:
            await activity.record(
                work, user_id, activity.ActivityKind.MENTIONED, actor, post_id=post.id, comment_id=comment_id
            )


async def caption_mentions(work: UnitOfWork, post: Post, usernames: list[str], *, edit: bool = False) -> None:
    """Store the caption's mentions; notify the accounts it mentions that it did not before."""
    before: set[int] = set()
    if edit:
        before = set(
            await work.session.scalars(select(PostMention.user_id).where(PostMention.post_id == post.id))
        )
        await work.session.execute(delete(PostMention).where(PostMention.post_id == post.id))
    mentioned = await _existing(work, usernames)
    await insert_ignore_many(
        work.session,
        PostMention,
        [{"post_id": post.id, "user_id": user_id, "position": n} for n, user_id in enumerate(mentioned)],
    )
    await _notify(work, post, post.author_id, [user_id for user_id in mentioned if user_id not in before])


async def comment_mentions(
    work: UnitOfWork, post: Post, actor: int, comment_id: int, usernames: list[str]
) -> None:
    """A comment's mentions notify; they are not stored (a comment cannot be edited)."""
    await _notify(work, post, actor, await _existing(work, usernames), comment_id)


class MentionedIn(RequestLoader[int, list[int]]):
    """Per post, the ids of the accounts its caption mentions, in order of first use."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[int]]:
        stmt = (
            select(PostMention.post_id, PostMention.user_id)
            .where(PostMention.post_id.in_(unique(keys)))
            .order_by(PostMention.post_id, PostMention.position)
        )
        found: dict[int, list[int]] = {}
        async with self.ctx.read() as session:
            for post_id, user_id in (await session.execute(stmt)).all():
                found.setdefault(post_id, []).append(user_id)
        return found

    def default(self, key: int) -> list[int]:
        return []


async def visible_mentions(ctx: RequestContext, post: Post) -> list[User]:
    """`Post.mentions`: the mentioned accounts outside a blocked pair with the viewer."""
    ids = await MentionedIn(ctx).load(post.id)
    users, rels = await asyncio.gather(findable_users(ctx, ids), relationships(ctx, ids))
    return [user for user, rel in zip(users, rels, strict=True) if user is not None and can_interact(rel)]
