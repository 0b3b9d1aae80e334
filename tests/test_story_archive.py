"""The story archive: opt-in, the author's alone, newest first, and gone again when turned off."""

from __future__ import annotations

from tests.harness import Api
from tests.story_helpers import add_edges, create_story, db_id, set_archive

TTL = 86_400
SETTING = "query($u: String!) { viewer { archiveStories } user(username: $u) { archiveStories } }"
ARCHIVE = """
query($first: Int, $after: String) {
  storyArchive(first: $first, after: $after) {
    edges { cursor node { id expiresAt media { url } } } pageInfo { hasNextPage endCursor }
  }
}
"""
STORY = "query($id: ID!) { node(id: $id) { ... on Story { id } } }"
DELETE = "mutation($id: ID!) { deleteStory(id: $id) }"


async def archived_ids(api: Api, token: str, first: int = 100, after: str | None = None) -> list[str]:
    page = (await api.gql(ARCHIVE, {"first": first, "after": after}, token))["storyArchive"]
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_the_setting_is_off_by_default_and_only_its_owner_reads_it(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    assert await api.gql(SETTING, {"u": bob.username}, alice.token) == {
        "viewer": {"archiveStories": False},
        "user": {"archiveStories": None},
    }
    await set_archive(api, alice, True)
    assert (await api.gql(SETTING, {"u": alice.username}, bob.token))["user"] == {"archiveStories": None}
    assert (await api.gql(SETTING, {"u": alice.username}, alice.token))["user"] == {"archiveStories": True}
    assert (await api.gql_error(ARCHIVE, {})).codes == ["UNAUTHENTICATED"]
    assert (await api.gql_error(ARCHIVE, {"first": 0}, alice.token)).codes == ["BAD_USER_INPUT"]


async def test_the_archive_lists_the_authors_expired_stories_newest_first(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await add_edges(api, [("follow", db_id(bob.id), db_id(alice.id))])
    before = await create_story(api, alice, "PUBLIC")
    api.clock.advance(TTL + 1)
    assert await archived_ids(api, alice.token) == []  # off: what expired is gone
    assert (await api.gql(STORY, {"id": before}, alice.token))["node"] is None

    await set_archive(api, alice, True)
    older, newer, deleted = [await create_story(api, alice, "PUBLIC") for _ in range(3)]
    api.clock.advance(TTL + 1)
    live = await create_story(api, alice, "PUBLIC")
    assert await api.gql(DELETE, {"id": deleted}, alice.token) == {"deleteStory": deleted}

    # `before` expired with the archive off, but was not swept yet: turning it on keeps it.
    assert await archived_ids(api, alice.token) == [newer, older, before]
    assert live not in await archived_ids(api, alice.token)
    page = (await api.gql(ARCHIVE, {"first": 2}, alice.token))["storyArchive"]
    assert [e["node"]["id"] for e in page["edges"]] == [newer, older]
    assert page["pageInfo"]["hasNextPage"] is True and all(e["node"]["media"]["url"] for e in page["edges"])
    assert await archived_ids(api, alice.token, 2, page["pageInfo"]["endCursor"]) == [before]
    assert await archived_ids(api, bob.token) == []
    for story in (older, newer):
        assert (await api.gql(STORY, {"id": story}, alice.token))["node"] == {"id": story}
        assert (await api.gql(STORY, {"id": story}, bob.token))["node"] is None

    await set_archive(api, alice, False)
    assert await archived_ids(api, alice.token) == []
    assert (await api.gql(STORY, {"id": older}, alice.token))["node"] is None
