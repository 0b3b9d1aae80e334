"""Every tray entry has a stable id: a normalized cache (Apollo, Relay, urql's graphcache) keeps one
record per entry, updates `hasUnseen` after markStoriesSeen, and `node(id:)` refetches it."""

from __future__ import annotations

from tests.harness import Api
from tests.story_helpers import add_edges, create_story, db_id

TRAY = (
    "{ storiesTray(first: 10) { edges { node { id hasUnseen owner { id } stories { id viewerHasSeen } } } } }"
)
NODE = "query($id: ID!) { node(id: $id) { id ... on StoryTrayItem { hasUnseen owner { username } } } }"
SEEN = "mutation($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id viewerHasSeen } }"


async def test_tray_entries_have_ids_that_node_refetches(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await add_edges(
        api, [("follow", db_id(bob.id), db_id(alice.id)), ("follow", db_id(bob.id), db_id(carol.id))]
    )
    story = await create_story(api, alice)
    await create_story(api, carol)
    entries = [edge["node"] for edge in (await api.gql(TRAY, token=bob.token))["storiesTray"]["edges"]]
    ids = [entry["id"] for entry in entries]
    assert len(set(ids)) == 2 and all(entries)
    alices = next(entry for entry in entries if entry["owner"]["id"] == alice.id)
    assert alices["hasUnseen"] is True
    await api.gql(SEEN, {"ids": [story]}, bob.token)
    refetched = (await api.gql(NODE, {"id": alices["id"]}, bob.token))["node"]
    assert refetched == {"id": alices["id"], "hasUnseen": False, "owner": {"username": alice.username}}
    again = [edge["node"]["id"] for edge in (await api.gql(TRAY, token=bob.token))["storiesTray"]["edges"]]
    assert sorted(again) == sorted(ids)  # the same records, not new ones


async def test_a_tray_entry_is_nobody_elses(api: Api) -> None:
    alice, mallory = await api.sign_up(), await api.sign_up()
    await create_story(api, alice, audience="CLOSE_FRIENDS")
    entry_id = (await api.gql(TRAY, token=alice.token))["storiesTray"]["edges"][0]["node"]["id"]
    assert (await api.gql(NODE, {"id": entry_id}, mallory.token))["node"] is None
    assert (await api.gql(NODE, {"id": entry_id}))["node"] is None
