"""N+1 guard: a page of users with every relationship field costs the same statements at any size."""

from __future__ import annotations

from sqlalchemy import insert

from core.ids import from_global_id
from models import Block, CloseFriend, Contact, Follow, FollowState, StoryHide, User
from tests.harness import Api

FOLLOWERS_IN_DEPTH = """
query Followers($username: String!, $first: Int!) {
  user(username: $username) {
    followers(first: $first) {
      edges {
        cursor
        node {
          id username displayName isPrivate
          followerCount followingCount viewerFollowStatus followsViewer
          isCloseFriend isContact isBlocked storiesHidden
          followers(first: 3) { edges { node { username viewerFollowStatus } } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
MAX_STATEMENTS = 12


async def build_graph(api: Api, viewer_id: int) -> None:
    """'small' has 20 followers and 'big' 100, each followed in turn by two of ten others outside
    both pages, and the viewer has every kind of edge to some of them. Rows are written directly
    (sign-ups hash passwords, which is slow)."""
    services = api.services
    now = services.clock.now()
    users = [
        {"id": services.ids.next_id(), "username": name, "display_name": name, "bio": "",
         "is_private": False, "password_hash": "-", "created_at": now, "last_active_at": now}
        for name in ["small", "big", *(f"fan{i}" for i in range(100)), *(f"other{i}" for i in range(10))]
    ]  # fmt: skip
    small, big, *rest = (user["id"] for user in users)
    fans, others = rest[:100], rest[100:]
    pairs = [(fan, big) for fan in fans] + [(fan, small) for fan in fans[:20]]
    pairs += [(others[i % 10], fan) for i, fan in enumerate(fans)]
    pairs += [(others[(i + 1) % 10], fan) for i, fan in enumerate(fans)]
    pairs += [(viewer_id, fan) for fan in fans[::3]] + [(fan, viewer_id) for fan in fans[::4]]
    follows = [
        {"id": services.ids.next_id(), "follower_id": follower, "followee_id": followee,
         "state": FollowState.ACCEPTED, "created_at": now}
        for follower, followee in pairs
    ]  # fmt: skip
    async with services.db.write() as session:
        await session.execute(insert(User), users)
        await session.execute(insert(Follow), follows)
        for model, step in ((CloseFriend, 5), (Contact, 6), (StoryHide, 7), (Block, 11)):
            edges = [{"user_id": viewer_id, "other_id": fan, "created_at": now} for fan in fans[::step]]
            await session.execute(insert(model), edges)


async def statements_for(api: Api, token: str, username: str, first: int) -> int:
    with api.count_statements() as statements:
        data = await api.gql(FOLLOWERS_IN_DEPTH, {"username": username, "first": first}, token=token)
    edges = data["user"]["followers"]["edges"]
    assert len(edges) == first
    for edge in edges:
        # Blocks stop content both ways: a blocked user's lists are empty for the blocker.
        nested = edge["node"]["followers"]["edges"]
        if edge["node"]["isBlocked"]:
            assert nested == [], edge
        else:
            assert len(nested) >= 2, edge
    assert any(edge["node"]["isBlocked"] for edge in edges)
    assert any(edge["node"]["viewerFollowStatus"] == "FOLLOWING" for edge in edges)
    return len(statements)


async def test_a_page_of_followers_costs_the_same_statements_at_any_size(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    parsed = from_global_id(viewer.id)
    assert parsed is not None
    await build_graph(api, parsed[1])

    small = await statements_for(api, viewer.token, "small", 20)
    big = await statements_for(api, viewer.token, "big", 100)
    assert small == big, f"20 followers: {small} statements, 100 followers: {big}"
    assert big <= MAX_STATEMENTS, f"{big} statements for a page of 100 followers"
