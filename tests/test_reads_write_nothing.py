"""A read stays a read: no request that only reads runs a write statement (INSERT, UPDATE, DELETE)
in the database, on either backend. Feed activity goes to Redis (resolvers/feed/active.py) and a
ranked feed's snapshot to Redis or the process (resolvers/feed/snapshots.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event

from core.ids import to_global_id
from resolvers.feed.cache import FeedCache
from tests.edge_world import World, build_world
from tests.harness import Api, TestUser
from tests.story_helpers import db_id

WRITES = ("INSERT", "UPDATE", "DELETE")
PROFILE = """query($u: String!) {
  user(username: $u) {
    id username stories { id } highlights { id } posts(first: 5) { edges { node { id } } }
    followers(first: 5) { edges { node { id } } }
  }
}"""
FEED = """query($order: FeedOrder, $after: String) {
  feed(first: 1, order: $order, after: $after) {
    edges { node { id author { id } comments(first: 5) { edges { node { id body } } } } }
    pageInfo { endCursor hasNextPage }
  }
}"""
TRAY = "{ storiesTray(first: 10) { edges { node { id owner { id } stories { id viewerHasSeen } } } } }"
NODE = """query($id: ID!) {
  node(id: $id) {
    id
    ... on Post { commentCount comments(first: 5) { edges { node { id } } } }
    ... on Story { author { id } viewCount viewers(first: 5) { edges { node { user { id } } } } }
    ... on Message { body }
    ... on Highlight { stories { id } }
  }
}"""
CONVERSATIONS = """{
  conversations(first: 5) {
    edges { node { id unreadCount lastMessage { id } messages(last: 10) { edges { node { id body } } } } }
  }
  unreadConversationCount
}"""
OTHERS = """{
  viewer { id username email archiveStories }
  sessions(first: 5) { edges { node { id } } }
  dataExport { id }
  followRequests(first: 5) { edges { node { id } } }
  storyArchive(first: 5) { edges { node { id } } }
  messageRequestCount
  searchUsers(query: "user", first: 5) { edges { node { id } } }
  suggestedUsers(first: 5) { id }
  hashtag(name: "edgecase") { id }
  savedPosts(first: 5) { edges { node { id } } }
}"""
ACTIVITY = """{
  activity(first: 10) { edges { node { id kind actors { id } post { id } story { id } } } }
  activityUnseenCount
}"""


# Set while the test's requests run: statements of background tasks started before (renewing the
# id lease, draining the outbox, flushing session times) run outside it and are not the request's.
IN_REQUEST: ContextVar[bool] = ContextVar("in_request", default=False)


@contextmanager
def request_statements(api: Api) -> Iterator[list[str]]:
    """Every SQL statement run on behalf of the requests made inside the block (the request's own
    task and the tasks it starts inherit the context; SQLAlchemy's greenlets carry it too)."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if IN_REQUEST.get():
            statements.append(statement)

    engines = [engine.sync_engine for engine in api.services.db.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    token = IN_REQUEST.set(True)
    try:
        yield statements
    finally:
        IN_REQUEST.reset(token)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def reads(api: Api, world: World, user: TestUser) -> list[tuple[str, dict[str, Any]]]:
    """The read-only requests of `user` after a ranked first page (made here, counted by the caller),
    with a later ranked page on its cursor."""
    first_ranked = await api.gql(FEED, {"order": "RANKED"}, user.token)
    cursor = first_ranked["feed"]["pageInfo"]["endCursor"]
    nodes = [world.target(name) for name in ("post", "story", "kept", "highlight", "message", "owner")]
    return [
        (FEED, {"order": "RECENT"}),
        (FEED, {"order": "RANKED", "after": cursor}),
        (TRAY, {}),
        (PROFILE, {"u": world.owner.username}),
        *((NODE, {"id": node}) for node in nodes),
        (CONVERSATIONS, {}),
        (ACTIVITY, {}),
        (OTHERS, {}),
    ]


async def test_read_only_requests_run_no_write_statement(api: Api) -> None:
    world = await build_world(api, private=False)
    for user in (world.viewer, world.owner):
        if api.services.redis is not None:  # the feed is rebuilt on the read: once a write of activity
            await api.services.redis.delete(FeedCache.key(db_id(user.id)))
        answered: list[dict[str, Any]] = []
        with request_statements(api) as statements:
            for query, variables in await reads(api, world, user):
                answered.append(await api.gql(query, variables, user.token))
        writes = [s for s in statements if s.lstrip().upper().startswith(WRITES)]
        assert not writes, (user.username, writes)
        assert len(statements) > len(answered)  # the statements were seen: the count is not vacuous
        shown = str(answered)
        assert answered[-1]["hashtag"] is not None and answered[-1]["viewer"]["username"] == user.username
        for name in ("post", "story", "message"):
            assert world.target(name) in shown, name
    assert to_global_id("Story", world.ids["story"]) in str(await api.gql(TRAY, {}, world.viewer.token))
