"""Password change and reset: the current password checked, links read out of a real mail, every
other session revoked, and a reset request that tells nothing about whether an address is known."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Api, TestUser
from tests.mail_server import Mailbox, delivered
from tests.ws_client import graphql_socket

CHANGE_PASSWORD = """
mutation ChangePassword($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) { token user { username } }
}
"""
REQUEST_RESET = "mutation RequestReset($email: String!) { requestPasswordReset(email: $email) }"
RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { token user { username } }
}
"""
VERIFY = "mutation Verify($token: String!) { verifyEmail(token: $token) { emailVerified } }"
VIEWER = "query Viewer { viewer { username } }"
LOG_IN = "mutation LogIn($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }"


async def log_in(api: Api, username: str, password: str) -> Any:
    return await api.post(LOG_IN, {"u": username, "p": password})


async def signed_in_as(api: Api, token: str, ended: str = "TOKEN_REVOKED") -> str | None:
    """The username the token signs in as; None when it is refused (401) for the `ended` reason."""
    response = await api.http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    if response.status_code == 401:
        assert body["errors"][0]["extensions"]["reason"] == ended, body
        return None
    assert response.status_code == 200 and not body.get("errors"), body
    return str(body["data"]["viewer"]["username"])


async def confirmed_user(api: Api, mailbox: Mailbox, name: str) -> TestUser:
    user = await api.sign_up(name, email=f"{name}@example.com")
    await delivered(api)
    await api.gql(VERIFY, {"token": mailbox.token(f"{name}@example.com", "verify-email")})
    return user


async def test_change_password_keeps_this_session_on_a_new_token_and_ends_the_others(api: Api) -> None:
    ann = await api.sign_up("ann")
    other = (await log_in(api, "ann", ann.password))["data"]["logIn"]["token"]

    wrong = await api.gql_error(
        CHANGE_PASSWORD, {"current": "not my password", "new": "n3w password"}, ann.token
    )
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert await signed_in_as(api, other) == "ann"  # a refused change changes nothing

    changed = (await api.gql(CHANGE_PASSWORD, {"current": ann.password, "new": "n3w password"}, ann.token))[
        "changePassword"
    ]
    assert changed["user"]["username"] == "ann"
    assert await signed_in_as(api, changed["token"]) == "ann"
    assert await signed_in_as(api, ann.token) is None
    assert await signed_in_as(api, other) is None
    assert (await log_in(api, "ann", ann.password))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await log_in(api, "ann", "n3w password"))["data"]["logIn"]["token"]


async def test_wrong_current_passwords_are_rate_limited_like_log_ins(api: Api) -> None:
    bob = await api.sign_up("bob")
    for _ in range(api.services.settings.login_attempts_per_window):
        refused = await api.gql_error(
            CHANGE_PASSWORD, {"current": "guess guess", "new": "n3w password"}, bob.token
        )
        assert refused.codes == ["BAD_USER_INPUT"]
    limited = await api.gql_error(
        CHANGE_PASSWORD, {"current": bob.password, "new": "n3w password"}, bob.token
    )
    assert limited.codes == ["RATE_LIMITED"]
    assert await signed_in_as(api, bob.token) == "bob"


@pytest.mark.served
async def test_change_password_closes_the_sockets_of_every_revoked_token(api: Api) -> None:
    cat = await api.sign_up("cat")
    other = (await log_in(api, "cat", cat.password))["data"]["logIn"]["token"]
    async with graphql_socket(api.ws_url, cat.token) as mine, graphql_socket(api.ws_url, other) as theirs:
        await api.gql(CHANGE_PASSWORD, {"current": cat.password, "new": "n3w password"}, cat.token)
        assert await theirs.closed() == (4403, "Token revoked")
        assert await mine.closed() == (4403, "Token revoked")


async def test_password_reset_through_the_mailed_link(mail_api: Api, mailbox: Mailbox) -> None:
    dan = await confirmed_user(mail_api, mailbox, "dan")
    other = (await log_in(mail_api, "dan", dan.password))["data"]["logIn"]["token"]
    assert await mail_api.gql(REQUEST_RESET, {"email": " DAN@example.com"}) == {"requestPasswordReset": True}
    await delivered(mail_api)
    assert [m["Subject"] for m in mailbox.to("dan@example.com")][-1] == "Reset your password"
    token = mailbox.token("dan@example.com", "reset-password")

    reset = (await mail_api.gql(RESET, {"token": token, "password": "brand new pass"}))["resetPassword"]
    assert reset["user"]["username"] == "dan"
    assert await signed_in_as(mail_api, reset["token"]) == "dan"
    assert await signed_in_as(mail_api, dan.token) is None
    assert await signed_in_as(mail_api, other) is None
    assert (await log_in(mail_api, "dan", "brand new pass"))["data"]["logIn"]["token"]
    again = await mail_api.gql_error(RESET, {"token": token, "password": "another pass"})
    assert again.codes == ["BAD_USER_INPUT"]


async def test_a_reset_link_expires_after_an_hour(mail_api: Api, mailbox: Mailbox) -> None:
    await confirmed_user(mail_api, mailbox, "eve")
    await mail_api.gql(REQUEST_RESET, {"email": "eve@example.com"})
    await delivered(mail_api)
    token = mailbox.token("eve@example.com", "reset-password")
    mail_api.clock.advance(3601)
    expired = await mail_api.gql_error(RESET, {"token": token, "password": "brand new pass"})
    assert expired.codes == ["BAD_USER_INPUT"]
    assert (await log_in(mail_api, "eve", "brand new pass"))["errors"][0]["extensions"][
        "code"
    ] == "UNAUTHENTICATED"


async def test_reset_requests_for_known_and_unknown_addresses_look_the_same(
    mail_api: Api, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    await confirmed_user(mail_api, mailbox, "fay")
    await mail_api.sign_up("gus", email="gus@example.com")  # never confirmed: not an address to reset
    await delivered(mail_api)
    mailed = len(mailbox.messages)
    # The request's own statements, without the background drain that a commit kicks.
    monkeypatch.setattr(mail_api.services.outbox, "kick", lambda services: None)
    answers, statements = [], []
    for address in ("fay@example.com", "nobody@example.com", "gus@example.com"):
        with mail_api.count_statements() as seen:
            answers.append(await mail_api.post(REQUEST_RESET, {"email": address}))
        statements.append(seen)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"] == {"requestPasswordReset": True}
    assert statements[0] == statements[1] == statements[2]
    assert len(mailbox.messages) == mailed  # nothing sent by the request itself

    await delivered(mail_api)
    assert [m["To"] for m in mailbox.messages[mailed:]] == ["fay@example.com"]


async def test_reset_requests_are_limited_per_address_whether_known_or_not(
    mail_api: Api, mailbox: Mailbox
) -> None:
    await confirmed_user(mail_api, mailbox, "hal")
    limit = mail_api.services.settings.password_resets_per_window
    for address in ("hal@example.com", "nobody@example.com"):
        for _ in range(limit):
            assert await mail_api.gql(REQUEST_RESET, {"email": address}) == {"requestPasswordReset": True}
        assert (await mail_api.gql_error(REQUEST_RESET, {"email": address})).codes == ["RATE_LIMITED"]
