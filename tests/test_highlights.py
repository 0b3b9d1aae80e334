"""Highlights end to end: making, filling, emptying and deleting them, their limits, and their cost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.ids import to_global_id
from resolvers.stories.highlights import MAX_HIGHLIGHTS_PER_USER, MAX_STORIES_PER_HIGHLIGHT, MAX_TITLE
from tests.harness import Api, TestUser
from tests.story_helpers import (
    CREATE_HIGHLIGHT,
    CREATE_STORY,
    add_edges,
    bulk_highlight,
    bulk_stories,
    bulk_users,
    create_highlight,
    create_story,
    db_id,
    set_archive,
    story_gid,
)

# Profiles here read every highlight's stories at once: above the default query cost (each of 50
# highlights may hold 100 stories), which tests/test_limits.py covers.
pytestmark = pytest.mark.settings(max_query_cost=100_000)

TTL = 86_400
HIGHLIGHT = "id title createdAt owner { username } cover { id } stories { id }"
CREATE = f"mutation($input: CreateHighlightInput!) {{ createHighlight(input: $input) {{ {HIGHLIGHT} }} }}"
ADD = f"mutation($h: ID!, $s: [ID!]!) {{ addToHighlight(highlightId: $h, storyIds: $s) {{ {HIGHLIGHT} }} }}"
REMOVE = f"""
mutation($h: ID!, $s: [ID!]!) {{ removeFromHighlight(highlightId: $h, storyIds: $s) {{ {HIGHLIGHT} }} }}
"""
DELETE = "mutation($id: ID!) { deleteHighlight(id: $id) }"
DELETE_STORY = "mutation($id: ID!) { deleteStory(id: $id) }"
PROFILE = f"""
query($u: String!) {{
  user(username: $u) {{ hasActiveStories stories {{ id }} highlights {{ {HIGHLIGHT} }} }}
}}
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Highlight {{ {HIGHLIGHT} }} }} }}"
STORY_MEDIA = "query($id: ID!) { node(id: $id) { ... on Story { media { id } } } }"


async def story_with_media(api: Api, user: TestUser, audience: str = "FOLLOWERS") -> tuple[str, str]:
    media_id = await api.upload(user, "STORY")
    data = await api.gql(CREATE_STORY, {"input": {"mediaId": media_id, "audience": audience}}, user.token)
    return data["createStory"]["id"], media_id


async def highlights_of(api: Api, owner: TestUser, viewer: TestUser) -> list[dict[str, object]]:
    user = (await api.gql(PROFILE, {"u": owner.username}, viewer.token))["user"]
    found: list[dict[str, object]] = user["highlights"]
    return found


