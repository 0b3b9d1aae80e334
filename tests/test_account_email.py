"""Email addresses: given at sign-up or changed, confirmed through a link read out of a real mail."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from core.mail import SmtpMailer
from models import Outbox
from settings import Settings, SettingsError
from tests.harness import Api, ServerFactory, free_port
from tests.mail_server import Mailbox, delivered

ME = "query Me { viewer { id email emailVerified } }"
OTHER = "query Other($name: String!) { user(username: $name) { email emailVerified } }"
VERIFY = "mutation Verify($token: String!) { verifyEmail(token: $token) { id email emailVerified } }"
CHANGE = """
mutation Change($email: String!, $password: String!) {
  changeEmail(email: $email, currentPassword: $password) { email emailVerified }
}
"""


async def test_sign_up_with_email_mails_a_link_that_confirms_it_once(mail_api: Api, mailbox: Mailbox) -> None:
    ann = await mail_api.sign_up("ann", email="  Ann@Example.COM ")
    assert (await mail_api.gql(ME, token=ann.token))["viewer"] == {
        "id": ann.id,
        "email": "ann@example.com",
        "emailVerified": False,
    }
    await delivered(mail_api)
    [message] = mailbox.to("ann@example.com")
    assert message["Subject"] == "Confirm your email address"
    token = mailbox.token("ann@example.com", "verify-email")

    verified = (await mail_api.gql(VERIFY, {"token": token}))["verifyEmail"]
    assert verified["id"] == ann.id and verified["email"] is None  # signed out: not the viewer's to see
    assert (await mail_api.gql(ME, token=ann.token))["viewer"]["emailVerified"] is True
    again = await mail_api.gql_error(VERIFY, {"token": token})
    assert again.codes == ["BAD_USER_INPUT"]


async def test_email_is_the_account_s_own_to_see(mail_api: Api) -> None:
    ann = await mail_api.sign_up("ann2", email="ann2@example.com")
    bob = await mail_api.sign_up("bob2")
    assert (await mail_api.gql(OTHER, {"name": "ann2"}, token=bob.token))["user"] == {
        "email": None,
        "emailVerified": None,
    }
    assert (await mail_api.gql(ME, token=bob.token))["viewer"]["email"] is None
    assert (await mail_api.gql(OTHER, {"name": "ann2"}, token=ann.token))["user"][
        "email"
    ] == "ann2@example.com"


async def test_a_malformed_address_is_refused_and_nothing_is_written(mail_api: Api) -> None:
    body = await mail_api.post(
        "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }",
        {"input": {"username": "carl", "password": "correct horse battery", "email": "not-an-address"}},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await mail_api.gql(OTHER, {"name": "carl"}))["user"] is None


async def test_change_email_needs_the_password_and_counts_once_confirmed(
    mail_api: Api, mailbox: Mailbox
) -> None:
    dan = await mail_api.sign_up("dan", email="dan@example.com")
    await delivered(mail_api)
    await mail_api.gql(VERIFY, {"token": mailbox.token("dan@example.com", "verify-email")})

    wrong = await mail_api.gql_error(
        CHANGE, {"email": "dan@new.example", "password": "wrong password"}, dan.token
    )
    assert wrong.codes == ["BAD_USER_INPUT"]
    changed = await mail_api.gql(CHANGE, {"email": "Dan@New.Example", "password": dan.password}, dan.token)
    assert changed["changeEmail"] == {"email": "dan@new.example", "emailVerified": False}
    await delivered(mail_api)
    token = mailbox.token("dan@new.example", "verify-email")
    await mail_api.gql(VERIFY, {"token": token})
    assert (await mail_api.gql(ME, token=dan.token))["viewer"]["emailVerified"] is True


async def test_a_confirmed_address_belongs_to_one_account(mail_api: Api, mailbox: Mailbox) -> None:
    eve = await mail_api.sign_up("eve", email="shared@example.com")
    fay = await mail_api.sign_up("fay", email="shared@example.com")
    await delivered(mail_api)
    first, second = [
        re.search(r"token=([\w-]+)", m.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
        for m in mailbox.to("shared@example.com")
    ]
    await mail_api.gql(VERIFY, {"token": first})
    refused = await mail_api.gql_error(VERIFY, {"token": second})
    assert refused.codes == ["CONFLICT"]
    verified = {
        name: (await mail_api.gql(ME, token=user.token))["viewer"]["emailVerified"]
        for name, user in (("eve", eve), ("fay", fay))
    }
    assert sorted(verified.values()) == [False, True]


async def test_an_unreachable_mail_server_is_retried_with_backoff(
    asgi: ServerFactory, mailbox: Mailbox
) -> None:
    down = mailbox.url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    async with asgi(smtp_url=down) as api:
        await api.sign_up("gil", email="gil@example.com")
        await delivered(api)
        async with api.services.db.read() as session:
            [row] = (await session.scalars(select(Outbox).where(Outbox.kind == "mail.send"))).all()
        assert row.attempts == 1
        assert row.available_at - api.clock.now() >= timedelta(seconds=59)
        api.clock.advance(61)
        await delivered(api)
        async with api.services.db.read() as session:
            [row] = (await session.scalars(select(Outbox).where(Outbox.kind == "mail.send"))).all()
        assert row.attempts == 2
        assert row.available_at - api.clock.now() >= timedelta(seconds=119)  # twice as long
        # The server is back: the next due drain delivers it.
        api.services.mailer = SmtpMailer(mailbox.url)
        api.clock.advance(121)
        await delivered(api)
    assert mailbox.token("gil@example.com", "verify-email")


async def test_without_smtp_mail_is_written_as_eml_files(api: Api, tmp_path: Path) -> None:
    await api.sign_up("hal", email="hal@example.com")
    await delivered(api)
    [eml] = (api.services.settings.data_dir / "mail").glob("*.eml")
    text = eml.read_text()
    assert "To: hal@example.com" in text and "/verify-email?token=" in text


async def test_smtp_url_credentials_log_in_to_the_server(asgi: ServerFactory) -> None:
    box, logins = Mailbox(), []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret pass")

    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,  # AUTH offered on plain loopback, for the test
    )
    controller.start()
    try:
        async with asgi(smtp_url=f"smtp://mailer%40example.com:s3cret%20pass@127.0.0.1:{port}") as api:
            await api.sign_up("ida", email="ida@example.com")
            await delivered(api)
    finally:
        controller.stop()
    assert logins == [("mailer@example.com", "s3cret pass")]
    assert box.token("ida@example.com", "verify-email")


def test_smtp_url_must_be_smtp_or_smtps() -> None:
    with pytest.raises(SettingsError, match="SMTP_URL"):
        Settings(smtp_url="http://mail.example.com").validate()
    Settings(smtp_url="smtps://user:pw@mail.example.com:465").validate()
