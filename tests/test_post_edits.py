"""editPost: by the author only; caption, hashtags and editedAt change, the feed position does not."""

from __future__ import annotations

from tests.engagement import FOLLOW, GO_PRIVATE
from tests.harness import Api
from tests.posting import create_post, settle

EDIT = """
mutation($id: ID!, $caption: String!) {
  editPost(id: $id, caption: $caption) { id caption editedAt createdAt hashtags mentions { username } }
}
"""
POST = "query($id: ID!) { node(id: $id) { ... on Post { caption editedAt hashtags } } }"
FEED = "{ feed(first: 10) { edges { node { id caption } } } }"


async def test_the_author_edits_and_the_post_keeps_its_place(api: Api) -> None:
    author, fan = await api.sign_up("author"), await api.sign_up("fan")
    await api.gql(FOLLOW, {"id": author.id}, token=fan.token)
    older = await create_post(api, author, "first #draft")
    newer = await create_post(api, author, "second")
    await settle(api)
    assert (await api.gql(POST, {"id": older}, token=fan.token))["node"]["editedAt"] is None

    api.clock.advance(3600)
    edited = (
        await api.gql(EDIT, {"id": older, "caption": " first, fixed #Final @fan "}, token=author.token)
    )["editPost"]
    assert edited["caption"] == "first, fixed #Final @fan"
    assert edited["hashtags"] == ["final"] and edited["mentions"] == [{"username": "fan"}]
    assert edited["editedAt"] > edited["createdAt"]
    await settle(api)
    feed = [edge["node"] for edge in (await api.gql(FEED, token=fan.token))["feed"]["edges"]]
    assert [post["id"] for post in feed] == [newer, older]
    assert feed[1]["caption"] == "first, fixed #Final @fan"


async def test_only_the_author_and_only_a_valid_caption(api: Api) -> None:
    author, other, stranger = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, author, "original")
    errors = await api.gql_error(EDIT, {"id": post, "caption": "mine now"}, token=other.token)
    assert errors.codes == ["FORBIDDEN"]
    await api.gql(GO_PRIVATE, token=author.token)
    errors = await api.gql_error(EDIT, {"id": post, "caption": "mine now"}, token=stranger.token)
    assert errors.codes == ["NOT_FOUND"]  # may not see it: no hint that it exists
    for caption in ("x" * 2201, "bad \x00 byte", " ".join(f"@user{n}" for n in range(21))):
        errors = await api.gql_error(EDIT, {"id": post, "caption": caption}, token=author.token)
        assert errors.codes == ["BAD_USER_INPUT"], caption
    node = (await api.gql(POST, {"id": post}, token=author.token))["node"]
    assert node == {"caption": "original", "editedAt": None, "hashtags": []}