async def test_a_highlight_keeps_its_stories_on_the_profile_past_expiry(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await add_edges(api, [("follow", db_id(bob.id), db_id(alice.id))])
    first, _ = await story_with_media(api, alice)
    second, second_media = await story_with_media(api, alice, "PUBLIC")
    variables = {"input": {"title": " Lisbon ", "storyIds": [second, first], "coverMediaId": second_media}}
    created = (await api.gql(CREATE, variables, alice.token))["createHighlight"]
    assert created["title"] == "Lisbon" and created["owner"] == {"username": alice.username}
    assert created["stories"] == [{"id": first}, {"id": second}]  # oldest first, whatever the order given
    assert created["cover"] == {"id": second_media}

    api.clock.advance(TTL + 1)
    profile = (await api.gql(PROFILE, {"u": alice.username}, bob.token))["user"]
    assert profile["hasActiveStories"] is False and profile["stories"] == []
    assert profile["highlights"] == [created]
    assert (await api.gql(NODE, {"id": created["id"]}, bob.token))["node"] == created

    later = await create_highlight(api, alice, [first], "Later")
    assert [h["id"] for h in await highlights_of(api, alice, bob)] == [later, created["id"]]  # newest first


async def test_only_ones_own_stories_active_or_kept_can_be_highlighted(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    bobs = await create_story(api, bob, "PUBLIC")  # alice may see it, and still may not highlight it
    gone = await create_story(api, alice)
    api.clock.advance(TTL + 1)  # `gone` expired, in nobody's highlight, with the archive off
    live = await create_story(api, alice)
    for ids in ([bobs], [live, bobs], [gone], [live, gone], ["bm90LWFuLWlk"], [alice.id]):
        errors = await api.gql_error(
            CREATE_HIGHLIGHT, {"input": {"title": "Mine", "storyIds": ids}}, alice.token
        )
        assert errors.codes == ["NOT_FOUND"], ids
    assert await highlights_of(api, alice, alice) == []  # nothing half-written

    await set_archive(api, alice, True)  # `gone` is not swept yet: archived now, it may go in
    highlight = await create_highlight(api, alice, [live, gone], "Today")
    await set_archive(api, alice, False)
    api.clock.advance(TTL + 1)  # `live` expires too; both stay kept by their highlight
    again = await api.gql(CREATE, {"input": {"title": "Again", "storyIds": [live]}}, alice.token)
    assert again["createHighlight"]["stories"] == [{"id": live}]
    assert (await api.gql_error(ADD, {"h": highlight, "s": [bobs]}, alice.token)).codes == ["NOT_FOUND"]


async def test_inputs_are_checked_with_codes_and_nothing_is_half_written(api: Api) -> None:
    alice = await api.sign_up()
    story, _ = await story_with_media(api, alice)
    others_media = await api.upload(alice, "STORY")
    cases = [
        ({"title": "", "storyIds": [story]}, "title"),
        ({"title": " \u200b ", "storyIds": [story]}, "title"),
        ({"title": "x" * (MAX_TITLE + 1), "storyIds": [story]}, "title"),
        ({"title": "\u202eevil", "storyIds": [story]}, "title"),
        ({"title": "Fine", "storyIds": []}, "storyIds"),
        ({"title": "Fine", "storyIds": [story] * (MAX_STORIES_PER_HIGHLIGHT + 1)}, "storyIds"),
        ({"title": "Fine", "storyIds": [story], "coverMediaId": others_media}, "coverMediaId"),
    ]
    for given, field in cases:
        errors = await api.gql_error(CREATE, {"input": given}, alice.token)
        assert errors.codes == ["BAD_USER_INPUT"], given
        assert errors.errors[0]["extensions"]["field"] == field
    anonymous = await api.gql_error(CREATE, {"input": {"title": "Fine", "storyIds": [story]}})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert await highlights_of(api, alice, alice) == []
    ok = await api.gql(CREATE, {"input": {"title": "x" * MAX_TITLE, "storyIds": [story, story]}}, alice.token)
    assert ok["createHighlight"]["stories"] == [{"id": story}]


async def test_a_user_has_a_bounded_number_of_highlights_each_of_bounded_size(api: Api) -> None:
    alice = await api.sign_up()
    alice_id = db_id(alice.id)
    stories = [story_gid(s) for s in await bulk_stories(api, [alice_id] * (MAX_STORIES_PER_HIGHLIGHT + 1))]
    full = await create_highlight(api, alice, stories[:MAX_STORIES_PER_HIGHLIGHT], "Full")
    too_many = await api.gql_error(ADD, {"h": full, "s": [stories[-1]]}, alice.token)
    assert too_many.codes == ["BAD_USER_INPUT"]
    again = await api.gql(ADD, {"h": full, "s": stories[:2]}, alice.token)  # already there: no change
    assert len(again["addToHighlight"]["stories"]) == MAX_STORIES_PER_HIGHLIGHT

    for _ in range(MAX_HIGHLIGHTS_PER_USER - 1):
        await bulk_highlight(api, alice_id, [db_id(stories[-1])])
    one_more = {"input": {"title": "One more", "storyIds": [stories[-1]]}}
    assert (await api.gql_error(CREATE, one_more, alice.token)).codes == ["BAD_USER_INPUT"]
    await api.gql(DELETE, {"id": full}, alice.token)
    assert (await api.gql(CREATE, one_more, alice.token))["createHighlight"]["title"] == "One more"


async def test_adding_and_removing_are_idempotent_and_a_highlight_keeps_one_story(api: Api) -> None:
    alice = await api.sign_up()
    (one, _), (two, two_media), (three, _) = [await story_with_media(api, alice) for _ in range(3)]
    variables = {"input": {"title": "Three", "storyIds": [one, two], "coverMediaId": two_media}}
    highlight = (await api.gql(CREATE, variables, alice.token))["createHighlight"]["id"]
    added = (await api.gql(ADD, {"h": highlight, "s": [three, one]}, alice.token))["addToHighlight"]
    assert added["stories"] == [{"id": one}, {"id": two}, {"id": three}]

    removed = (await api.gql(REMOVE, {"h": highlight, "s": [two]}, alice.token))["removeFromHighlight"]
    assert removed["stories"] == [{"id": one}, {"id": three}]
    one_media = (await api.gql(STORY_MEDIA, {"id": one}, alice.token))["node"]["media"]
    assert removed["cover"] == one_media  # the chosen cover left with its story: the first one covers
    unchanged = (await api.gql(REMOVE, {"h": highlight, "s": [two]}, alice.token))["removeFromHighlight"]
    assert unchanged == removed
    emptied = await api.gql_error(REMOVE, {"h": highlight, "s": [one, three]}, alice.token)
    assert emptied.codes == ["BAD_USER_INPUT"] and emptied.errors[0]["extensions"]["field"] == "storyIds"
    assert (await api.gql(NODE, {"id": highlight}, alice.token))["node"] == removed

    assert await api.gql(DELETE, {"id": highlight}, alice.token) == {"deleteHighlight": highlight}
    assert (await api.gql(NODE, {"id": highlight}, alice.token))["node"] is None
    assert (await api.gql_error(DELETE, {"id": highlight}, alice.token)).codes == ["NOT_FOUND"]


async def test_someone_elses_highlight_is_not_found(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    story = await create_story(api, alice, "PUBLIC")
    bobs_story = await create_story(api, bob, "PUBLIC")
    highlight = await create_highlight(api, alice, [story])
    attempts: list[tuple[str, dict[str, Any]]] = [
        (ADD, {"h": highlight, "s": [bobs_story]}),
        (REMOVE, {"h": highlight, "s": [story]}),
        (DELETE, {"id": highlight}),
        (ADD, {"h": to_global_id("Highlight", 1), "s": [bobs_story]}),
        (ADD, {"h": story, "s": [bobs_story]}),  # a story's id is no highlight's
    ]
    for query, variables in attempts:
        assert (await api.gql_error(query, variables, bob.token)).codes == ["NOT_FOUND"], variables
    (found,) = await highlights_of(api, alice, bob)
    assert found["stories"] == [{"id": story}]


async def test_deleting_a_story_takes_it_out_of_every_highlight(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await add_edges(api, [("follow", db_id(bob.id), db_id(alice.id))])
    shared, kept = await create_story(api, alice), await create_story(api, alice)
    both = await create_highlight(api, alice, [shared, kept], "Both")
    alone = await create_highlight(api, alice, [shared], "Alone")
    api.clock.advance(TTL + 1)

    # Past expiry the author still deletes a kept story; a viewer who sees it may not.
    assert (await api.gql_error(DELETE_STORY, {"id": shared}, bob.token)).codes == ["FORBIDDEN"]
    assert await api.gql(DELETE_STORY, {"id": shared}, alice.token) == {"deleteStory": shared}
    for viewer in (alice, bob):
        assert [(h["id"], h["stories"]) for h in await highlights_of(api, alice, viewer)] == [
            (both, [{"id": kept}])
        ]
        assert (await api.gql(NODE, {"id": alone}, viewer.token))["node"] is None
        assert (await api.gql(STORY_MEDIA, {"id": shared}, viewer.token))["node"] is None


async def test_profile_highlights_cost_the_same_statements_for_any_number(api: Api) -> None:
    viewer = await api.sign_up()
    owners = await bulk_users(api, 2, prefix="keeper")
    await add_edges(api, [("follow", db_id(viewer.id), owner) for owner in owners])
    for owner, count in zip(owners, (2, 12), strict=True):
        created_at = api.clock.now() - timedelta(seconds=TTL + 60)
        stories = await bulk_stories(api, [owner] * (3 * count), created_at=created_at)
        for index in range(count):
            await bulk_highlight(api, owner, stories[3 * index : 3 * index + 3])

    query = """
    query($u: String!) { user(username: $u) { highlights {
      id title createdAt owner { username } cover { url }
      stories { id audience expiresAt viewerHasSeen viewerReaction viewCount media { url variants { url } } }
    } } }
    """
    counts = []
    for index, count in enumerate((2, 12)):
        with api.count_statements() as statements:
            data = await api.gql(query, {"u": f"keeper{index}"}, viewer.token)
        assert len(data["user"]["highlights"]) == count
        assert all(len(h["stories"]) == 3 and h["cover"]["url"] for h in data["user"]["highlights"])
        counts.append(len(statements))
    assert counts[0] == counts[1], f"2 highlights: {counts[0]} statements, 12: {counts[1]}"
    # token, user, relationship, highlights, their stories, media (covers, then stories), views, reactions
    assert counts[1] <= 9, counts
