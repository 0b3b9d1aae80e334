"""A real SMTP server in process (aiosmtpd on a loopback port), and an app that sends mail to it."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.harness import Api, ServerFactory, free_port


class Mailbox:
    """Every message the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.url = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def token(self, address: str, page: str) -> str:
        """The token of the newest link to `page` mailed to `address`."""
        for message in reversed(self.to(address)):
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found = re.search(rf"https?://\S+/{page}\?token=([\w-]+)", body.get_content())
            if found:
                return found.group(1)
        raise AssertionError(f"no {page} link mailed to {address}")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.url = f"smtp://127.0.0.1:{port}"
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
async def mail_api(asgi: ServerFactory, mailbox: Mailbox, s3_bucket: Any) -> AsyncIterator[Api]:
    """The app in process, sending its mail to `mailbox` (and, on PostgreSQL, keeping media on S3)."""
    s3 = s3_bucket
    extra = {"s3_bucket": s3.bucket, "s3_endpoint_url": s3.endpoint} if s3 else {}
    async with asgi(smtp_url=mailbox.url, **extra) as api:
        yield api


async def delivered(api: Api) -> None:
    """Every queued mail handed to the SMTP server (the outbox drained, as the periodic job would)."""
    await api.services.outbox.settle(api.services)
    # A handler may queue more (a reset request queues its mail): drain until nothing is due.
    while await api.services.outbox.drain(api.services):
        await api.services.outbox.wait_in_flight()
