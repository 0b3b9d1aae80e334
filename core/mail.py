"""Sending mail: SMTP through aiosmtplib (SMTP_URL), or `.eml` files under DATA_DIR/mail/ by default.

Nothing here is called inside a transaction: the outbox hands a queued message to `send` after the
commit that queued it, and retries it (with backoff) when the server refuses or is unreachable.
"""

from __future__ import annotations

import logging
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("ephemera.mail")


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or "localhost")
    message.set_content(body)
    return message


class SmtpMailer:
    """`smtp://` (STARTTLS when the server offers it) or `smtps://` (TLS from the start), with the
    user and password of the URL."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.use_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )


class FileMailer:
    """The embedded default: each message is one `.eml` file, and the log says where."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(message))
        log.info("mail to %s written to %s (set SMTP_URL to send it)", message["To"], path)


def open_mailer(smtp_url: str | None, data_dir: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else FileMailer(data_dir / "mail")
