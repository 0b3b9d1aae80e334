"""Accounts: sign up, log in and out, tokens, profile edits, and log-in rate limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import User
from tests.harness import Api, TestUser, running_server, test_settings

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { token user { id username displayName bio isPrivate } }
}
"""
LOG_IN = """
mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { token user { id username } }
}
"""
LOG_OUT = "mutation LogOut { logOut }"
VIEWER = "query Viewer { viewer { id username } }"
UPDATE_PROFILE = """
mutation UpdateProfile($input: UpdateProfileInput!) {
  updateProfile(input: $input) { id displayName bio isPrivate }
}
"""
PROFILE = """
query Profile($username: String!) {
  user(username: $username) {
    displayName bio isPrivate followerCount viewerFollowStatus
  }
}
"""
FOLLOW = "mutation Follow($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
FOLLOW_REQUESTS = "query Requests { followRequests { edges { node { username } } } }"


async def user_count(api: Api) -> int:
    async with api.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def log_in(api: Api, username: str, password: str) -> Any:
    return await api.post(LOG_IN, {"input": {"username": username, "password": password}})


def error_code(body: Any) -> str:
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def viewer_name(api: Api, token: str) -> str | None:
    viewer = (await api.gql(VIEWER, token=token))["viewer"]
    return None if viewer is None else str(viewer["username"])


async def refusal(api: Api, authorization: str, method: str = "POST") -> tuple[int, str, str, str]:
    """How a request with this Authorization header is refused: (status, code, reason, challenge)."""
    if method == "GET":
        response = await api.http.get(
            "/graphql", params={"query": VIEWER}, headers={"Authorization": authorization}
        )
    else:
        response = await api.http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": authorization}
        )
    body = response.json()
    assert "data" not in body, (authorization, body)
    [error] = body["errors"]
    extensions = error["extensions"]
    return (
        response.status_code,
        extensions["code"],
        extensions["reason"],
        response.headers["www-authenticate"],
    )


def refused(reason: str) -> tuple[int, str, str, str]:
    return 401, "UNAUTHENTICATED", reason, 'Bearer error="invalid_token"'


async def test_sign_up_normalizes_the_username_and_defaults_the_display_name(api: Api) -> None:
    data = await api.gql(SIGN_UP, {"input": {"username": "  Alice ", "password": "long enough"}})
    user = data["signUp"]["user"]
    assert user["username"] == "alice"
    assert user["displayName"] == "alice"
    assert user["bio"] == ""
    assert user["isPrivate"] is False
    assert await viewer_name(api, data["signUp"]["token"]) == "alice"

    error = await api.gql_error(SIGN_UP, {"input": {"username": "ALICE", "password": "other password"}})
    assert error.codes == ["CONFLICT"]
    assert await user_count(api) == 1


async def test_sign_up_keeps_a_given_display_name_unless_blank(api: Api) -> None:
    data = await api.gql(
        SIGN_UP, {"input": {"username": "bob", "password": "long enough", "displayName": "Bob B."}}
    )
    assert data["signUp"]["user"]["displayName"] == "Bob B."
    data = await api.gql(
        SIGN_UP, {"input": {"username": "carol", "password": "long enough", "displayName": "   "}}
    )
    assert data["signUp"]["user"]["displayName"] == "carol"


async def test_sign_up_rejects_bad_usernames_and_short_passwords_without_writing(api: Api) -> None:
    for username in ("ab", "a" * 31, "bad name", "bad-name", "émile", "x@y", ""):
        error = await api.gql_error(SIGN_UP, {"input": {"username": username, "password": "long enough"}})
        assert error.codes == ["BAD_USER_INPUT"], username
    error = await api.gql_error(SIGN_UP, {"input": {"username": "carol", "password": "short"}})
    assert error.codes == ["BAD_USER_INPUT"]
    assert await user_count(api) == 0
    assert (await log_in(api, "carol", "short"))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_log_in_with_the_right_password_only(api: Api) -> None:
    alice = await api.sign_up("alice")
    body = await log_in(api, "ALICE", alice.password)
    assert body["data"]["logIn"]["user"] == {"id": alice.id, "username": "alice"}
    assert await viewer_name(api, body["data"]["logIn"]["token"]) == "alice"

    assert error_code(await log_in(api, "alice", "wrong password")) == "UNAUTHENTICATED"
    assert error_code(await log_in(api, "nobody", "wrong password")) == "UNAUTHENTICATED"


async def test_too_many_failed_log_ins_are_rate_limited_until_the_window_passes(api: Api) -> None:
    alice = await api.sign_up("alice")
    settings = api.services.settings
    for _ in range(settings.login_attempts_per_window):
        assert error_code(await log_in(api, "alice", "wrong password")) == "UNAUTHENTICATED"

    for password in ("wrong password", alice.password):
        body = await log_in(api, "alice", password)
        assert error_code(body) == "RATE_LIMITED"
        assert 1 <= body["errors"][0]["extensions"]["retryAfter"] <= settings.login_window_seconds

    api.clock.advance(settings.login_window_seconds + 1)
    body = await log_in(api, "alice", alice.password)
    assert body["data"]["logIn"]["user"]["username"] == "alice", body


async def test_log_out_revokes_only_the_token_in_use(api: Api) -> None:
    alice = await api.sign_up("alice")
    other_token = (await log_in(api, "alice", alice.password))["data"]["logIn"]["token"]

    assert (await api.gql(LOG_OUT, token=alice.token)) == {"logOut": True}
    assert await refusal(api, f"Bearer {alice.token}") == refused("TOKEN_REVOKED")
    error = await api.gql_error(UPDATE_PROFILE, {"input": {"bio": "hi"}}, token=alice.token)
    assert error.codes == ["UNAUTHENTICATED"]
    assert (await api.gql_error(LOG_OUT, token=alice.token)).codes == ["UNAUTHENTICATED"]

    assert await viewer_name(api, other_token) == "alice"


