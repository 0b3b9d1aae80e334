"""The rest of the bench world beside posts: stories, comments, direct conversations and activity,
for the hot documents of issue #25 (bench/hot.py).

Called by bench.generate after the graph and posts exist. Stories expire 30 days after the
database is generated (not a day), so a database kept for reruns still has a tray to show.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core.ids import NODE_BITS, SEQUENCE_BITS

STORY_MEDIA = ["id", "owner_id", "purpose", "kind", "content_type", "byte_size", "status", "storage_key"]
# Posts with this many comments or more are the comment pages' subjects.
HOT_COMMENTS = 60
FOLLOW_ITEMS = 30  # FOLLOWED activity items per user, the newest followers'


def make_id(ms: int, seq: int) -> int:
    return (ms << (NODE_BITS + SEQUENCE_BITS)) | (seq % (1 << (NODE_BITS + SEQUENCE_BITS)))


@dataclass(frozen=True)
class World:
    """What bench.generate built before: users (index -> id), followers per followee index,
    posts as (id, author index), likes as (post id, liker id), and the id time base."""

    user_ids: Sequence[int]
    graph: dict[int, set[int]]
    posts: Sequence[tuple[int, int]]
    likes: Sequence[tuple[int, int, datetime]]
    base_ms: int
    now: datetime


async def generate_social(
    conn: asyncpg.Connection, world: World, rng: random.Random, conversations: int
) -> dict[str, int]:
    counts = {"stories": await _stories(conn, world, rng)}
    counts["comments"] = await _comments(conn, world, rng)
    counts["messages"] = await _conversations(conn, world, rng, conversations)
    counts["activities"] = await _activity(conn, world)
    return counts


async def _stories(conn: asyncpg.Connection, world: World, rng: random.Random) -> int:
    """One user in four has 1-3 live stories (PUBLIC or FOLLOWERS); a few followers saw each."""
    media: list[tuple[Any, ...]] = []
    stories: list[tuple[Any, ...]] = []
    views: list[tuple[Any, ...]] = []
    expires = world.now + timedelta(days=30)
    for n, uid in enumerate(world.user_ids):
        if n % 4:
            continue
        followers = sorted(world.graph[n])
        for _ in range(rng.randint(1, 3)):
            created = world.now - timedelta(minutes=rng.randint(1, 1200))
            media_id, story_id = (
                make_id(world.base_ms + 5, len(media)),
                make_id(world.base_ms + 6, len(media)),
            )
            key = f"story/{uid}/{media_id}.jpg"
            media.append((media_id, uid, "STORY", "IMAGE", "image/jpeg", 90_000, "ready", key, "[]", created))
            stories.append((story_id, uid, media_id, rng.choice(("PUBLIC", "FOLLOWERS")), created, expires))
            for viewer in rng.sample(followers, min(5, len(followers))):
                views.append(
                    (make_id(world.base_ms + 7, len(views)), story_id, world.user_ids[viewer], created)
                )
    await conn.copy_records_to_table("media", columns=[*STORY_MEDIA, "variants", "created_at"], records=media)
    await conn.copy_records_to_table(
        "stories",
        columns=["id", "author_id", "media_id", "audience", "created_at", "expires_at"],
        records=stories,
    )
    await conn.copy_records_to_table(
        "story_views", columns=["id", "story_id", "viewer_id", "viewed_at"], records=views
    )
    return len(stories)


async def _comments(conn: asyncpg.Connection, world: World, rng: random.Random) -> int:
    """A few comments on most posts, and HOT_COMMENTS or more on one post in a thousand."""
    rows: list[tuple[Any, ...]] = []
    users = world.user_ids
    for n, (post_id, _author) in enumerate(world.posts):
        many = HOT_COMMENTS + rng.randrange(40) if n % 1000 == 0 else rng.choice((0, 0, 0, 1, 2, 5))
        ms = post_id >> (NODE_BITS + SEQUENCE_BITS)
        for k in range(many):
            author = users[rng.randrange(len(users))]
            rows.append(
                (make_id(ms + 1 + k, 4 * n), post_id, author, f"c{len(rows)}", f"comment {k}", world.now)
            )
    await conn.copy_records_to_table(
        "comments", columns=["id", "post_id", "author_id", "client_id", "body", "created_at"], records=rows
    )
    await conn.execute(
        "UPDATE posts SET comment_count = c.n FROM (SELECT post_id, count(*) AS n FROM comments"
        " GROUP BY post_id) c WHERE c.post_id = posts.id"
    )
    return len(rows)


async def _conversations(conn: asyncpg.Connection, world: World, rng: random.Random, count: int) -> int:
    """`count` direct conversations between user n (n < count) and an account n follows (or the
    next user), each 40-80 messages long, both members accepted."""
    following: dict[int, list[int]] = {}
    for followee, followers in world.graph.items():
        for follower in followers:
            if follower < count:
                following.setdefault(follower, []).append(followee)
    conversations: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    pairs: set[tuple[int, int]] = set()
    for n in range(min(count, len(world.user_ids))):
        other = (
            rng.choice(sorted(following.get(n, []))) if following.get(n) else (n + 1) % len(world.user_ids)
        )
        a, b = world.user_ids[n], world.user_ids[other]
        pair = (min(a, b), max(a, b))
        if a == b or pair in pairs:
            continue
        pairs.add(pair)
        conversation_id = make_id(world.base_ms + 8, n)
        length = rng.randint(40, 80)
        start = world.now - timedelta(days=2)
        for seq in range(1, length + 1):
            sender = a if seq % 3 else b
            sent = start + timedelta(minutes=seq)
            message_id = make_id(world.base_ms + 9, len(messages))
            messages.append((message_id, conversation_id, seq, sender, f"m{n}-{seq}", f"message {seq}", sent))
        last = messages[-1]
        conversations.append(
            (
                conversation_id,
                False,
                f"{pair[0]}:{pair[1]}",
                a,
                length,
                last[0],
                conversation_id,
                start,
                last[6],
            )
        )
        members.append((conversation_id, a, length, start, 0, "accepted", False, False))
        members.append((conversation_id, b, length - 5, start, 0, "accepted", False, False))
    columns = ["id", "is_group", "direct_key", "created_by", "last_seq", "last_message_id", "activity_id"]
    await conn.copy_records_to_table(
        "conversations", columns=[*columns, "created_at", "updated_at"], records=conversations
    )
    await conn.copy_records_to_table(
        "conversation_members",
        columns=[
            "conversation_id",
            "user_id",
            "last_read_seq",
            "joined_at",
            "joined_seq",
            "state",
            "is_admin",
            "muted",
        ],
        records=members,
    )
    await conn.copy_records_to_table(
        "messages",
        columns=["id", "conversation_id", "seq", "sender_id", "client_id", "body", "sent_at"],
        records=messages,
    )
    return len(messages)


async def _activity(conn: asyncpg.Connection, world: World) -> int:
    """Per user: FOLLOWED items for their newest FOLLOW_ITEMS followers, then one POST_LIKED item
    per liked post of theirs (its likers as actors), numbered in that order."""
    author_of = {post_id: world.user_ids[author] for post_id, author in world.posts}
    likers: dict[int, list[int]] = {}
    for post_id, liker, _ in world.likes:
        likers.setdefault(post_id, []).append(liker)
    items: dict[int, list[tuple[str, str, int | None, list[int]]]] = {}
    for followee, followers in world.graph.items():
        for follower in sorted(followers)[-FOLLOW_ITEMS:]:
            actor = world.user_ids[follower]
            items.setdefault(world.user_ids[followee], []).append(
                ("FOLLOWED", f"followed:{actor}", None, [actor])
            )
    for post_id, actors in sorted(likers.items()):
        items.setdefault(author_of[post_id], []).append(("POST_LIKED", f"like:{post_id}", post_id, actors))
    activities: list[tuple[Any, ...]] = []
    actors_rows: list[tuple[Any, ...]] = []
    inboxes: list[tuple[Any, ...]] = []
    for user, user_items in items.items():
        for seq, (kind, key, subject, actors) in enumerate(user_items, start=1):
            activity_id = make_id(world.base_ms + 10, len(activities))
            at = world.now - timedelta(seconds=len(user_items) - seq)
            activities.append((activity_id, user, kind, key, seq, subject, at, at))
            actors_rows += [(activity_id, actor, at - timedelta(seconds=i)) for i, actor in enumerate(actors)]
        inboxes.append((user, len(user_items), len(user_items) // 2))
    await conn.copy_records_to_table(
        "activities",
        columns=["id", "user_id", "kind", "group_key", "seq", "post_id", "created_at", "updated_at"],
        records=activities,
    )
    await conn.copy_records_to_table(
        "activity_actors", columns=["activity_id", "actor_id", "acted_at"], records=actors_rows
    )
    await conn.copy_records_to_table(
        "activity_inboxes", columns=["user_id", "last_seq", "seen_seq"], records=inboxes
    )
    return len(activities)
