"""Mail an account is sent (confirmation and reset links): queued in the transaction, sent after it.

`queue_mail` writes an outbox row; the drain hands it to the mailer (core/mail.py) with no
transaction open, and a refused or unreachable server leaves the row to be retried with backoff.
"""

from __future__ import annotations

from typing import Any

from core.context import Services
from core.mail import compose
from core.unit_of_work import UnitOfWork

SEND_MAIL = "mail.send"


def queue_mail(work: UnitOfWork, to: str, subject: str, body: str) -> None:
    work.outbox(SEND_MAIL, {"to": to, "subject": subject, "body": body})


def link(services: Services, page: str, token: str) -> str:
    """A link to the app's page that calls the matching mutation with the token."""
    return f"{services.settings.links_base_url}/{page}?token={token}"


async def send_mail(services: Services, payload: dict[str, Any]) -> None:
    """The outbox handler: an exception leaves the row for a retry."""
    if services.mailer is None:
        raise RuntimeError("no mailer configured")
    message = compose(services.settings.mail_from, str(payload["to"]), payload["subject"], payload["body"])
    await services.mailer.send(message)
