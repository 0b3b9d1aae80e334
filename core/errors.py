"""Expected failures, one class per kind; each carries the code clients see in extensions.code."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in to do this.") -> None:
        super().__init__(message)


class BadToken(Unauthenticated):
    """A token was sent and cannot be used: `reason` says why (extensions.reason)."""

    MALFORMED = "TOKEN_MALFORMED"  # not `Bearer eph_...`
    UNKNOWN = "TOKEN_UNKNOWN"  # no such token
    EXPIRED = "TOKEN_EXPIRED"
    REVOKED = "TOKEN_REVOKED"  # logged out
    MESSAGES = {
        MALFORMED: "The Authorization header is not `Bearer <token>` with a token from signUp or logIn.",
        UNKNOWN: "This token is unknown; sign in again.",
        EXPIRED: "This token has expired; sign in again.",
        REVOKED: "This token was logged out; sign in again.",
    }

    def __init__(self, reason: str) -> None:
        AppError.__init__(self, self.MESSAGES[reason], reason=reason)
        self.reason = reason

    @property
    def close_reason(self) -> str:
        """What a WebSocket closed with 4403 says: "Token revoked", "Token malformed"..."""
        return "Token " + self.reason.removeprefix("TOKEN_").lower()


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"

    def __init__(self, what: str = "Object") -> None:
        super().__init__(f"{what} not found.")


class BadInput(AppError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, **({"field": field} if field else {}))


class Conflict(AppError):
    code = "CONFLICT"


class WriteConflict(Conflict):
    """A concurrent write broke a uniqueness or reference rule at commit: the client may retry."""

    def __init__(self) -> None:
        super().__init__("This conflicted with a change made at the same time; try again.")


class RateLimited(AppError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=max(1, round(retry_after)))
