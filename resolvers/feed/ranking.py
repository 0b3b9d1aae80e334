"""The ranked feed's score: `w1*recency + w2*engagement + w3*relationship + w4*contentType`.

docs/feed.md gives the formula with a worked example. Each signal is computed from what is stored:
- recency: 1 for a post made now, falling linearly to 0 at the window's edge (FEED_RANKED_WINDOW_HOURS);
- engagement: ln(1 + likes + comments), from the counts kept on each post;
- relationship: ln(1 + the viewer's interactions with the author: likes and comments on the
  author's posts, views of and reactions to their stories, messages in their 1:1 conversation),
  plus 1 when the author is on the viewer's close-friends list; 0 for the viewer's own posts;
- content type: 1 for a video, 0.5 for a carousel of several photos, 0 for a single photo.
Ties go to the newer post. The weights are settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, select, union_all

from core.context import Reader
from core.sql import id_in
from models import (
    CloseFriend,
    Comment,
    Conversation,
    ConversationMember,
    Media,
    Post,
    PostLike,
    PostMedia,
    Story,
    StoryReaction,
    StoryView,
)
from settings import Settings


@dataclass(frozen=True)
class Weights:
    recency: float
    engagement: float
    relationship: float
    content: float

    @classmethod
    def of(cls, settings: Settings) -> Weights:
        return cls(
            settings.feed_ranked_weight_recency,
            settings.feed_ranked_weight_engagement,
            settings.feed_ranked_weight_relationship,
            settings.feed_ranked_weight_content,
        )


@dataclass(frozen=True)
class Interactions:
    """What the viewer did with one author."""

    likes: int = 0
    comments: int = 0
    story_views: int = 0
    story_reactions: int = 0
    messages: int = 0
    close_friend: bool = False


@dataclass(frozen=True)
class Content:
    media_count: int = 1
    has_video: bool = False


@dataclass(frozen=True)
class Signals:
    recency: float
    engagement: float
    relationship: float
    content: float

    def score(self, weights: Weights) -> float:
        return (
            weights.recency * self.recency
            + weights.engagement * self.engagement
            + weights.relationship * self.relationship
            + weights.content * self.content
        )


def recency(created_at: datetime, now: datetime, window: timedelta) -> float:
    return min(1.0, max(0.0, 1 - (now - created_at) / window))


def engagement(likes: int, comments: int) -> float:
    return math.log1p(max(0, likes) + max(0, comments))


def relationship(done: Interactions) -> float:
    total = done.likes + done.comments + done.story_views + done.story_reactions + done.messages
    return math.log1p(total) + (1.0 if done.close_friend else 0.0)


def content_type(content: Content) -> float:
    if content.has_video:
        return 1.0
    return 0.5 if content.media_count > 1 else 0.0


def signals(post: Post, now: datetime, window: timedelta, done: Interactions, content: Content) -> Signals:
    return Signals(
        recency(post.created_at, now, window),
        engagement(post.like_count, post.comment_count),
        relationship(done),
        content_type(content),
    )


def rank(
    posts: Iterable[Post],
    weights: Weights,
    now: datetime,
    window: timedelta,
    done: dict[int, Interactions],
    contents: dict[int, Content],
) -> list[Post]:
    """Best first; equal scores newest first."""

    def key(post: Post) -> tuple[float, int]:
        found = signals(post, now, window, done.get(post.author_id, NONE), contents.get(post.id, Content()))
        return (-found.score(weights), -post.id)

    return sorted(posts, key=key)


NONE = Interactions()


async def interactions(
    read: Reader, viewer: int, authors: list[int], *, postgres: bool
) -> dict[int, Interactions]:
    """The viewer's interactions with each author, in one statement over the viewer's own rows."""
    if not authors:
        return {}

    def among(column: Any) -> Any:
        return id_in(column, authors, postgres=postgres)

    other = ConversationMember.__table__.alias("other")
    branches: list[Any] = [
        select(literal("likes"), Post.author_id, func.count())
        .select_from(PostLike)
        .join(Post, Post.id == PostLike.post_id)
        .where(PostLike.user_id == viewer, among(Post.author_id))
        .group_by(Post.author_id),
        select(literal("comments"), Post.author_id, func.count())
        .select_from(Comment)
        .join(Post, Post.id == Comment.post_id)
        .where(Comment.author_id == viewer, among(Post.author_id))
        .group_by(Post.author_id),
        select(literal("story_views"), Story.author_id, func.count())
        .select_from(StoryView)
        .join(Story, Story.id == StoryView.story_id)
        .where(StoryView.viewer_id == viewer, among(Story.author_id))
        .group_by(Story.author_id),
        # Reacting is also a view: start from the viewer's views (indexed), not all reactions.
        select(literal("story_reactions"), Story.author_id, func.count())
        .select_from(StoryView)
        .join(Story, Story.id == StoryView.story_id)
        .join(
            StoryReaction,
            and_(StoryReaction.story_id == StoryView.story_id, StoryReaction.user_id == StoryView.viewer_id),
        )
        .where(StoryView.viewer_id == viewer, among(Story.author_id))
        .group_by(Story.author_id),
        # A 1:1 conversation's last seq is how many messages it holds (seqs have no gaps).
        select(literal("messages"), other.c.user_id, Conversation.last_seq)
        .select_from(ConversationMember)
        .join(Conversation, Conversation.id == ConversationMember.conversation_id)
        .join(other, and_(other.c.conversation_id == Conversation.id, other.c.user_id != viewer))
        .where(
            ConversationMember.user_id == viewer, Conversation.is_group.is_(False), among(other.c.user_id)
        ),
        select(literal("close_friend"), CloseFriend.other_id, literal(1, Integer)).where(
            CloseFriend.user_id == viewer, among(CloseFriend.other_id)
        ),
    ]
    counts: dict[int, dict[str, int]] = {}
    async with read() as session:
        for kind, author, count in (await session.execute(union_all(*branches))).all():
            counts.setdefault(author, {})[kind] = int(count)
    return {
        author: Interactions(
            likes=found.get("likes", 0),
            comments=found.get("comments", 0),
            story_views=found.get("story_views", 0),
            story_reactions=found.get("story_reactions", 0),
            messages=found.get("messages", 0),
            close_friend=bool(found.get("close_friend")),
        )
        for author, found in counts.items()
    }


async def contents(read: Reader, post_ids: list[int], *, postgres: bool) -> dict[int, Content]:
    """Each post's media count and whether one of them is a video, in one statement."""
    if not post_ids:
        return {}
    is_video = func.max(case((Media.kind == "VIDEO", 1), else_=0))
    stmt = (
        select(PostMedia.post_id, func.count(), is_video)
        .join(Media, Media.id == PostMedia.media_id)
        .where(id_in(PostMedia.post_id, post_ids, postgres=postgres))
        .group_by(PostMedia.post_id)
    )
    async with read() as session:
        rows = (await session.execute(stmt)).all()
    return {post_id: Content(int(count), bool(video)) for post_id, count, video in rows}
