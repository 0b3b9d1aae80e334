"""Saved posts: savePost, viewerHasSaved and savedPosts, which follow the post's visibility."""

from __future__ import annotations

from sqlalchemy import func, select

from models import PostMention, SavedPost
from tests.engagement import APPROVE, BLOCK, DELETE_POST, FOLLOW, GO_PRIVATE, UNBLOCK, UNFOLLOW
from tests.harness import Api, TestUser
from tests.posting import create_post

SAVE = "mutation($id: ID!, $saved: Boolean!) { savePost(id: $id, saved: $saved) { id viewerHasSaved } }"
SAVED = """
query($first: Int, $after: String) {
  savedPosts(first: $first, after: $after) {
    edges { cursor node { id caption viewerHasSaved viewerHasLiked author { username } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def saved(api: Api, viewer: TestUser, first: int = 100) -> list[str]:
    data = await api.gql(SAVED, {"first": first}, token=viewer.token)
    edges = data["savedPosts"]["edges"]
    assert all(edge["node"]["viewerHasSaved"] for edge in edges)
    return [edge["node"]["caption"] for edge in edges]


async def save(api: Api, viewer: TestUser, post: str, on: bool = True) -> bool:
    result: bool = (await api.gql(SAVE, {"id": post, "saved": on}, token=viewer.token))["savePost"][
        "viewerHasSaved"
    ]
    return result


async def test_most_recently_saved_first_idempotent_both_ways(api: Api) -> None:
    author, viewer = await api.sign_up(), await api.sign_up()
    one, two, three = [await create_post(api, author, caption) for caption in ("one", "two", "three")]
    assert await save(api, viewer, two) and await save(api, viewer, one) and await save(api, viewer, three)
    assert await save(api, viewer, one)  # again: keeps its place
    assert await saved(api, viewer) == ["three", "one", "two"]
    assert not await save(api, viewer, one, False) and not await save(api, viewer, one, False)
    assert await saved(api, viewer) == ["three", "two"]
    assert await save(api, viewer, one)  # saved anew: on top
    assert await saved(api, viewer) == ["one", "three", "two"]
    assert await saved(api, author) == []  # only the viewer's own

    walked, after = [], None
    while True:
        page = (await api.gql(SAVED, {"first": 2, "after": after}, token=viewer.token))["savedPosts"]
        walked += [edge["node"]["caption"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == ["one", "three", "two"]


async def test_a_saved_post_leaves_the_list_while_invisible_and_comes_back(api: Api) -> None:
    author, viewer, other = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=author.token)
    await api.gql(FOLLOW, {"id": author.id}, token=viewer.token)
    await api.gql(APPROVE, {"id": viewer.id}, token=author.token)
    post = await create_post(api, author, "private")
    public = await create_post(api, other, "public")
    await save(api, viewer, post)
    await save(api, viewer, public)
    assert await saved(api, viewer) == ["public", "private"]

    await api.gql(UNFOLLOW, {"id": author.id}, token=viewer.token)
    assert await saved(api, viewer) == ["public"]
    errors = await api.gql_error(SAVE, {"id": post, "saved": False}, token=viewer.token)
    assert errors.codes == ["NOT_FOUND"]
    await api.gql(FOLLOW, {"id": author.id}, token=viewer.token)
    await api.gql(APPROVE, {"id": viewer.id}, token=author.token)
    assert await saved(api, viewer) == ["public", "private"]

    await api.gql(BLOCK, {"id": viewer.id}, token=other.token)
    assert await saved(api, viewer) == ["private"]
    await api.gql(UNBLOCK, {"id": viewer.id}, token=other.token)
    assert await saved(api, viewer) == ["public", "private"]

    await api.gql(DELETE_POST, {"id": public}, token=other.token)
    assert await saved(api, viewer) == ["private"]


async def test_a_post_the_viewer_may_not_see_cannot_be_saved(api: Api) -> None:
    author, viewer = await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=author.token)
    post = await create_post(api, author, "hidden")
    errors = await api.gql_error(SAVE, {"id": post, "saved": True}, token=viewer.token)
    assert errors.codes == ["NOT_FOUND"]
    assert await saved(api, viewer) == []


async def test_a_page_costs_the_same_statements_at_any_size(api: Api) -> None:
    viewer = await api.sign_up()
    authors = [await api.sign_up() for _ in range(3)]
    for n in range(9):
        await save(api, viewer, await create_post(api, authors[n % 3], f"p{n}"))
    counts = []
    for first in (2, 8):
        with api.count_statements() as statements:
            assert len(await saved(api, viewer, first)) == first
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5, counts  # page, authors, relationships, likes


async def test_a_deleted_account_leaves_search_mentions_and_its_saves_behind(api: Api) -> None:
    author, gone = await api.sign_up("author"), await api.sign_up("gone.soon")
    post = await create_post(api, author, "hello @gone.soon")
    await save(api, gone, post)
    mentions = "query($id: ID!) { node(id: $id) { ... on Post { mentions { username } } } }"
    search = 'query { searchUsers(query: "gone") { edges { node { username } } } }'
    assert (await api.gql(mentions, {"id": post}, token=author.token))["node"]["mentions"] == [
        {"username": "gone.soon"}
    ]
    assert len((await api.gql(search, token=author.token))["searchUsers"]["edges"]) == 1

    delete = "mutation($p: String!) { deleteAccount(currentPassword: $p) }"
    await api.gql(delete, {"p": gone.password}, token=gone.token)
    assert (await api.gql(mentions, {"id": post}, token=author.token))["node"]["mentions"] == []
    assert (await api.gql(search, token=author.token))["searchUsers"]["edges"] == []
    assert (await api.gql('query { searchUsers(query: "~") { edges { node { id } } } }', token=author.token))[
        "searchUsers"
    ]["edges"] == []
    async with api.services.db.read() as session:
        left = await session.scalar(select(func.count()).select_from(SavedPost))
        mentioned = await session.scalar(select(func.count()).select_from(PostMention))
    assert (left, mentioned) == (0, 0)
