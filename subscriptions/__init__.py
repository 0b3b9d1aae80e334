"""Pub/sub for live delivery: channels, event payloads, and the PubSub hub."""

from .channels import revocations_channel, user_channel
from .cluster_backend import ClusterRedisBackend
from .errors import PublishFailed, PubSubError, SubscriptionOverflow
from .events import (
    ActivityAdded,
    ConversationRead,
    EventPayload,
    InvalidEvent,
    MessageAdded,
    Resync,
    StoryReacted,
    StoryReplied,
    TokenRevoked,
    TypingChanged,
    activity_added,
    conversation_read,
    message_added,
    parse_event,
    resync,
    story_reacted,
    story_replied,
    token_revoked,
    typing_changed,
)
from .hub import Message, PubSub, Subscription, create_backend
from .redis_backend import ResilientRedisBackend

__all__ = [
    "ActivityAdded",
    "ClusterRedisBackend",
    "ConversationRead",
    "EventPayload",
    "InvalidEvent",
    "Message",
    "MessageAdded",
    "PubSub",
    "PubSubError",
    "PublishFailed",
    "ResilientRedisBackend",
    "Resync",
    "StoryReacted",
    "StoryReplied",
    "Subscription",
    "SubscriptionOverflow",
    "TokenRevoked",
    "TypingChanged",
    "activity_added",
    "conversation_read",
    "create_backend",
    "message_added",
    "parse_event",
    "resync",
    "revocations_channel",
    "story_reacted",
    "story_replied",
    "token_revoked",
    "typing_changed",
    "user_channel",
]
