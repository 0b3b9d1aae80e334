"""Past its deadline a story lives on only where its author chose: highlights and the archive.

The audience matrix of the stories issue (tests/test_story_visibility.py) runs again on expired
stories kept in a highlight (by their audience, evaluated now) and on archived ones (the author
alone); every other path treats them as gone. Expectations are written out here, independently
of resolvers/stories/rules.py.
"""

from __future__ import annotations

import pytest

from resolvers.stories.sweeper import sweep_expired_stories
from tests.harness import Api, TestUser
from tests.story_helpers import add_edges, create_highlight, create_story, db_id, set_archive
from tests.test_story_visibility import AUDIENCES, MATRIX, outcome

# Profiles here read every highlight's stories at once: above the default query cost (each of 50
# highlights may hold 100 stories), which tests/test_limits.py covers.
pytestmark = pytest.mark.settings(max_query_cost=100_000)

TTL = 86_400
PAST_RETENTION = TTL + 3_600 + 1  # expired, and past the window after which unkept media is swept

PROFILE = """
query($u: String!) { user(username: $u) {
  hasActiveStories stories { id } highlights { id stories { id } }
} }
"""
STORY = "query($id: ID!) { node(id: $id) { ... on Story { id viewCount viewers { edges { cursor } } } } }"
HIGHLIGHT = "query($id: ID!) { node(id: $id) { ... on Highlight { id } } }"
TRAY = "{ storiesTray(first: 100) { edges { node { owner { id } stories { id } } } } }"
ARCHIVE = "{ storyArchive(first: 100) { edges { node { id } } } }"
REACT = 'mutation($id: ID!) { reactToStory(storyId: $id, emoji: "👀") { id } }'
SEEN = "mutation($id: ID!) { markStoriesSeen(ids: [$id]) { id } }"
REPLY = 'mutation($id: ID!, $c: String!) { replyToStory(storyId: $id, body: "hi", clientId: $c) { id } }'
MESSAGES = """
query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 10) {
  edges { node { body replyToStory { id } } } } } } }
"""


async def matrix_world(api: Api, private: bool) -> tuple[TestUser, dict[str, str], dict[str, TestUser]]:
    """An author with one story per audience, and one viewer of each kind of the matrix."""
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
    return author, stories, viewers


async def gone_from_live_paths(api: Api, author: TestUser, viewer: TestUser, stories: list[str]) -> list[str]:
    """The live-only paths that still show any of `stories` to `viewer` (none should)."""
    leaks = []
    profile = (await api.gql(PROFILE, {"u": author.username}, viewer.token))["user"]
    if profile and (profile["hasActiveStories"] or profile["stories"]):
        leaks.append("profile")
    tray = (await api.gql(TRAY, token=viewer.token))["storiesTray"]["edges"]
    if any(edge["node"]["owner"]["id"] == author.id for edge in tray):
        leaks.append("tray")
    for story in stories:
        for path, query in (("react", REACT), ("seen", SEEN)):
            if await outcome(api, query, {"id": story}, viewer.token):
                leaks.append(path)
    return leaks


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_expired_stories_in_a_highlight_follow_the_audience_matrix(api: Api, private: bool) -> None:
    author, stories, viewers = await matrix_world(api, private)
    highlight = await create_highlight(api, author, list(stories.values()))
    api.clock.advance(PAST_RETENTION)
    assert await sweep_expired_stories(api.services) == 0  # kept: the highlight holds them

    failures: list[tuple[object, ...]] = []
    for kind, (_rows, on_public, on_private, _in_tray) in MATRIX.items():
        viewer = viewers[kind]
        expected = {stories[a] for a in (on_private if private else on_public)}
        profile = (await api.gql(PROFILE, {"u": author.username}, viewer.token))["user"]
        listed = profile["highlights"] if profile else []
        want_listed = [{"id": highlight, "stories": [{"id": s} for s in stories.values() if s in expected]}]
        if listed != (want_listed if expected else []):
            failures.append((kind, "User.highlights", listed))
        if ((await api.gql(HIGHLIGHT, {"id": highlight}, viewer.token))["node"] is not None) != bool(
            expected
        ):
            failures.append((kind, "node(highlight)"))
        by_node = set()
        for story in stories.values():
            node = (await api.gql(STORY, {"id": story}, viewer.token))["node"]
            if node:
                by_node.add(story)
                if node["viewCount"] is not None or node["viewers"] is not None:
                    failures.append((kind, "viewers after expiry", story))
        if by_node != expected:
            failures.append((kind, "node(story)", sorted(a for a, s in stories.items() if s in by_node)))
        if leaks := await gone_from_live_paths(api, author, viewer, list(stories.values())):
            failures.append((kind, "live paths", leaks))
    assert failures == []


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_archived_stories_are_the_authors_alone(api: Api, private: bool) -> None:
    author, stories, viewers = await matrix_world(api, private)
    await set_archive(api, author, True)
    api.clock.advance(PAST_RETENTION)
    assert await sweep_expired_stories(api.services) == 0  # kept: archived

    failures: list[tuple[object, ...]] = []
    for kind, viewer in viewers.items():
        expected = set(stories.values()) if kind == "author" else set()
        by_node = {s for s in stories.values() if (await api.gql(STORY, {"id": s}, viewer.token))["node"]}
        if by_node != expected:
            failures.append((kind, "node(story)", len(by_node)))
        archive = [
            e["node"]["id"] for e in (await api.gql(ARCHIVE, token=viewer.token))["storyArchive"]["edges"]
        ]
        if archive != sorted(expected, key=db_id, reverse=True):
            failures.append((kind, "storyArchive", len(archive)))
        profile = (await api.gql(PROFILE, {"u": author.username}, viewer.token))["user"]
        if profile and profile["highlights"]:
            failures.append((kind, "User.highlights"))
        if leaks := await gone_from_live_paths(api, author, viewer, list(stories.values())):
            failures.append((kind, "live paths", leaks))
    assert failures == []


