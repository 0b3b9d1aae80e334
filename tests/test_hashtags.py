"""#hashtags: parsed on write, `Post.hashtags`, and `hashtag(name)` pages under the one visibility rule."""

from __future__ import annotations

from typing import Any

from core.ids import to_global_id
from resolvers.discovery.caption_text import hashtags_in, usernames_in
from tests.engagement import APPROVE, BLOCK, DELETE_POST, FOLLOW, GO_PRIVATE, UNBLOCK
from tests.harness import Api, TestUser
from tests.posting import CREATE_POST, create_post, ready_media

HASHTAG = """
query($name: String!, $first: Int, $after: String) {
  hashtag(name: $name) {
    id name
    posts(first: $first, after: $after) {
      edges {
        cursor
        node { id caption hashtags viewerHasLiked viewerHasSaved author { username } mentions { username } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
EDIT = "mutation($id: ID!, $caption: String!) { editPost(id: $id, caption: $caption) { id hashtags } }"


async def tagged(api: Api, viewer: TestUser, name: str, first: int = 100) -> list[str] | None:
    """Captions of the tag's posts as the viewer sees them, newest first; None when it is null."""
    found: Any = (await api.gql(HASHTAG, {"name": name, "first": first}, token=viewer.token))["hashtag"]
    if found is None:
        return None
    return [edge["node"]["caption"] for edge in found["posts"]["edges"]]


def test_parsing_follows_letters_and_digits_case_folded_in_order_of_first_use() -> None:
    text = "Morning #Coffee and #café #2024 #coffee #latte_art page#2 &#39; ##double #Straße"
    assert hashtags_in(text) == ["coffee", "café", "2024", "latte", "strasse"]  # not "##double"
    assert usernames_in("@Bob, @carol. me@x.com @ab @bob (@dave_1)") == ["bob", "carol", "dave_1"]


async def test_a_tag_page_shows_what_the_viewer_may_see_newest_first(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    public, private, followed_private, blocker, blocked = [
        await api.sign_up(name) for name in ("public", "private", "followedpriv", "blocker", "blocked")
    ]
    for user in (private, followed_private):
        await api.gql(GO_PRIVATE, token=user.token)
    await api.gql(FOLLOW, {"id": followed_private.id}, token=viewer.token)
    await api.gql(APPROVE, {"id": viewer.id}, token=followed_private.token)
    await api.gql(BLOCK, {"id": viewer.id}, token=blocker.token)
    await api.gql(BLOCK, {"id": blocked.id}, token=viewer.token)

    await create_post(api, public, "old #Sun")
    for user in (private, followed_private, blocker, blocked):
        await create_post(api, user, f"{user.username} #sun")
    deleted = await create_post(api, public, "deleted #sun")
    loses = await create_post(api, public, "loses #sun")
    gains = await create_post(api, public, "gains nothing yet")
    await create_post(api, viewer, "mine #SUN")
    await api.gql(DELETE_POST, {"id": deleted}, token=public.token)
    await api.gql(EDIT, {"id": loses, "caption": "loses #moon"}, token=public.token)
    edited = await api.gql(EDIT, {"id": gains, "caption": "gains #sun #moon"}, token=public.token)
    assert edited["editPost"]["hashtags"] == ["sun", "moon"]

    # An edited post keeps its place (its id); private, blocked and deleted posts are not shown.
    assert await tagged(api, viewer, "#SUN") == [
        "mine #SUN",
        "gains #sun #moon",
        "followedpriv #sun",
        "old #Sun",
    ]
    assert await tagged(api, viewer, "moon") == ["gains #sun #moon", "loses #moon"]
    # Another viewer, another view: their own, and no block with the viewer's blocked pairs.
    assert await tagged(api, private, "sun") == [
        "mine #SUN", "gains #sun #moon", "blocked #sun", "blocker #sun", "private #sun", "old #Sun"
    ]  # fmt: skip
    # A block undone shows the posts again.
    await api.gql(UNBLOCK, {"id": blocked.id}, token=viewer.token)
    assert "blocked #sun" in (await tagged(api, viewer, "sun") or [])


async def test_a_tag_only_invisible_posts_carry_is_null_and_so_is_a_non_tag(api: Api) -> None:
    viewer, hidden = await api.sign_up("viewer"), await api.sign_up("hidden")
    await api.gql(GO_PRIVATE, token=hidden.token)
    await create_post(api, hidden, "#secret")
    assert await tagged(api, viewer, "secret") is None
    assert await tagged(api, hidden, "secret") == ["#secret"]
    assert await tagged(api, viewer, "nosuchtag") is None
    assert await tagged(api, viewer, "not a tag") is None
    assert await tagged(api, viewer, "#") is None


async def test_the_tag_is_a_node_for_those_who_may_see_it(api: Api) -> None:
    viewer, hidden = await api.sign_up("viewer"), await api.sign_up("hidden")
    await create_post(api, viewer, "#open")
    await api.gql(GO_PRIVATE, token=hidden.token)
    await create_post(api, hidden, "#closed")
    found = (await api.gql(HASHTAG, {"name": "open"}, token=viewer.token))["hashtag"]
    node = "query($id: ID!) { node(id: $id) { id ... on Hashtag { name } } }"
    assert (await api.gql(node, {"id": found["id"]}, token=viewer.token))["node"] == {
        "id": found["id"],
        "name": "open",
    }
    closed = (await api.gql(HASHTAG, {"name": "closed"}, token=hidden.token))["hashtag"]["id"]
    assert (await api.gql(node, {"id": closed}, token=viewer.token))["node"] is None
    assert (await api.gql(node, {"id": to_global_id("Hashtag", 1)}, token=viewer.token))["node"] is None


async def test_pages_walk_every_post_once(api: Api) -> None:
    author = await api.sign_up()
    for n in range(5):
        await create_post(api, author, f"n{n} #walk")
    seen, after = [], None
    while True:
        data = await api.gql(HASHTAG, {"name": "walk", "first": 2, "after": after}, token=author.token)
        page = data["hashtag"]["posts"]
        seen += [edge["node"]["caption"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"n{n} #walk" for n in reversed(range(5))]


async def test_too_many_tags_are_refused_and_nothing_is_written(api: Api) -> None:
    author = await api.sign_up()
    media = await ready_media(api, author)
    caption = " ".join(f"#t{n}" for n in range(31))
    errors = await api.gql_error(
        CREATE_POST, {"input": {"caption": caption, "mediaIds": media}}, token=author.token
    )
    assert errors.codes == ["BAD_USER_INPUT"]
    assert await tagged(api, author, "t1") is None


async def test_a_page_costs_the_same_statements_at_any_size(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    authors = [await api.sign_up() for _ in range(4)]
    mentioned = [await api.sign_up() for _ in range(4)]
    for n in range(12):
        await create_post(api, authors[n % 4], f"#many {n} @{mentioned[n % 4].username}")
    await tagged(api, viewer, "many", 1)  # the token is checked once, then cached
    counts = []
    for first in (2, 10):
        with api.count_statements() as statements:
            captions = await tagged(api, viewer, "many", first)
        assert captions is not None and len(captions) == first and all("@" in c for c in captions)
        counts.append(len(statements))
    # tag, page, authors and their relationships, likes, saves, mentions, mentioned users and theirs
    assert counts[0] == counts[1] <= 9, counts
