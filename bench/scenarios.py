"""The hot documents of issue #25, each beside its floor: the same rows fetched by asyncpg with one
hand-written statement. A scenario knows its document, its floor, how to draw requests from the
bench world (bench.generate) and how to reduce both answers to rows that must be equal.

The feed documents and floors are bench/request_path.py's and bench/feed.py's, the tray's
bench/tray.py's; the others are here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench import request_path
from bench.common import token_for
from bench.feed import FEED as FEED_WITH_ORDER
from bench.feed import RANKED_FLOOR_SQL
from bench.tray import BASELINE_SQL as TRAY_FLOOR_SQL
from bench.tray import TRAY_QUERY
from core.ids import from_global_id, to_global_id

MEDIA_JSON = """(SELECT json_agg(json_build_object('id', m.id, 'key', m.storage_key) ORDER BY pm.position)
     FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = {post}.id)"""
NO_BLOCK = """NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.user_id = {a} AND b.other_id = {b})
     OR (b.user_id = {b} AND b.other_id = {a}))"""

PROFILE = """query Profile($username: String!, $first: Int) {
  user(username: $username) { id username displayName isPrivate avatar { url }
    posts(first: $first) {
      edges { cursor node { id caption likeCount commentCount createdAt media { id url } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
PROFILE_SQL = f"""
SELECT u.id AS user_id, u.username, u.display_name, a.storage_key AS avatar_key,
  p.id, p.caption, p.like_count, p.comment_count, p.created_at, {MEDIA_JSON.format(post="p")} AS media
FROM users u LEFT JOIN media a ON a.id = u.avatar_media_id
LEFT JOIN LATERAL (SELECT * FROM posts WHERE author_id = u.id ORDER BY id DESC LIMIT $2) p ON true
WHERE u.username = $1 AND u.deleted_at IS NULL AND {NO_BLOCK.format(a="$3", b="u.id")}
ORDER BY p.id DESC
"""

COMMENTS = """query Comments($id: ID!, $first: Int) {
  node(id: $id) { ... on Post { id commentCount
    comments(first: $first) {
      edges { cursor node { id body createdAt author { id username avatar { url } } } }
      pageInfo { hasNextPage endCursor }
    }
  } }
}"""
COMMENTS_SQL = f"""
SELECT c.id, c.body, c.created_at, u.username, a.storage_key AS avatar_key
FROM comments c JOIN users u ON u.id = c.author_id LEFT JOIN media a ON a.id = u.avatar_media_id
WHERE c.post_id = $1 AND {NO_BLOCK.format(a="$2", b="c.author_id")}
ORDER BY c.id LIMIT $3
"""

MESSAGES = """query Messages($id: ID!, $last: Int) {
  node(id: $id) { ... on Conversation { id isGroup
    messages(last: $last) {
      edges { cursor node { id seq body sentAt sender { id username } } }
      pageInfo { hasPreviousPage startCursor }
    }
  } }
}"""
MESSAGES_SQL = f"""
SELECT m.id, m.seq, m.body, m.sent_at, u.username
FROM messages m JOIN users u ON u.id = m.sender_id
WHERE m.conversation_id = $1 AND m.unsent_at IS NULL
  AND EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = $1 AND cm.user_id = $2)
  AND {NO_BLOCK.format(a="$2", b="m.sender_id")}
ORDER BY m.seq DESC LIMIT $3
"""

ACTIVITY = """query Activity($first: Int) {
  activity(first: $first) {
    edges { cursor node { id kind actorCount seq isUnseen updatedAt actors { id username } post { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
_ACTOR_SHOWN = f"""{NO_BLOCK.format(a="$1", b="x.actor_id")} AND CASE a.kind
    WHEN 'POST_LIKED' THEN EXISTS (SELECT 1 FROM post_likes l
      WHERE l.post_id = a.post_id AND l.user_id = x.actor_id)
    WHEN 'FOLLOWED' THEN EXISTS (SELECT 1 FROM follows f
      WHERE f.follower_id = x.actor_id AND f.followee_id = $1 AND f.state = 'accepted')
    ELSE true END"""
ACTIVITY_SQL = f"""
WITH page AS (
  SELECT a.* FROM activities a
  WHERE a.user_id = $1
    AND EXISTS (SELECT 1 FROM activity_actors x WHERE x.activity_id = a.id AND {_ACTOR_SHOWN})
  ORDER BY a.seq DESC LIMIT $2
)
SELECT a.id, a.kind, a.seq, a.post_id, a.updated_at,
  a.seq > coalesce((SELECT seen_seq FROM activity_inboxes WHERE user_id = $1), 0) AS unseen,
  (SELECT count(*) FROM activity_actors x WHERE x.activity_id = a.id AND {_ACTOR_SHOWN}) AS actor_count,
  (SELECT json_agg(s.username ORDER BY s.acted_at DESC, s.actor_id DESC) FROM (
     SELECT x.actor_id, x.acted_at, u.username FROM activity_actors x JOIN users u ON u.id = x.actor_id
     WHERE x.activity_id = a.id AND {_ACTOR_SHOWN} ORDER BY x.acted_at DESC, x.actor_id DESC LIMIT 3) s
  ) AS actors
FROM page a ORDER BY a.seq DESC
"""
RANKED_WEIGHTS = (2.0, 1.0, 1.0, 0.5)  # settings.py's defaults, as bench/feed.py uses them


@dataclass(frozen=True)
class Case:
    """One request: who asks (a bench user's index), the document's variables, the floor's arguments."""

    user: int
    variables: dict[str, Any]
    floor_args: tuple[Any, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    document: str
    floor_sql: str
    served: Callable[[dict[str, Any]], list[Any]]  # the answer's `data` -> comparable rows
    expected: Callable[[list[asyncpg.Record]], list[Any]]  # the floor's rows -> the same

    def body(self, case: Case) -> dict[str, Any]:
        return {"query": self.document, "variables": case.variables}

    def token(self, case: Case) -> str:
        return token_for(case.user)


def db_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


def _media(value: str | None) -> list[int]:
    return [m["id"] for m in json.loads(value or "[]")]


def _edges(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def _feed_served(data: dict[str, Any]) -> list[Any]:
    return [
        (
            db_id(n["id"]),
            n["author"]["username"],
            n["likeCount"],
            [db_id(m["id"]) for m in n["media"]],
            n["author"].get("avatar") is not None,  # the RECENT document asks for it, RANKED's not
        )
        for n in _edges(data["feed"])
    ]


def _feed_expected(rows: list[asyncpg.Record]) -> list[Any]:
    return [
        (r["id"], r["username"], r["like_count"], _media(r["media"]), r.get("avatar_key") is not None)
        for r in rows
    ]


def _tray_served(data: dict[str, Any]) -> list[Any]:
    return [
        (n["owner"]["username"], n["hasUnseen"], [db_id(s["id"]) for s in n["stories"]])
        for n in _edges(data["storiesTray"])
    ]


def _tray_expected(rows: list[asyncpg.Record]) -> list[Any]:
    return [(r["username"], r["has_unseen"], [s["id"] for s in json.loads(r["stories"])]) for r in rows]


def _profile_served(data: dict[str, Any]) -> list[Any]:
    user = data["user"]
    return [(user["username"], user["avatar"] is not None)] + [
        (db_id(n["id"]), n["likeCount"], n["commentCount"], [db_id(m["id"]) for m in n["media"]])
        for n in _edges(user["posts"])
    ]


def _profile_expected(rows: list[asyncpg.Record]) -> list[Any]:
    head = [(rows[0]["username"], rows[0]["avatar_key"] is not None)] if rows else []
    return head + [
        (r["id"], r["like_count"], r["comment_count"], _media(r["media"]))
        for r in rows
        if r["id"] is not None
    ]


def _comments_served(data: dict[str, Any]) -> list[Any]:
    return [
        (db_id(n["id"]), n["author"]["username"], n["body"], n["author"]["avatar"] is not None)
        for n in _edges(data["node"]["comments"])
    ]


def _comments_expected(rows: list[asyncpg.Record]) -> list[Any]:
    return [(r["id"], r["username"], r["body"], r["avatar_key"] is not None) for r in rows]


def _messages_served(data: dict[str, Any]) -> list[Any]:
    return [
        (db_id(n["id"]), n["seq"], n["sender"]["username"], n["body"])
        for n in _edges(data["node"]["messages"])
    ]


def _messages_expected(rows: list[asyncpg.Record]) -> list[Any]:
    return [(r["id"], r["seq"], r["username"], r["body"]) for r in reversed(rows)]


def _activity_served(data: dict[str, Any]) -> list[Any]:
    return [
        (
            n["seq"],
            n["kind"],
            n["actorCount"],
            [a["username"] for a in n["actors"]],
            db_id(n["post"]["id"]) if n["post"] else None,
            n["isUnseen"],
        )
        for n in _edges(data["activity"])
    ]


def _activity_expected(rows: list[asyncpg.Record]) -> list[Any]:
    return [
        (r["seq"], r["kind"], r["actor_count"], json.loads(r["actors"] or "[]"), r["post_id"], r["unseen"])
        for r in rows
    ]


FEED_RECENT = Scenario("feed", request_path.FEED, request_path.FLOOR_SQL, _feed_served, _feed_expected)
FEED_RANKED = Scenario("feed-ranked", FEED_WITH_ORDER, RANKED_FLOOR_SQL, _feed_served, _feed_expected)
TRAY = Scenario("stories-tray", TRAY_QUERY, TRAY_FLOOR_SQL, _tray_served, _tray_expected)
PROFILE_SCENARIO = Scenario("profile", PROFILE, PROFILE_SQL, _profile_served, _profile_expected)
COMMENTS_SCENARIO = Scenario("comments", COMMENTS, COMMENTS_SQL, _comments_served, _comments_expected)
MESSAGES_SCENARIO = Scenario("messages", MESSAGES, MESSAGES_SQL, _messages_served, _messages_expected)
ACTIVITY_SCENARIO = Scenario("activity", ACTIVITY, ACTIVITY_SQL, _activity_served, _activity_expected)
SCENARIOS = {
    s.name: s
    for s in (
        FEED_RECENT,
        FEED_RANKED,
        TRAY,
        PROFILE_SCENARIO,
        COMMENTS_SCENARIO,
        MESSAGES_SCENARIO,
        ACTIVITY_SCENARIO,
    )
}


async def draw_cases(
    conn: asyncpg.Connection, name: str, count: int, seed: int, first: int = 20
) -> list[Case]:
    """`count` requests of scenario `name` over the world in `conn`, the same for every system."""
    rng = random.Random(seed)
    ids = {row["username"]: row["id"] for row in await conn.fetch("SELECT id, username FROM users")}
    index = {uid: int(username[1:]) for username, uid in ids.items()}
    users = sorted(index.values())
    viewers = rng.sample(users, min(count, len(users)))
    if name == "feed":
        return [Case(v, {"first": first}, (ids[f"u{v}"], first)) for v in viewers]
    if name == "feed-ranked":
        variables = {"first": first, "order": "RANKED"}
        return [Case(v, variables, (ids[f"u{v}"], first, 500, 72, *RANKED_WEIGHTS)) for v in viewers]
    if name == "stories-tray":
        now = datetime.now(UTC)
        return [Case(v, {"first": first}, (ids[f"u{v}"], now, first)) for v in viewers]
    if name == "profile":
        authors = [row["author_id"] for row in await conn.fetch("SELECT DISTINCT author_id FROM posts")]
        targets = [f"u{index[uid]}" for uid in rng.sample(sorted(authors), min(count, len(authors)))]
        return [
            Case(v, {"username": t, "first": first}, (t, first, ids[f"u{v}"]))
            for v, t in zip(viewers, targets, strict=False)
        ]
    if name == "comments":
        posts = [
            row["id"]
            for row in await conn.fetch("SELECT id FROM posts WHERE comment_count >= 20 ORDER BY id")
        ]
        return [
            Case(v, {"id": to_global_id("Post", p), "first": first}, (p, ids[f"u{v}"], first))
            for v, p in zip(viewers, (rng.choice(posts) for _ in viewers), strict=True)
        ]
    if name == "messages":
        rows = await conn.fetch("SELECT id, created_by FROM conversations ORDER BY id")
        picked = rng.sample(list(rows), min(count, len(rows)))
        return [
            Case(
                index[r["created_by"]],
                {"id": to_global_id("Conversation", r["id"]), "last": first},
                (r["id"], r["created_by"], first),
            )
            for r in picked
        ]
    if name == "activity":
        owners = sorted(
            index[row["user_id"]] for row in await conn.fetch("SELECT user_id FROM activity_inboxes")
        )
        return [
            Case(v, {"first": first}, (ids[f"u{v}"], first))
            for v in rng.sample(owners, min(count, len(owners)))
        ]
    raise ValueError(f"no scenario {name!r}")
