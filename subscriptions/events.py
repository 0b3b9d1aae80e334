"""Event payloads: plain JSON-able dicts with a ``type`` key that carry ids only.

The GraphQL layer reloads the objects through fresh loaders and re-checks visibility for
each event, so a payload never leaks data the receiver may no longer see.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict, cast


class InvalidEvent(ValueError):
    """A payload that is not one of the known event shapes."""


class MessageAdded(TypedDict):
    type: Literal["message_added"]
    conversation_id: int
    message_id: int
    seq: int


class ConversationRead(TypedDict):
    type: Literal["conversation_read"]
    conversation_id: int
    reader_id: int
    up_to_seq: int


class TypingChanged(TypedDict):
    type: Literal["typing_changed"]
    conversation_id: int
    user_id: int
    is_typing: bool


class MessageChanged(TypedDict):
    """A message was edited, unsent, or its reactions changed: receivers reload it."""

    type: Literal["message_changed"]
    conversation_id: int
    message_id: int
    seq: int


class MembersChanged(TypedDict):
    """Members were added or removed (or the group renamed) after the message `seq`."""

    type: Literal["members_changed"]
    conversation_id: int
    seq: int
    added: list[int]
    removed: list[int]


class StoryReacted(TypedDict):
    type: Literal["story_reacted"]
    story_id: int
    user_id: int
    emoji: str
    reacted_at: str


class StoryReplied(TypedDict):
    type: Literal["story_replied"]
    story_id: int
    message_id: int


class ActivityAdded(TypedDict):
    """An item of the receiver's activity inbox was added or regrouped and now has this seq."""

    type: Literal["activity_added"]
    seq: int


class TokenRevoked(TypedDict):
    type: Literal["token_revoked"]
    token_id: int


class Resync(TypedDict):
    """Not published by anyone: the Redis backend emits it on every subscribed channel
    after it reconnected, because events published during the outage were lost.
    Reload from the database with the last seq seen (``afterSeq``)."""

    type: Literal["resync"]


EventPayload = (
    MessageAdded
    | ConversationRead
    | TypingChanged
    | MessageChanged
    | MembersChanged
    | StoryReacted
    | StoryReplied
    | ActivityAdded
    | TokenRevoked
    | Resync
)


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEvent(f"{name} must be a non-negative int, got {value!r}")
    return value


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidEvent(f"{name} must be a bool, got {value!r}")
    return value


def _str(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{name} must be a non-empty str, got {value!r}")
    return value


def _iso(value: object, name: str) -> str:
    text = _str(value, name)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(f"{name} must be an ISO-8601 timestamp, got {text!r}") from None
    if parsed.tzinfo is None:
        raise InvalidEvent(f"{name} must carry a UTC offset, got {text!r}")
    return text


def message_added(conversation_id: int, message_id: int, seq: int) -> MessageAdded:
    return {
        "type": "message_added",
        "conversation_id": _int(conversation_id, "conversation_id"),
        "message_id": _int(message_id, "message_id"),
        "seq": _int(seq, "seq"),
    }


def conversation_read(conversation_id: int, reader_id: int, up_to_seq: int) -> ConversationRead:
    return {
        "type": "conversation_read",
        "conversation_id": _int(conversation_id, "conversation_id"),
        "reader_id": _int(reader_id, "reader_id"),
        "up_to_seq": _int(up_to_seq, "up_to_seq"),
    }


def typing_changed(conversation_id: int, user_id: int, is_typing: bool) -> TypingChanged:
    return {
        "type": "typing_changed",
        "conversation_id": _int(conversation_id, "conversation_id"),
        "user_id": _int(user_id, "user_id"),
        "is_typing": _bool(is_typing, "is_typing"),
    }


def message_changed(conversation_id: int, message_id: int, seq: int) -> MessageChanged:
    return {
        "type": "message_changed",
        "conversation_id": _int(conversation_id, "conversation_id"),
        "message_id": _int(message_id, "message_id"),
        "seq": _int(seq, "seq"),
    }


def _ints(value: object, name: str) -> list[int]:
    if not isinstance(value, list):
        raise InvalidEvent(f"{name} must be a list of ints, got {value!r}")
    return [_int(item, name) for item in value]


def members_changed(conversation_id: int, seq: int, added: list[int], removed: list[int]) -> MembersChanged:
    return {
        "type": "members_changed",
        "conversation_id": _int(conversation_id, "conversation_id"),
        "seq": _int(seq, "seq"),
        "added": _ints(added, "added"),
        "removed": _ints(removed, "removed"),
    }


def story_reacted(story_id: int, user_id: int, emoji: str, reacted_at_iso: str) -> StoryReacted:
    return {
        "type": "story_reacted",
        "story_id": _int(story_id, "story_id"),
        "user_id": _int(user_id, "user_id"),
        "emoji": _str(emoji, "emoji"),
        "reacted_at": _iso(reacted_at_iso, "reacted_at"),
    }


def story_replied(story_id: int, message_id: int) -> StoryReplied:
    return {
        "type": "story_replied",
        "story_id": _int(story_id, "story_id"),
        "message_id": _int(message_id, "message_id"),
    }


def activity_added(seq: int) -> ActivityAdded:
    return {"type": "activity_added", "seq": _int(seq, "seq")}


def token_revoked(token_id: int) -> TokenRevoked:
    return {"type": "token_revoked", "token_id": _int(token_id, "token_id")}


def resync() -> Resync:
    return {"type": "resync"}


def parse_event(data: Mapping[str, Any]) -> EventPayload:
    """Validate a received payload and return it as its typed shape.

    Unknown keys are dropped (newer publishers may add fields); an unknown ``type`` or a
    missing/mistyped field raises InvalidEvent, which the caller should log and skip.
    """
    kind = data.get("type")
    try:
        match kind:
            case "message_added":
                return message_added(data["conversation_id"], data["message_id"], data["seq"])
            case "conversation_read":
                return conversation_read(data["conversation_id"], data["reader_id"], data["up_to_seq"])
            case "typing_changed":
                return typing_changed(data["conversation_id"], data["user_id"], data["is_typing"])
            case "message_changed":
                return message_changed(data["conversation_id"], data["message_id"], data["seq"])
            case "members_changed":
                return members_changed(data["conversation_id"], data["seq"], data["added"], data["removed"])
            case "story_reacted":
                return story_reacted(data["story_id"], data["user_id"], data["emoji"], data["reacted_at"])
            case "story_replied":
                return story_replied(data["story_id"], data["message_id"])
            case "activity_added":
                return activity_added(data["seq"])
            case "token_revoked":
                return token_revoked(data["token_id"])
            case "resync":
                return resync()
    except KeyError as exc:
        raise InvalidEvent(f"{kind} event lacks field {exc.args[0]!r}") from None
    raise InvalidEvent(f"unknown event type {cast(object, kind)!r}")
