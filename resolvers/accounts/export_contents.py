"""What a data export holds: the account's rows as JSON documents, and its original media files.

Ids are the API's global ids, so an export can be matched with what the app showed.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from core.context import Services
from core.ids import to_global_id
from models import (
    Activity,
    Block,
    CloseFriend,
    Comment,
    Contact,
    Follow,
    Highlight,
    HighlightStory,
    Media,
    MediaStatus,
    Message,
    Post,
    PostMedia,
    SavedPost,
    Story,
    User,
)
from resolvers.stories.rules import has_expired


@dataclass
class Contents:
    documents: dict[str, Any] = field(default_factory=dict)
    media: list[tuple[str, str]] = field(default_factory=list)  # (storage key, name in the archive)


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def media_name(media: Media) -> str:
    extension = mimetypes.guess_extension(media.content_type) or ""
    return f"media/{to_global_id('Media', media.id)}{extension}"


async def collect(services: Services, user_id: int) -> Contents:
    contents = Contents()
    docs = contents.documents
    now = services.clock.now()
    async with services.db.read() as session:
        user = await session.scalar(select(User).where(User.id == user_id))
        if user is None:
            raise LookupError(f"no user {user_id}")
        media = {
            m.id: m
            for m in await session.scalars(
                select(Media).where(Media.owner_id == user_id, Media.status == MediaStatus.READY)
            )
        }
        names = {media_id: media_name(m) for media_id, m in media.items()}
        docs["profile.json"] = {
            "id": to_global_id("User", user.id),
            "username": user.username,
            "displayName": user.display_name,
            "bio": user.bio,
            "isPrivate": user.is_private,
            "email": user.email,
            "emailVerified": user.email_verified,
            "archiveStories": user.archive_stories,
            "avatar": names.get(user.avatar_media_id) if user.avatar_media_id else None,
            "createdAt": _time(user.created_at),
        }
        other = aliased(User)
        following = await session.execute(
            select(other.username, Follow.state, Follow.created_at)
            .join(other, other.id == Follow.followee_id)
            .where(Follow.follower_id == user_id, other.deleted_at.is_(None))
        )
        followers = await session.execute(
            select(other.username, Follow.state, Follow.created_at)
            .join(other, other.id == Follow.follower_id)
            .where(Follow.followee_id == user_id, other.deleted_at.is_(None))
        )
        graph: dict[str, Any] = {
            "following": [{"username": n, "state": str(s), "since": _time(t)} for n, s, t in following],
            "followers": [{"username": n, "state": str(s), "since": _time(t)} for n, s, t in followers],
        }
        for name, edge in (("blocked", Block), ("closeFriends", CloseFriend), ("contacts", Contact)):
            rows = await session.execute(
                select(other.username, edge.created_at)
                .join(other, other.id == edge.other_id)
                .where(edge.user_id == user_id, other.deleted_at.is_(None))
            )
            graph[name] = [{"username": n, "since": _time(t)} for n, t in rows]
        docs["graph.json"] = graph
        posts = list(await session.scalars(select(Post).where(Post.author_id == user_id).order_by(Post.id)))
        attached: dict[int, list[str]] = {}
        for post_id, media_id in await session.execute(
            select(PostMedia.post_id, PostMedia.media_id)
            .join(Post, Post.id == PostMedia.post_id)
            .where(Post.author_id == user_id)
            .order_by(PostMedia.post_id, PostMedia.position)
        ):
            if media_id in names:
                attached.setdefault(post_id, []).append(names[media_id])
        docs["posts.json"] = [
            {
                "id": to_global_id("Post", p.id),
                "caption": p.caption,
                "createdAt": _time(p.created_at),
                "editedAt": _time(p.edited_at),
                "likeCount": p.like_count,
                "commentCount": p.comment_count,
                "media": attached.get(p.id, []),
            }
            for p in posts
        ]
        saved = await session.execute(
            select(SavedPost.post_id, SavedPost.created_at)
            .where(SavedPost.user_id == user_id)
            .order_by(SavedPost.id.desc())
        )
        docs["saved.json"] = [{"post": to_global_id("Post", p), "savedAt": _time(t)} for p, t in saved]
        comments = await session.scalars(
            select(Comment).where(Comment.author_id == user_id).order_by(Comment.id)
        )
        docs["comments.json"] = [
            {
                "id": to_global_id("Comment", c.id),
                "post": to_global_id("Post", c.post_id),
                "body": c.body,
                "createdAt": _time(c.created_at),
            }
            for c in comments
        ]
        highlighted: dict[int, list[str]] = {}
        for story_id, title in await session.execute(
            select(HighlightStory.story_id, Highlight.title)
            .join(Highlight, Highlight.id == HighlightStory.highlight_id)
            .where(Highlight.owner_id == user_id)
        ):
            highlighted.setdefault(story_id, []).append(title)
        # Kept stories: live ones, expired ones in the archive (setting on) or in a highlight.
        stories = await session.scalars(
            select(Story).where(Story.author_id == user_id, Story.deleted_at.is_(None)).order_by(Story.id)
        )
        docs["stories.json"] = [
            {
                "id": to_global_id("Story", s.id),
                "audience": s.audience,
                "createdAt": _time(s.created_at),
                "expiresAt": _time(s.expires_at),
                "highlights": highlighted.get(s.id, []),
                "media": names.get(s.media_id) if s.media_id else None,
            }
            for s in stories
            if not has_expired(s, now) or user.archive_stories or s.id in highlighted
        ]
        messages = await session.scalars(
            select(Message).where(Message.sender_id == user_id).order_by(Message.conversation_id, Message.seq)
        )
        docs["messages.json"] = [
            {
                "id": to_global_id("Message", m.id),
                "conversation": to_global_id("Conversation", m.conversation_id),
                "seq": m.seq,
                "body": m.body,
                "media": names.get(m.media_id) if m.media_id else None,
                "sentAt": _time(m.sent_at),
            }
            for m in messages
        ]
        activity = await session.scalars(
            select(Activity).where(or_(Activity.user_id == user_id)).order_by(Activity.seq)
        )
        docs["activity.json"] = [
            {
                "id": to_global_id("Activity", a.id),
                "kind": a.kind,
                "post": to_global_id("Post", a.post_id) if a.post_id else None,
                "story": to_global_id("Story", a.story_id) if a.story_id else None,
                "emoji": a.emoji,
                "createdAt": _time(a.created_at),
                "updatedAt": _time(a.updated_at),
            }
            for a in activity
        ]
    referenced = {
        *(name for post in docs["posts.json"] for name in post["media"]),
        *(s["media"] for s in docs["stories.json"] if s["media"]),
        *(m["media"] for m in docs["messages.json"] if m["media"]),
        *([docs["profile.json"]["avatar"]] if docs["profile.json"]["avatar"] else []),
    }
    contents.media = [(m.storage_key, names[m.id]) for m in media.values() if names[m.id] in referenced]
    return contents
