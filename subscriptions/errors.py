"""Exceptions raised by the pub/sub layer."""

from __future__ import annotations


class PubSubError(Exception):
    """Base class for pub/sub failures."""


class PublishFailed(PubSubError):
    """The event could not be handed to the broker (e.g. Redis is down).

    Callers publish after their transaction committed, so the data is safe in the
    database: log this and carry on. Subscribers catch up with ``afterSeq``.
    """

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"could not publish to channel {channel!r}: {reason}")
        self.channel = channel


class SubscriptionOverflow(PubSubError):
    """A subscriber fell more than ``queue_size`` events behind and was cut off.

    The subscription is dead: end it and have the client resubscribe with ``afterSeq``.
    """

    def __init__(self, channels: tuple[str, ...], queue_size: int) -> None:
        super().__init__(
            f"subscriber on {', '.join(channels)} fell more than {queue_size} events behind; "
            "resubscribe with afterSeq to catch up"
        )
        self.channels = channels
        self.queue_size = queue_size
