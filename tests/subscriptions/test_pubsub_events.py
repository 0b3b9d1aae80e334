"""Channel names and event payload constructors/parsers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from subscriptions import (
    InvalidEvent,
    conversation_read,
    message_added,
    parse_event,
    resync,
    story_reacted,
    story_replied,
    token_revoked,
    typing_changed,
    user_channel,
)

REACTION = {
    "type": "story_reacted",
    "story_id": 1,
    "user_id": 2,
    "emoji": "x",
    "reacted_at": "2025-01-02T03:04Z",
}


def test_channel_names() -> None:
    assert user_channel(42) == "user:42"
    for bad in (True, -1, "42", 4.2):
        with pytest.raises(ValueError):
            user_channel(bad)  # type: ignore[arg-type]


def test_constructors_build_id_only_payloads() -> None:
    assert message_added(1, 2, 3) == {
        "type": "message_added",
        "conversation_id": 1,
        "message_id": 2,
        "seq": 3,
    }
    assert conversation_read(1, 5, 9) == {
        "type": "conversation_read",
        "conversation_id": 1,
        "reader_id": 5,
        "up_to_seq": 9,
    }
    assert typing_changed(1, 5, True) == {
        "type": "typing_changed",
        "conversation_id": 1,
        "user_id": 5,
        "is_typing": True,
    }
    assert story_reacted(3, 5, "🔥", "2025-01-02T03:04:05+00:00") == {
        "type": "story_reacted",
        "story_id": 3,
        "user_id": 5,
        "emoji": "🔥",
        "reacted_at": "2025-01-02T03:04:05+00:00",
    }
    assert story_replied(3, 8) == {"type": "story_replied", "story_id": 3, "message_id": 8}
    assert token_revoked(4) == {"type": "token_revoked", "token_id": 4}
    assert resync() == {"type": "resync"}


@pytest.mark.parametrize(
    "payload",
    [
        message_added(1, 2, 3),
        conversation_read(1, 5, 0),
        typing_changed(1, 5, False),
        story_reacted(3, 5, "❤️", "2025-01-02T03:04:05Z"),
        story_replied(3, 8),
        token_revoked(4),
        resync(),
    ],
)
def test_parse_round_trips_through_json(payload: dict[str, Any]) -> None:
    assert parse_event(json.loads(json.dumps(payload))) == payload


def test_parse_ignores_unknown_fields() -> None:
    assert parse_event({**token_revoked(4), "extra": 1}) == token_revoked(4)
    assert parse_event(REACTION)["type"] == "story_reacted"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"type": "nope"},
        {"type": "message_added", "conversation_id": 1, "message_id": 2},
        {"type": "message_added", "conversation_id": "1", "message_id": 2, "seq": 3},
        {"type": "typing_changed", "conversation_id": 1, "user_id": 2, "is_typing": 1},
        {"type": "token_revoked", "token_id": True},
        {"type": "story_reacted", "story_id": 1, "user_id": 2, "emoji": "x", "reacted_at": "yesterday"},
        {
            "type": "story_reacted",
            "story_id": 1,
            "user_id": 2,
            "emoji": "x",
            "reacted_at": "2025-01-02T03:04",
        },
        {
            "type": "story_reacted",
            "story_id": 1,
            "user_id": 2,
            "emoji": "",
            "reacted_at": "2025-01-02T03:04Z",
        },
    ],
)
def test_parse_rejects_malformed_payloads(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent):
        parse_event(data)
