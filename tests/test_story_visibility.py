"""The visibility matrix: every audience x every kind of viewer x public/private account, on every path.

Expectations are written out here, independently of resolvers/stories/rules.py.
"""

from __future__ import annotations

import pytest

from tests.harness import Api, TestUser
from tests.story_helpers import add_edges, create_story, db_id

# The tray here asks for 100 owners with all their stories: above the default query cost, which
# tests/test_limits.py covers.
pytestmark = pytest.mark.settings(max_query_cost=100_000)

AUDIENCES = ("PUBLIC", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS")

# Viewer kind -> (graph rows as (kind, "author"|"viewer", "author"|"viewer"), audiences admitted on a
# public account, on a private account, whether the author is in the viewer's tray at all).
ALL = set(AUDIENCES)
EVERY_RELATION = [
    ("close_friend", "author", "viewer"),
    ("contact", "author", "viewer"),
    ("contact", "viewer", "author"),
]
MATRIX: dict[str, tuple[list[tuple[str, str, str]], set[str], set[str], bool]] = {
    "author": ([], ALL, ALL, True),
    "follower": ([("follow", "viewer", "author")], {"PUBLIC", "FOLLOWERS"}, {"PUBLIC", "FOLLOWERS"}, True),
    "pending follower": ([("pending", "viewer", "author")], {"PUBLIC"}, set(), False),
    "non-follower": ([], {"PUBLIC"}, set(), False),
    "close friend": (
        [("close_friend", "author", "viewer")],
        {"PUBLIC", "CLOSE_FRIENDS"},
        {"CLOSE_FRIENDS"},
        True,
    ),
    "mutual contact": (
        [("contact", "author", "viewer"), ("contact", "viewer", "author")],
        {"PUBLIC", "CONTACTS"},
        {"CONTACTS"},
        True,
    ),
    "contact of the author only": ([("contact", "author", "viewer")], {"PUBLIC"}, set(), True),
    "has the author as contact only": ([("contact", "viewer", "author")], {"PUBLIC"}, set(), False),
    "hidden from": (
        [("follow", "viewer", "author"), ("hide", "author", "viewer"), *EVERY_RELATION],
        set(),
        set(),
        True,
    ),
    "blocked by the author": ([("block", "author", "viewer"), *EVERY_RELATION], set(), set(), True),
    "blocking the author": ([("block", "viewer", "author"), *EVERY_RELATION], set(), set(), True),
}

PROFILE = "query($u: String!) { user(username: $u) { hasActiveStories stories { id } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Story { id viewCount viewers { edges { cursor } } } } }"
TRAY = "{ storiesTray(first: 100) { edges { node { owner { id } stories { id } } } } }"
REACT = 'mutation($id: ID!) { reactToStory(storyId: $id, emoji: "👀") { id } }'
SEEN = "mutation($id: ID!) { markStoriesSeen(ids: [$id]) { id } }"
VIEWERS = """
query($id: ID!) { node(id: $id) { ... on Story { viewers(first: 100) { edges { node { user { id } } } } } } }
"""


async def outcome(api: Api, query: str, variables: dict[str, str], token: str) -> bool:
    """True when the request succeeds; False when it fails with NOT_FOUND (any other error fails the test)."""
    body = await api.post(query, variables, token)
    if not body.get("errors"):
        return True
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body
    return False


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_story_visibility_matrix(api: Api, private: bool) -> None:
    author = await api.sign_up()
    if private:
        await api.gql("mutation { updateProfile(input: {isPrivate: true}) { id } }", token=author.token)
    stories = {audience: await create_story(api, author, audience) for audience in AUDIENCES}
    viewers: dict[str, TestUser] = {"author": author}
    edges = []
    for kind, (rows, *_rest) in MATRIX.items():
        if kind == "author":
            continue
        viewers[kind] = viewer = await api.sign_up()
        ids = {"author": db_id(author.id), "viewer": db_id(viewer.id)}
        edges += [(edge, ids[a], ids[b]) for edge, a, b in rows]
    await add_edges(api, edges)

    failures = []
    for kind, (_rows, on_public, on_private, in_tray) in MATRIX.items():
        viewer = viewers[kind]
        expected = on_private if private else on_public
        expected_ids = {stories[a] for a in expected}

        profile = (await api.gql(PROFILE, {"u": author.username}, viewer.token))["user"]
        seen_on = {
            "profile": {s["id"] for s in profile["stories"]} if profile else set(),
            "tray": {
                s["id"]
                for edge in (await api.gql(TRAY, token=viewer.token))["storiesTray"]["edges"]
                if edge["node"]["owner"]["id"] == author.id
                for s in edge["node"]["stories"]
            },
        }
        if profile and profile["hasActiveStories"] != bool(expected_ids):
            failures.append((kind, "hasActiveStories", profile["hasActiveStories"]))
        for path, query in (("node", NODE), ("react", REACT), ("seen", SEEN)):
            seen_on[path] = set()
            for story in stories.values():
                if path == "node":
                    node = (await api.gql(query, {"id": story}, viewer.token))["node"]
                    if node:
                        seen_on[path].add(story)
                        author_only = node["viewCount"] is not None, node["viewers"] is not None
                        if author_only != (kind == "author",) * 2:
                            failures.append((kind, "viewers", story))
                elif await outcome(api, query, {"id": story}, viewer.token):
                    seen_on[path].add(story)
        for path, got in seen_on.items():
            want = expected_ids if path != "tray" or in_tray else set()
            if got != want:
                failures.append((kind, path, sorted(a for a, s in stories.items() if s in got)))

    # The author's viewers list holds exactly those who could see each story (they all marked it seen).
    for audience, story in stories.items():
        listed = {
            e["node"]["user"]["id"]
            for e in (await api.gql(VIEWERS, {"id": story}, author.token))["node"]["viewers"]["edges"]
        }
        admitted = {
            viewers[kind].id
            for kind, (_r, pub, priv, _t) in MATRIX.items()
            if kind != "author" and audience in (priv if private else pub)
        }
        if listed != admitted:
            failures.append(("author", f"viewers of {audience}", len(listed)))
    assert failures == []
