"""Posts over GraphQL: creating, liking, deleting, and who may see them."""

from __future__ import annotations

from tests.harness import Api
from tests.posting import CREATE_POST, create_post, ready_media

POST_NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on Post { id caption likeCount viewerHasLiked createdAt author { username } media { id } }
  }
}
"""
LIKE = "mutation($id: ID!) { likePost(id: $id) { id likeCount viewerHasLiked } }"
UNLIKE = "mutation($id: ID!) { unlikePost(id: $id) { id likeCount viewerHasLiked } }"
DELETE = "mutation($id: ID!) { deletePost(id: $id) }"
PROFILE = """
query($name: String!, $first: Int, $after: String) {
  user(username: $name) {
    postCount
    posts(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
  }
}
"""
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
APPROVE = "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
GO_PRIVATE = "mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }"


async def test_a_post_keeps_its_media_in_order_and_its_caption(api: Api) -> None:
    alice = await api.sign_up()
    media = await ready_media(api, alice, 3)
    media.reverse()
    post_input = {"caption": " Sunset 🌅 ", "mediaIds": media}
    created = (await api.gql(CREATE_POST, {"input": post_input}, token=alice.token))["createPost"]
    assert created["caption"] == "Sunset 🌅"
    assert [m["id"] for m in created["media"]] == media
    assert created["author"]["username"] == alice.username
    assert (created["likeCount"], created["viewerHasLiked"]) == (0, False)

    node = (await api.gql(POST_NODE, {"id": created["id"]}, token=alice.token))["node"]
    assert [m["id"] for m in node["media"]] == media


async def test_a_real_upload_can_be_posted(api: Api) -> None:
    alice = await api.sign_up()
    media_id = await api.upload(alice, "POST")
    created = await api.gql(CREATE_POST, {"input": {"mediaIds": [media_id]}}, token=alice.token)
    assert created["createPost"]["media"] == [{"id": media_id, "status": "READY"}]


async def test_bad_posts_are_refused_and_write_nothing(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    eleven = await ready_media(api, alice, 11)
    (avatar,) = await ready_media(api, alice, 1, purpose="AVATAR")
    (bobs,) = await ready_media(api, bob)
    cases = [
        ({"mediaIds": []}, "BAD_USER_INPUT"),
        ({"mediaIds": eleven}, "BAD_USER_INPUT"),
        ({"mediaIds": eleven[:1], "caption": "x" * 2201}, "BAD_USER_INPUT"),
        ({"mediaIds": [avatar]}, "BAD_USER_INPUT"),
        ({"mediaIds": [bobs]}, "NOT_FOUND"),
        ({"mediaIds": [eleven[0], eleven[0]]}, "BAD_USER_INPUT"),
    ]
    for post_input, code in cases:
        errors = await api.gql_error(CREATE_POST, {"input": post_input}, token=alice.token)
        assert errors.codes == [code], post_input
    assert (await api.gql(PROFILE, {"name": alice.username}, token=alice.token))["user"]["postCount"] == 0

    await api.gql(CREATE_POST, {"input": {"mediaIds": eleven[:1], "caption": "x" * 2200}}, token=alice.token)
    errors = await api.gql_error(CREATE_POST, {"input": {"mediaIds": eleven[:1]}}, token=alice.token)
    assert errors.codes == ["BAD_USER_INPUT"]  # one media, one post
    assert (await api.gql_error(CREATE_POST, {"input": {"mediaIds": eleven[1:2]}})).codes == [
        "UNAUTHENTICATED"
    ]


async def test_likes_are_idempotent_and_counted(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    assert (await api.gql(LIKE, {"id": post}, token=bob.token))["likePost"]["likeCount"] == 1
    again = (await api.gql(LIKE, {"id": post}, token=bob.token))["likePost"]
    assert again == {"id": post, "likeCount": 1, "viewerHasLiked": True}
    await api.gql(LIKE, {"id": post}, token=carol.token)

    node = (await api.gql(POST_NODE, {"id": post}, token=alice.token))["node"]
    assert (node["likeCount"], node["viewerHasLiked"]) == (2, False)
    assert (await api.gql(UNLIKE, {"id": post}, token=bob.token))["unlikePost"]["likeCount"] == 1
    unliked = (await api.gql(UNLIKE, {"id": post}, token=bob.token))["unlikePost"]
    assert unliked == {"id": post, "likeCount": 1, "viewerHasLiked": False}


async def test_only_the_author_deletes_and_the_post_is_gone_everywhere(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    await api.gql(LIKE, {"id": post}, token=bob.token)
    assert (await api.gql_error(DELETE, {"id": post}, token=bob.token)).codes == ["FORBIDDEN"]

    assert (await api.gql(DELETE, {"id": post}, token=alice.token))["deletePost"] == post

    assert (await api.gql(POST_NODE, {"id": post}, token=alice.token))["node"] is None
    assert (await api.gql_error(LIKE, {"id": post}, token=bob.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(DELETE, {"id": post}, token=alice.token)).codes == ["NOT_FOUND"]
    assert (await api.gql(PROFILE, {"name": alice.username}, token=bob.token))["user"]["postCount"] == 0


async def test_private_posts_need_an_accepted_follow(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=alice.token)
    post = await create_post(api, alice)

    assert (await api.gql(POST_NODE, {"id": post}, token=bob.token))["node"] is None
    assert (await api.gql_error(LIKE, {"id": post}, token=bob.token)).codes == ["NOT_FOUND"]
    hidden = (await api.gql(PROFILE, {"name": alice.username}, token=bob.token))["user"]
    assert hidden["postCount"] == 1 and hidden["posts"]["edges"] == []

    await api.gql(FOLLOW, {"id": alice.id}, token=bob.token)
    assert (await api.gql(POST_NODE, {"id": post}, token=bob.token))["node"] is None  # only requested
    await api.gql(APPROVE, {"id": bob.id}, token=alice.token)
    assert (await api.gql(POST_NODE, {"id": post}, token=bob.token))["node"]["id"] == post
    shown = (await api.gql(PROFILE, {"name": alice.username}, token=bob.token))["user"]
    assert [e["node"]["id"] for e in shown["posts"]["edges"]] == [post]


async def test_a_block_hides_posts_both_ways(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    alices, bobs = await create_post(api, alice), await create_post(api, bob)
    await api.gql(BLOCK, {"id": bob.id}, token=alice.token)

    assert (await api.gql(POST_NODE, {"id": alices}, token=bob.token))["node"] is None
    assert (await api.gql(POST_NODE, {"id": bobs}, token=alice.token))["node"] is None
    assert (await api.gql_error(LIKE, {"id": bobs}, token=alice.token)).codes == ["NOT_FOUND"]
    blocked = (await api.gql(PROFILE, {"name": bob.username}, token=alice.token))["user"]
    assert blocked["posts"]["edges"] == []


async def test_profile_posts_page_newest_first_with_stable_cursors(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    posts = [await create_post(api, alice, f"#{n}") for n in range(5)]
    first = (await api.gql(PROFILE, {"name": alice.username, "first": 2}, token=bob.token))["user"]["posts"]
    assert [e["node"]["id"] for e in first["edges"]] == posts[:2:-1][:2] == [posts[4], posts[3]]
    await create_post(api, alice, "newer")
    after = first["pageInfo"]["endCursor"]
    rest = await api.gql(PROFILE, {"name": alice.username, "first": 10, "after": after}, token=bob.token)
    assert [e["node"]["id"] for e in rest["user"]["posts"]["edges"]] == [posts[2], posts[1], posts[0]]
    assert rest["user"]["posts"]["pageInfo"]["hasNextPage"] is False
    errors = await api.gql_error(PROFILE, {"name": alice.username, "first": 101}, token=bob.token)
    assert errors.codes == ["BAD_USER_INPUT"]
