"""Every malformed HTTP request gets a coded JSON GraphQL answer: no 500, no text/plain, no masked
input error, no traceback in the log. One table, run in process on both backends."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.harness import Api, ServerFactory

GRAPHQL_RESPONSE = "application/graphql-response+json"
FEED = "query($f: Int){ feed(first: $f){ edges { cursor } } }"
LOG_IN = "mutation($i: LogInInput!){ logIn(input: $i){ token } }"
SIGN_UP = "mutation($i: SignUpInput!){ signUp(input: $i){ token } }"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class Case:
    name: str
    body: bytes | None = None
    status: int = 400
    code: str = "BAD_REQUEST"
    content_type: str = "application/json"
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    message: str = ""  # a part of the message the client reads


CASES = [
    Case("JSON null", b"null", message="must be a JSON object"),
    Case("a number", b"42", message="must be a JSON object"),
    Case("a string", b'"query"', message="must be a JSON object"),
    Case("a batch of non-objects", b'[1, "x", null]', message="Operation 0 of the batch"),
    Case("an empty batch", b"[]", message="empty"),
    Case("invalid UTF-8", b'{"query": "\xff\xfe{ viewer { id } }"}', message="UTF-8"),
    Case("unparseable JSON", b'{"query":', message="not valid JSON"),
    Case("an empty body", b"", message="not valid JSON"),
    Case("an integer too long to read", b'{"query": "{ viewer { id } }", "x": 1' + b"0" * 5000 + b"}"),
    Case(
        "variables nested 30,000 deep",
        b'{"query":"query($a: String){viewer{id}}","variables":{"a":' + b"[" * 30000 + b"]" * 30000 + b"}}",
        message="nested deeper",
    ),
    Case(
        "variables nested 900 deep",
        b'{"query":"query($a: [String]){viewer{id}}","variables":{"a":' + b"[" * 900 + b"]" * 900 + b"}}",
        message="nested deeper",
    ),
    Case("text/plain", _json({"query": "{ viewer { id } }"}), 415, content_type="text/plain"),
    Case("no content type", _json({"query": "{ viewer { id } }"}), 415, content_type=""),
    Case(
        "form-encoded",
        b"query=%7B%20viewer%20%7B%20id%20%7D%20%7D",
        415,
        content_type="application/x-www-form-urlencoded",
    ),
    Case("multipart", b"--x--", 415, content_type="multipart/form-data; boundary=x"),
    Case("no query", b"{}", message="No GraphQL query"),
    Case("a misspelt query key", _json({"qeury": "{ viewer { id } }"}), message="No GraphQL query"),
    Case("query is a number", _json({"query": 1}), message="`query`"),
    Case(
        "variables is a list", _json({"query": "{ viewer { id } }", "variables": [1]}), message="`variables`"
    ),
    Case("operationName is a number", _json({"query": "{ viewer { id } }", "operationName": 1})),
    Case("extensions is a string", _json({"query": "{ viewer { id } }", "extensions": "x"})),
    Case("an unknown operationName", _json({"query": "query A { viewer { id } }", "operationName": "B"})),
    Case(
        "two operations and no operationName",
        _json({"query": "query A { viewer { id } } query B { viewer { username } }"}),
        message="operationName",
    ),
    Case("eleven operations in a batch", _json([{"query": "{ viewer { id } }"}] * 11), message="at most 10"),
    Case("PUT", _json({"query": "{ viewer { id } }"}), 405, method="PUT"),
    Case("a mutation over GET", None, 405, method="GET", params={"query": "mutation { logOut }"}),
    Case("GET variables that are not JSON", None, method="GET", params={"query": FEED, "variables": "{"}),
    Case("GET variables that are a list", None, method="GET", params={"query": FEED, "variables": "[1]"}),
    # Input errors are the client's: BAD_USER_INPUT, never a masked INTERNAL_SERVER_ERROR.
    Case("a string for an Int", _json({"query": FEED, "variables": {"f": "10"}}), code="BAD_USER_INPUT"),
    Case("an object for an Int", _json({"query": FEED, "variables": {"f": {"a": 1}}}), code="BAD_USER_INPUT"),
    Case(
        "a missing required variable",
        _json({"query": FEED.replace("Int)", "Int!)"), "variables": {}}),
        code="BAD_USER_INPUT",
        message="'$f'",
    ),
    Case(
        "a lone surrogate in logIn",
        b'{"query":"'
        + LOG_IN.encode()
        + b'","variables":{"i":{"username":"ab\\ud800c","password":"x\\ud800xxxxxxxx"}}}',
        code="BAD_USER_INPUT",
        message="surrogates",
    ),
    Case(
        "a lone surrogate in signUp",
        b'{"query":"' + SIGN_UP.encode() + b'","variables":{"i":{"username":"abc","password":"long enough",'
        b'"displayName":"\\udfff"}}}',
        code="BAD_USER_INPUT",
        message="surrogates",
    ),
    Case(
        "a NUL in a literal",
        _json({"query": '{ user(username: "a\\u0000b") { id } }'}),
        code="BAD_USER_INPUT",
    ),
    Case(
        "an escaped lone surrogate literal",
        _json({"query": '{ user(username: "\\ud800") { id } }'}),
        code="BAD_USER_INPUT",
    ),
]


def _check(case: Case, response: Any) -> list[str]:
    problems = []
    if response.status_code != case.status:
        problems.append(f"status {response.status_code}, expected {case.status}")
    if not response.headers.get("content-type", "").startswith(GRAPHQL_RESPONSE):
        problems.append(f"content type {response.headers.get('content-type')}")
    try:
        body = response.json()
    except ValueError:
        return [*problems, f"not JSON: {response.text[:200]}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return [*problems, f"no errors: {body}"]
    if "data" in body:
        problems.append("a request error has a data entry")
    codes = [error.get("extensions", {}).get("code") for error in errors]
    if codes != [case.code]:
        problems.append(f"codes {codes}, expected {case.code}")
    if case.message not in errors[0]["message"]:
        problems.append(f"message {errors[0]['message']!r} lacks {case.message!r}")
    return problems


async def _send(api: Api, case: Case) -> Any:
    headers = {"accept": f"{GRAPHQL_RESPONSE}, application/json"}
    if case.content_type:
        headers["content-type"] = case.content_type
    return await api.http.request(
        case.method, "/graphql", content=case.body, params=case.params, headers=headers
    )


async def test_every_malformed_request_gets_a_coded_json_error(
    asgi: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    failures = {}
    with caplog.at_level(logging.WARNING):
        async with asgi() as api:
            for case in CASES:
                problems = _check(case, await _send(api, case))
                if problems:
                    failures[case.name] = problems
            healthy = await api.gql("{ viewer { id } }")
    assert failures == {}
    assert healthy == {"viewer": None}
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []


async def test_legacy_json_clients_get_the_same_codes(asgi: ServerFactory) -> None:
    async with asgi() as api:
        unreadable = await api.http.post(
            "/graphql", content=b"null", headers={"content-type": "application/json"}
        )
        coercion = await api.http.post("/graphql", json={"query": FEED, "variables": {"f": "10"}})
    assert unreadable.status_code == 400
    assert unreadable.headers["content-type"].startswith("application/json")
    assert unreadable.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # The spec keeps 200 for legacy clients on variable coercion failures; the code says what happened.
    assert coercion.status_code == 200
    assert coercion.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_batch_reports_each_operation_on_its_own(asgi: ServerFactory) -> None:
    batch = [
        {"query": "{ viewer { id } }"},
        {"query": "query A { viewer { id } }", "operationName": "B"},
        {"query": "{ nope }"},
    ]
    async with asgi() as api:
        response = await api.http.post("/graphql", json=batch)
    first, second, third = response.json()
    assert response.status_code == 200
    assert first == {"data": {"viewer": None}, "extensions": first["extensions"]}
    assert second["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert third["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_get_with_empty_variables_and_extensions_runs(asgi: ServerFactory) -> None:
    async with asgi() as api:
        response = await api.http.get(
            "/graphql", params={"query": "{ viewer { id } }", "variables": "", "extensions": ""}
        )
    assert response.status_code == 200 and response.json()["data"] == {"viewer": None}
