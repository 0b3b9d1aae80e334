"""Query limits: depth, aliases, tokens, batch size, body size, page size and query cost."""

from __future__ import annotations

from graphql import parse

from schema import schema
from schema.extensions.query_limits import operation_cost
from tests.harness import Api

DEEP = "{ viewer { " + "followers { edges { node { " * 4 + "username" + " } } }" * 4 + " } }"
NESTED_PAGES = """
{ viewer { followers(first: 100) { edges { node {
    followers(first: 100) { edges { node { username } } } } } } } }
"""


async def test_every_response_reports_its_cost(api: Api) -> None:
    body = await api.post("{ viewer { id followers(first: 10) { edges { node { id } } } } }")
    # viewer + id + followers, then per follower: edges + node + id
    assert body["extensions"]["cost"] == {"requested": 1 + 1 + 1 + 10 * (1 + 1 + 1), "limit": 5000}


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(api: Api) -> None:
    alice = await api.sign_up()
    with api.count_statements() as statements:
        errors = await api.gql_error(NESTED_PAGES, token=alice.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    extensions = errors.errors[0]["extensions"]
    assert extensions["reason"] == "QUERY_TOO_COSTLY"
    assert extensions["cost"] > extensions["maxCost"] == 5000
    # Only the bearer token was looked up; nothing of the query ran.
    assert all("auth_tokens" in statement for statement in statements), statements


async def test_depth_aliases_and_tokens_are_capped(api: Api) -> None:
    assert (await api.gql_error(DEEP)).codes == ["BAD_USER_INPUT"]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(16)) + " }"
    assert (await api.gql_error(aliases)).codes == ["BAD_USER_INPUT"]
    tokens = "{ viewer { " + "id " * 2100 + "} }"
    assert (await api.gql_error(tokens)).codes == ["BAD_USER_INPUT"]


async def test_page_sizes_outside_1_to_100_are_bad_input(api: Api) -> None:
    alice = await api.sign_up()
    for first in (0, 101, -1):
        query = "query($n: Int) { viewer { followers(first: $n) { edges { cursor } } } }"
        errors = await api.gql_error(query, {"n": first}, alice.token)
        assert errors.codes == ["BAD_USER_INPUT"], first


async def test_request_bodies_and_batches_are_capped(api: Api) -> None:
    huge = {"query": "{ viewer { id } }", "variables": {"pad": "x" * 300_000}}
    assert (await api.http.post("/graphql", json=huge)).status_code == 413
    # Apollo's BatchHttpLink sends up to 10 operations at once by default.
    batch = [{"query": "{ viewer { id } }"}] * 10
    response = await api.http.post("/graphql", json=batch)
    assert response.status_code == 200 and len(response.json()) == 10
    refused = await api.http.post("/graphql", json=batch + batch[:1])
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "maxOperations": 10}


async def test_nul_bytes_in_input_are_bad_input(api: Api) -> None:
    errors = await api.gql_error("query($u: String!) { user(username: $u) { id } }", {"u": "al\x00ice"})
    assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.gql_error('{ user(username: "al\\u0000ice") { id } }')
    assert errors.codes == ["BAD_USER_INPUT"]


async def test_a_batch_shares_one_cost_budget(api: Api) -> None:
    query = (
        '{ user(username: "nobody") { posts(first: 100) { edges { node { id caption media { url } } } } } }'
    )
    cost = operation_cost(schema._schema, parse(query), None, {})
    fits = 10_000 // cost  # MAX_REQUEST_COST
    assert 1 < fits < 10
    response = await api.http.post("/graphql", json=[{"query": query}] * 10)
    answers = response.json()
    assert response.status_code == 200
    assert ["errors" in answer for answer in answers] == [False] * fits + [True] * (10 - fits)
    refused = answers[fits]["errors"][0]["extensions"]
    assert (refused["reason"], refused["maxRequestCost"]) == ("REQUEST_TOO_COSTLY", 10_000)
    assert refused["costLeft"] == 10_000 - fits * cost


async def test_a_too_deep_query_says_why_as_a_too_costly_one_does(api: Api) -> None:
    errors = await api.gql_error(DEEP)
    assert errors.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "reason": "QUERY_TOO_DEEP",
        "maxDepth": 10,
    }
    assert "exceeds maximum operation depth of 10" in errors.errors[0]["message"]
