"""An idempotent retry (the same clientId again) passes the checks of a first call before it answers
with what the first call made: once the viewer may no longer see the post, the story or the other
user, it is refused like a first call, shows nothing, and still creates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models import Comment
from tests.engagement import APPROVE, BLOCK, FOLLOW, GO_PRIVATE, UNFOLLOW
from tests.harness import Api, TestUser
from tests.posting import ready_media
from tests.story_helpers import create_story

CREATE_POST = """
mutation($input: CreatePostInput!) { createPost(input: $input) { id media { url } } }
"""
RETRIED_COMMENT = """
mutation($post: ID!, $cid: String!) {
  addComment(postId: $post, body: "first!", clientId: $cid) {
    id
    post {
      caption
      author { username bio }
      media { url }
      comments(first: 10) { edges { node { body author { username } } } }
    }
  }
}
"""
START = "mutation($ids: [ID!]!) { startConversation(input: {memberIds: $ids}) { id } }"
SEND = """
mutation($cid: ID!) {
  sendMessage(input: {conversationId: $cid, body: "hi", clientId: "send-1"}) {
    id conversation { members { username } messages(last: 5) { edges { node { body } } } }
  }
}
"""
MESSAGE_COUNT = (
    "query($id: ID!) { node(id: $id) { ... on Conversation { messages(last: 20) { edges { cursor } } } } }"
)
REPLY = """
mutation($story: ID!) {
  replyToStory(storyId: $story, body: "wow", clientId: "reply-1") {
    id replyToStory { id media { url } author { username } }
  }
}
"""
SECRET = "a caption only followers may read"


async def _post_with_comments(api: Api, author: TestUser, other: TestUser) -> tuple[str, str]:
    """The author's post (its caption, a signed media URL) with a comment by someone else."""
    media = await ready_media(api, author)
    created = await api.gql(CREATE_POST, {"input": {"caption": SECRET, "mediaIds": media}}, author.token)
    post = created["createPost"]
    await api.gql(
        'mutation($p: ID!) { addComment(postId: $p, body: "said by a friend", clientId: "o-1") { id } }',
        {"p": post["id"]},
        other.token,
    )
    url: str = post["media"][0]["url"]
    return post["id"], url


async def _follow_private(api: Api, author: TestUser, follower: TestUser) -> None:
    await api.gql(FOLLOW, {"id": author.id}, follower.token)
    await api.gql(APPROVE, {"id": follower.id}, author.token)


@pytest.mark.parametrize(
    "revoked", ["author blocks commenter", "commenter blocks author", "commenter unfollows private author"]
)
async def test_a_retried_comment_shows_nothing_of_a_post_no_longer_visible(api: Api, revoked: str) -> None:
    author, commenter, other = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql('mutation { updateProfile(input: {bio: "author\'s bio"}) { id } }', token=author.token)
    if revoked.endswith("private author"):
        await api.gql(GO_PRIVATE, token=author.token)
        await _follow_private(api, author, commenter)
        await _follow_private(api, author, other)
    post, url = await _post_with_comments(api, author, other)
    variables = {"post": post, "cid": "retry-K"}

    first = await api.gql(RETRIED_COMMENT, variables, commenter.token)
    assert first["addComment"]["post"]["caption"] == SECRET  # seen while allowed

    if revoked == "author blocks commenter":
        await api.gql(BLOCK, {"id": commenter.id}, author.token)
    elif revoked == "commenter blocks author":
        await api.gql(BLOCK, {"id": author.id}, commenter.token)
    else:
        await api.gql(UNFOLLOW, {"id": author.id}, commenter.token)

    body = await api.post(RETRIED_COMMENT, variables, commenter.token)
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"], body
    text = str(body)
    for leaked in (SECRET, author.username, "author's bio", url.split("?")[0], "said by a friend"):
        assert leaked not in text, (leaked, body)
    async with api.services.db.read() as session:
        stored = await session.scalar(select(func.count()).where(Comment.client_id == "retry-K"))
    assert stored == 1, "the retry created a second comment"


async def test_a_retried_comment_still_answers_while_the_post_is_visible(api: Api) -> None:
    author, commenter = await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=author.token)
    await _follow_private(api, author, commenter)
    post, _ = await _post_with_comments(api, author, commenter)
    variables = {"post": post, "cid": "retry-K"}
    first = await api.gql(RETRIED_COMMENT, variables, commenter.token)
    again = await api.gql(RETRIED_COMMENT, variables, commenter.token)
    # A signed media URL is signed at each answer (its date moves with the clock): compare the
    # objects they point at.
    assert _unsigned(again) == _unsigned(first) and again["addComment"]["post"]["caption"] == SECRET


def _unsigned(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: v.split("?")[0] if k == "url" and isinstance(v, str) else _unsigned(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_unsigned(item) for item in value]
    return value


async def test_a_retried_message_after_a_block_is_refused_and_sends_nothing(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    conversation = (await api.gql(START, {"ids": [alice.id]}, bob.token))["startConversation"]["id"]
    first = await api.gql(SEND, {"cid": conversation}, bob.token)
    assert first["sendMessage"]["conversation"]["members"]
    await api.gql(BLOCK, {"id": bob.id}, alice.token)
    errors = await api.gql_error(SEND, {"cid": conversation}, bob.token)
    assert errors.codes == ["BAD_USER_INPUT"] and alice.username not in str(errors.errors)
    history = await api.gql(MESSAGE_COUNT, {"id": conversation}, alice.token)
    assert history["node"]["messages"]["edges"] == []  # the blocked sender's message is hidden from her
    mine = await api.gql(MESSAGE_COUNT, {"id": conversation}, bob.token)
    assert len(mine["node"]["messages"]["edges"]) == 1  # and the retry sent no second one


async def test_a_retried_story_reply_after_a_block_is_not_found(api: Api) -> None:
    author, fan = await api.sign_up(), await api.sign_up()
    story = await create_story(api, author, "PUBLIC")
    first = await api.gql(REPLY, {"story": story}, fan.token)
    assert first["replyToStory"]["replyToStory"]["id"] == story
    await api.gql(BLOCK, {"id": fan.id}, author.token)
    body = await api.post(REPLY, {"story": story}, fan.token)
    assert body.get("data") is None and [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert author.username not in str(body)
