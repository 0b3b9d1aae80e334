"""Documents and helpers for the comment, activity and ranked-feed tests."""

from __future__ import annotations

import itertools
from typing import Any

from tests.harness import Api, TestUser

ADD_COMMENT = """
mutation($post: ID!, $body: String!, $cid: String!) {
  addComment(postId: $post, body: $body, clientId: $cid) { id body author { username } post { id } }
}
"""
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
DISABLE = """
mutation($post: ID!, $off: Boolean!) {
  setCommentsDisabled(postId: $post, disabled: $off) { commentsDisabled }
}
"""
COMMENTS = """
query($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Post {
      commentCount commentsDisabled
      comments(first: $first, after: $after) {
        edges { cursor node { id body author { username } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }
  }
}
"""
COMMENT_NODE = (
    "query($id: ID!) { node(id: $id) { ... on Comment { id body post { id } author { username } } } }"
)
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
UNFOLLOW = "mutation($id: ID!) { unfollow(userId: $id) { viewerFollowStatus } }"
APPROVE = "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
UNBLOCK = "mutation($id: ID!) { unblock(userId: $id) { id } }"
GO_PRIVATE = "mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }"
LIKE = "mutation($id: ID!) { likePost(id: $id) { likeCount } }"
UNLIKE = "mutation($id: ID!) { unlikePost(id: $id) { likeCount } }"
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) }"
ACTIVITY = """
query($first: Int, $after: String) {
  activityUnseenCount
  activity(first: $first, after: $after) {
    edges {
      cursor
      node {
        id kind actorCount emoji seq isUnseen updatedAt
        actors { username }
        post { id } comment { id body } story { id } message { body }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MARK_SEEN = "mutation { markActivitySeen }"

_client_ids = itertools.count(1)


async def comment(api: Api, user: TestUser, post_id: str, body: str = "Nice!") -> str:
    data = await api.gql(
        ADD_COMMENT, {"post": post_id, "body": body, "cid": f"c{next(_client_ids)}"}, user.token
    )
    comment_id: str = data["addComment"]["id"]
    return comment_id


async def comments_of(api: Api, user: TestUser, post_id: str, first: int = 100) -> tuple[int, list[str]]:
    """(commentCount, bodies) of a post as `user` sees it."""
    node = (await api.gql(COMMENTS, {"id": post_id, "first": first}, user.token))["node"]
    return node["commentCount"], [edge["node"]["body"] for edge in node["comments"]["edges"]]


async def activity_of(api: Api, user: TestUser, first: int = 50) -> list[dict[str, Any]]:
    data = await api.gql(ACTIVITY, {"first": first}, user.token)
    return [edge["node"] for edge in data["activity"]["edges"]]


def summary(items: list[dict[str, Any]]) -> list[tuple[str, list[str], int]]:
    """(kind, actor usernames, actorCount) of each item, newest first."""
    return [(item["kind"], [a["username"] for a in item["actors"]], item["actorCount"]) for item in items]


REACT = "mutation($story: ID!, $emoji: String!) { reactToStory(storyId: $story, emoji: $emoji) { id } }"
REPLY = """
mutation($story: ID!, $body: String!, $cid: String!) {
  replyToStory(storyId: $story, body: $body, clientId: $cid) { id }
}
"""


async def react(api: Api, user: TestUser, story_id: str, emoji: str = "🔥") -> None:
    await api.gql(REACT, {"story": story_id, "emoji": emoji}, user.token)


async def reply(api: Api, user: TestUser, story_id: str, body: str) -> None:
    await api.gql(REPLY, {"story": story_id, "body": body, "cid": f"r{next(_client_ids)}"}, user.token)
