"""Channel names. Events go to users, never to conversations, so a socket needs only its user's
channel; token revocations go to one channel every process listens to."""

from __future__ import annotations


def _check_id(value: int, what: str) -> int:
    # bool is an int subclass; True would silently become channel "user:True".
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return value


def user_channel(user_id: int) -> str:
    """Everything addressed to one user: messages, reads, typing, story reactions."""
    return f"user:{_check_id(user_id, 'user_id')}"


def revocations_channel() -> str:
    """Every revoked token, for every process's token cache (core/token_cache.py)."""
    return "tokens:revoked"
