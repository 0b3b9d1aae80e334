"""Sessions: one per token, with when and from what it signed in and when it was last used (kept
without a database write per request), revocable one by one on every process."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models import AuthToken
from resolvers.accounts.session_activity import flush_session_activity
from tests.harness import Api, ServerFactory
from tests.test_credentials import signed_in_as

SIGN_UP = """
mutation SignUp($u: String!) { signUp(input: {username: $u, password: "correct horse battery"}) { token } }
"""
LOG_IN = """
mutation LogIn($u: String!) { logIn(input: {username: $u, password: "correct horse battery"}) { token } }
"""
SESSIONS = """
query Sessions($first: Int, $after: String) {
  sessions(first: $first, after: $after) {
    edges { cursor node { id createdAt lastUsedAt userAgent current } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REVOKE = "mutation Revoke($id: ID!) { revokeSession(id: $id) }"
VIEWER = "query Viewer { viewer { username } }"
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Session { current } } }"


async def as_device(
    api: Api, query: str, variables: dict[str, Any], agent: str, token: str | None = None
) -> Any:
    headers = {"User-Agent": agent} | ({"Authorization": f"Bearer {token}"} if token else {})
    response = await api.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def three_devices(api: Api, name: str) -> list[str]:
    first = (await as_device(api, SIGN_UP, {"u": name}, "Phone/1.0"))["signUp"]["token"]
    api.clock.advance(1)
    second = (await as_device(api, LOG_IN, {"u": name}, "Laptop/2.0"))["logIn"]["token"]
    api.clock.advance(1)
    third = (await as_device(api, LOG_IN, {"u": name}, "Tablet/3.0"))["logIn"]["token"]
    return [first, second, third]


async def test_each_token_is_a_session_with_its_user_agent(api: Api) -> None:
    tokens = await three_devices(api, "ann")
    edges = (await api.gql(SESSIONS, token=tokens[1]))["sessions"]["edges"]
    nodes = [edge["node"] for edge in edges]
    assert [n["userAgent"] for n in nodes] == ["Tablet/3.0", "Laptop/2.0", "Phone/1.0"]
    assert [n["current"] for n in nodes] == [False, True, False]
    other = await api.sign_up("bob")
    assert len((await api.gql(SESSIONS, token=other.token))["sessions"]["edges"]) == 1
    # node(id:) finds one's own sessions only.
    assert (await api.gql(NODE, {"id": nodes[1]["id"]}, token=tokens[1]))["node"]["current"] is True
    assert (await api.gql(NODE, {"id": nodes[1]["id"]}, token=other.token))["node"] is None


async def test_last_use_is_recorded_without_a_write_per_request(api: Api) -> None:
    tokens = await three_devices(api, "cat")
    api.clock.advance(300)
    with api.count_statements() as statements:
        for _ in range(5):
            await api.gql(VIEWER, token=tokens[0])
    assert not [s for s in statements if not s.lstrip().upper().startswith("SELECT")], statements
    used_at = api.clock.now()

    # This process shows it at once; the batched flush writes it for every other process.
    nodes = [e["node"] for e in (await api.gql(SESSIONS, token=tokens[2]))["sessions"]["edges"]]
    phone = next(n for n in nodes if n["userAgent"] == "Phone/1.0")
    assert phone["lastUsedAt"] == used_at.isoformat()
    assert await flush_session_activity(api.services) == 2  # the phone's use, and this listing's
    async with api.services.db.read() as session:
        stored = await session.scalars(
            select(AuthToken.last_used_at).where(AuthToken.last_used_at.is_not(None))
        )
        assert list(stored) == [used_at, used_at]
    # Used again within the minute: nothing new to write.
    await api.gql(VIEWER, token=tokens[0])
    assert await flush_session_activity(api.services) == 0
    nodes = [e["node"] for e in (await api.gql(SESSIONS, token=tokens[2]))["sessions"]["edges"]]
    assert [n["userAgent"] for n in nodes] == ["Tablet/3.0", "Phone/1.0", "Laptop/2.0"]


async def test_sessions_page_by_cursor(api: Api) -> None:
    tokens = await three_devices(api, "dan")
    seen, after = [], None
    while True:
        page = (await api.gql(SESSIONS, {"first": 1, "after": after}, token=tokens[0]))["sessions"]
        seen += [edge["node"]["userAgent"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Tablet/3.0", "Laptop/2.0", "Phone/1.0"]
    assert (await api.gql_error(SESSIONS, {"after": "bm9wZQ"}, token=tokens[0])).codes == ["BAD_USER_INPUT"]


async def test_revoke_session_signs_that_device_out(api: Api) -> None:
    tokens = await three_devices(api, "eve")
    nodes = [e["node"] for e in (await api.gql(SESSIONS, token=tokens[0]))["sessions"]["edges"]]
    laptop = next(n["id"] for n in nodes if n["userAgent"] == "Laptop/2.0")
    assert (await api.gql(REVOKE, {"id": laptop}, token=tokens[0])) == {"revokeSession": laptop}
    assert await signed_in_as(api, tokens[1]) is None
    assert await signed_in_as(api, tokens[0]) == "eve"
    remaining = [
        e["node"]["userAgent"] for e in (await api.gql(SESSIONS, token=tokens[0]))["sessions"]["edges"]
    ]
    assert remaining == ["Tablet/3.0", "Phone/1.0"]
    assert (await api.gql_error(REVOKE, {"id": laptop}, token=tokens[0])).codes == ["NOT_FOUND"]

    # Someone else's session is not found, and stays signed in.
    fay = await api.sign_up("fay")
    tablet = next(n["id"] for n in nodes if n["userAgent"] == "Tablet/3.0")
    assert (await api.gql_error(REVOKE, {"id": tablet}, token=fay.token)).codes == ["NOT_FOUND"]
    assert await signed_in_as(api, tokens[2]) == "eve"


async def test_a_revoked_session_ends_on_another_instance(
    api: Api, server: ServerFactory, app_redis_url: str | None
) -> None:
    if app_redis_url is None:
        pytest.skip("instances share revocations through Redis; the embedded default is one process")
    tokens = await three_devices(api, "gia")
    async with server() as other:
        assert await signed_in_as(other, tokens[1]) == "gia"  # now cached there
        nodes = [e["node"] for e in (await api.gql(SESSIONS, token=tokens[0]))["sessions"]["edges"]]
        laptop = next(n["id"] for n in nodes if n["userAgent"] == "Laptop/2.0")
        await api.gql(REVOKE, {"id": laptop}, token=tokens[0])
        assert await signed_in_as(other, tokens[1]) is None
        assert await signed_in_as(other, tokens[0]) == "gia"


async def test_a_page_of_sessions_costs_the_same_statements_at_any_size(api: Api) -> None:
    few = await api.sign_up("few")
    many = await api.sign_up("many")
    for _ in range(9):
        await as_device(api, LOG_IN, {"u": "many"}, "Phone/1.0")
    costs = []
    for user, size in ((few, 1), (many, 10)):
        with api.count_statements() as statements:
            edges = (await api.gql(SESSIONS, {"first": 20}, token=user.token))["sessions"]["edges"]
        assert len(edges) == size
        costs.append(len(statements))
    assert costs[0] == costs[1]