async def test_log_out_holds_on_another_instance(
    api: Api, database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    if app_redis_url is None:
        pytest.skip("instances share revocations through Redis; the embedded default is one process")
    alice = await api.sign_up("alice")
    async with running_server(test_settings(database_url, app_redis_url, tmp_path / "data2")) as other:
        assert await viewer_name(other, alice.token) == "alice"
        await api.gql(LOG_OUT, token=alice.token)
        assert await refusal(other, f"Bearer {alice.token}") == refused("TOKEN_REVOKED")
        assert (await other.gql_error(LOG_OUT, token=alice.token)).codes == ["UNAUTHENTICATED"]


async def test_failed_log_ins_count_on_every_instance(
    api: Api, database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    alice = await api.sign_up("alice")
    limit = api.services.settings.login_attempts_per_window
    async with running_server(test_settings(database_url, app_redis_url, tmp_path / "data2")) as other:
        for _ in range(limit - 1):
            assert error_code(await log_in(api, "alice", "wrong password")) == "UNAUTHENTICATED"
        assert error_code(await log_in(other, "alice", "wrong password")) == "UNAUTHENTICATED"
        if app_redis_url is None:
            # The embedded default keeps limits in process memory (one process, no Redis): the other
            # instance has seen one failure only, so the right password still gets in there.
            body = await log_in(other, "alice", alice.password)
            assert body["data"]["logIn"]["user"]["username"] == "alice", body
        else:
            assert error_code(await log_in(other, "alice", alice.password)) == "RATE_LIMITED"
            assert error_code(await log_in(api, "alice", alice.password)) == "RATE_LIMITED"


async def test_tokens_expire(api: Api) -> None:
    alice = await api.sign_up("alice")
    api.clock.advance(api.services.settings.token_ttl_seconds - 60)
    assert await viewer_name(api, alice.token) == "alice"
    api.clock.advance(61)
    assert await refusal(api, f"Bearer {alice.token}") == refused("TOKEN_EXPIRED")
    assert (await api.gql_error(UPDATE_PROFILE, {"input": {"bio": "x"}}, token=alice.token)).codes == [
        "UNAUTHENTICATED"
    ]


async def test_a_bad_token_is_refused_never_anonymous(api: Api) -> None:
    await api.sign_up("alice")
    assert await api.gql(VIEWER) == {"viewer": None}
    # An empty header is what many client set-ups send when signed out: no token, anonymous.
    for empty in ("", "  "):
        response = await api.http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": empty})
        assert (response.status_code, response.json()["data"]) == (200, {"viewer": None})
    for header in ("Token abc", "Bearer", "Basic YWxpY2U6cHc=", "eph_x", "Bearer " + "eph_" + "x" * 200):
        assert await refusal(api, header) == refused("TOKEN_MALFORMED"), header
        assert await refusal(api, header, "GET") == refused("TOKEN_MALFORMED"), header
    for header in ("Bearer eph_garbage", "bearer  eph_"):
        assert await refusal(api, header) == refused("TOKEN_UNKNOWN"), header


async def test_update_profile(api: Api) -> None:
    alice = await api.sign_up("alice")
    data = await api.gql(
        UPDATE_PROFILE,
        {"input": {"displayName": "Alice A.", "bio": "line one\nline two", "isPrivate": True}},
        token=alice.token,
    )
    assert data["updateProfile"] == {
        "id": alice.id,
        "displayName": "Alice A.",
        "bio": "line one\nline two",
        "isPrivate": True,
    }
    # Fields left out stay as they are.
    data = await api.gql(UPDATE_PROFILE, {"input": {"bio": "only the bio"}}, token=alice.token)
    assert data["updateProfile"]["displayName"] == "Alice A."
    assert data["updateProfile"]["isPrivate"] is True


async def test_update_profile_rejects_a_long_bio_and_changes_nothing(api: Api) -> None:
    alice = await api.sign_up("alice")
    error = await api.gql_error(
        UPDATE_PROFILE, {"input": {"displayName": "New name", "bio": "b" * 151}}, token=alice.token
    )
    assert error.codes == ["BAD_USER_INPUT"]
    profile = (await api.gql(PROFILE, {"username": "alice"}))["user"]
    assert profile["displayName"] == "alice"
    assert profile["bio"] == ""
    data = await api.gql(UPDATE_PROFILE, {"input": {"bio": "b" * 150}}, token=alice.token)
    assert data["updateProfile"]["bio"] == "b" * 150


async def test_going_public_turns_pending_requests_into_follows(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await make_private(api, bob)
    assert (await api.gql(FOLLOW, {"id": bob.id}, token=alice.token))["follow"] == {
        "viewerFollowStatus": "REQUESTED"
    }
    await api.gql(UPDATE_PROFILE, {"input": {"isPrivate": False}}, token=bob.token)

    profile = (await api.gql(PROFILE, {"username": "bob"}, token=alice.token))["user"]
    assert profile["viewerFollowStatus"] == "FOLLOWING"
    assert profile["followerCount"] == 1
    assert (await api.gql(FOLLOW_REQUESTS, token=bob.token))["followRequests"]["edges"] == []


async def make_private(api: Api, user: TestUser) -> None:
    await api.gql(UPDATE_PROFILE, {"input": {"isPrivate": True}}, token=user.token)