async def test_at_ttl_plus_one_second_only_the_highlight_paths_remain(api: Api) -> None:
    author, fan = await api.sign_up(), await api.sign_up()
    await add_edges(api, [("follow", db_id(fan.id), db_id(author.id))])
    gone = await create_story(api, author, "PUBLIC")
    kept = await create_story(api, author, "PUBLIC")
    highlight = await create_highlight(api, author, [kept])
    for story in (gone, kept):
        await api.gql(REPLY, {"id": story, "c": f"before-{story}"}, fan.token)
    api.clock.advance(TTL - 1)
    for user in (author, fan):
        assert {
            s["id"] for s in (await api.gql(PROFILE, {"u": author.username}, user.token))["user"]["stories"]
        } == {
            gone,
            kept,
        }

    api.clock.advance(2)
    for user in (author, fan):
        assert (await api.gql(STORY, {"id": gone}, user.token))["node"] is None
        node = (await api.gql(STORY, {"id": kept}, user.token))["node"]
        assert node == {"id": kept, "viewCount": None, "viewers": None}
        profile = (await api.gql(PROFILE, {"u": author.username}, user.token))["user"]
        assert profile == {
            "hasActiveStories": False,
            "stories": [],
            "highlights": [{"id": highlight, "stories": [{"id": kept}]}],
        }
        assert (await api.gql(TRAY, token=user.token))["storiesTray"]["edges"] == []
        assert (await api.gql(ARCHIVE, token=user.token))["storyArchive"]["edges"] == []
        for story in (gone, kept):
            for query in (REACT, SEEN):
                assert (await api.gql_error(query, {"id": story}, user.token)).codes == ["NOT_FOUND"]
    for story in (gone, kept):
        late = await api.gql_error(REPLY, {"id": story, "c": f"after-{story}"}, fan.token)
        assert late.codes == ["NOT_FOUND"]
    delete = "mutation($id: ID!) { deleteStory(id: $id) }"
    assert (await api.gql_error(delete, {"id": gone}, author.token)).codes == ["NOT_FOUND"]

    # The author follows no fan back: the reply waits among the author's message requests.
    conversations = "{ conversations(folder: REQUESTS) { edges { node { id } } } }"
    (edge,) = (await api.gql(conversations, token=author.token))["conversations"]["edges"]
    messages = (await api.gql(MESSAGES, {"id": edge["node"]["id"]}, author.token))["node"]["messages"]
    assert [e["node"]["replyToStory"] for e in messages["edges"]] == [None, None]  # highlighted or not


async def test_a_highlight_shows_each_story_to_whom_its_audience_admits_now(api: Api) -> None:
    author, friend = await api.sign_up(), await api.sign_up()
    await api.gql("mutation($id: ID!) { follow(userId: $id) { id } }", {"id": author.id}, friend.token)
    set_close = "mutation($id: ID!, $on: Boolean!) { setCloseFriend(userId: $id, isCloseFriend: $on) { id } }"
    await api.gql(set_close, {"id": friend.id, "on": True}, author.token)
    for_followers = await create_story(api, author, "FOLLOWERS")
    for_close = await create_story(api, author, "CLOSE_FRIENDS")
    highlight = await create_highlight(api, author, [for_followers, for_close])
    api.clock.advance(TTL + 1)

    async def shown() -> set[str]:
        profile = (await api.gql(PROFILE, {"u": author.username}, friend.token))["user"]
        listed = {s["id"] for h in (profile["highlights"] if profile else []) for s in h["stories"]}
        by_node = {
            s for s in (for_followers, for_close) if (await api.gql(STORY, {"id": s}, friend.token))["node"]
        }
        assert listed == by_node
        return listed

    assert await shown() == {for_followers, for_close}
    await api.gql(set_close, {"id": friend.id, "on": False}, author.token)
    assert await shown() == {for_followers}
    await api.gql("mutation($id: ID!) { unfollow(userId: $id) { id } }", {"id": author.id}, friend.token)
    assert await shown() == set()
    assert (await api.gql(HIGHLIGHT, {"id": highlight}, friend.token))["node"] is None
    await api.gql(set_close, {"id": friend.id, "on": True}, author.token)
    assert await shown() == {for_close}
    hide = "mutation($id: ID!, $on: Boolean!) { setStoriesHidden(userId: $id, hidden: $on) { id } }"
    await api.gql(hide, {"id": friend.id, "on": True}, author.token)
    assert await shown() == set()
    await api.gql(hide, {"id": friend.id, "on": False}, author.token)
    assert await shown() == {for_close}
    await api.gql("mutation($id: ID!) { block(userId: $id) { id } }", {"id": author.id}, friend.token)
    assert await shown() == set()
