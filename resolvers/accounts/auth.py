"""Accounts and tokens: log in, log out, and resolving a bearer token to a viewer."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.context import Reader, RequestContext, Services, Viewer
from core.errors import (
    AccountSuspended,
    BadInput,
    BadToken,
    RateLimited,
    Unauthenticated,
)
from core.rate_limiter import reserve
from core.token_cache import KnownToken
from core.unit_of_work import UnitOfWork
from models import AuthToken, User
from subscriptions import revocations_channel, token_revoked

USERNAME = re.compile(r"^[a-z0-9._]{3,30}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
TOKEN_PREFIX = "eph_"
TOKEN_REVOKED = "token.revoked"  # the outbox row a logOut leaves: announce it on every process


@dataclass(frozen=True)
class Session:
    token: str
    user: User


def normalize_username(raw: str) -> str:
    name = raw.strip().lower()
    if not USERNAME.fullmatch(name):
        raise BadInput(
            "Usernames are 3 to 30 characters: lowercase letters, digits, '.' and '_'.", field="username"
        )
    return name


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadInput(f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters.", field="password")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    services: Services, work: UnitOfWork, user_id: int, user_agent: str | None = None
) -> str:
    """A new token (a session); once committed, this process knows it without asking the database.
    Never for a suspended account: its row is locked, so a suspension in flight commits first."""
    suspended = select(User.suspended_at).where(User.id == user_id)
    if not services.db.is_sqlite:
        suspended = suspended.with_for_update()
    if await work.session.scalar(suspended) is not None:
        raise AccountSuspended()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = services.clock.now()
    row = AuthToken(
        id=services.ids.next_id(),
        user_id=user_id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=services.settings.token_ttl_seconds),
        user_agent=user_agent,
    )
    work.session.add(row)
    known = KnownToken(user_id=user_id, token_id=row.id, expires_at=row.expires_at)

    async def remember() -> None:
        services.tokens.put(row.token_hash, known)

    work.after_commit(remember)
    # The new session reads what signing up (or in) wrote, even from another process.
    work.after_commit(lambda: services.db.remember_write(user_id))
    return token


async def log_in(ctx: RequestContext, username: str, password: str) -> Session:
    """Each attempt is reserved against the username and the address before the password check, so
    parallel guesses cannot outrun the limit; a successful log-in gives its reservations back."""
    services = ctx.services
    settings = services.settings
    name = username.strip().lower()[:64]
    window, limit = settings.login_window_seconds, settings.login_attempts_per_window
    message = "Too many failed log-ins; wait a little."
    per_user = await reserve(services.limiter, f"login:user:{name}", limit, window, message)
    try:
        per_address = await reserve(services.limiter, f"login:addr:{ctx.client_addr}", limit, window, message)
    except RateLimited:
        await services.limiter.release(per_user)
        raise
    async with services.db.read() as session:
        user = await session.scalar(select(User).where(User.username == name))
    if not await services.passwords.verify(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("Wrong username or password.")
    await services.limiter.reset(per_user.key)
    await services.limiter.release(per_address)
    async with ctx.write() as work:
        token = await issue_token(services, work, user.id, ctx.user_agent)
        await work.session.execute(
            update(User).where(User.id == user.id).values(last_active_at=services.clock.now())
        )
    return Session(token, user)


async def log_out(ctx: RequestContext) -> bool:
    """Revoke the token; every instance closes the WebSockets it authenticated."""
    if ctx.viewer is None:
        raise Unauthenticated()
    token_id = ctx.viewer.token_id
    async with ctx.write() as work:
        await work.session.execute(
            update(AuthToken)
            .where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
            .values(revoked_at=ctx.services.clock.now())
        )
        # Announced right after the commit; an outbox row, so a broker outage delays the
        # announcement (the drain retries it) instead of losing it.
        work.outbox(TOKEN_REVOKED, {"token_id": token_id}, before_answer=True)
    return True


async def announce_revoked(services: Services, payload: dict[str, Any]) -> None:
    """The outbox handler of a logOut: this process forgets the token at once, then every process
    (one revocations channel for all) forgets it and closes its sockets. Raises while the broker
    is away, so the row stays and is retried."""
    token_id = int(payload["token_id"])
    services.tokens.revoke(token_id)
    await services.pubsub.publish(revocations_channel(), token_revoked(token_id))


def _bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise BadToken(BadToken.MALFORMED)
    return token


async def authenticate(
    services: Services, authorization: str | None, read: Reader | None = None
) -> Viewer | None:
    """The viewer for an `Authorization: Bearer ...` value; None without one. A token that cannot
    be used raises BadToken saying why (malformed, unknown, expired, revoked): never anonymous.

    A token checked against the database is remembered for TOKEN_CACHE_SECONDS (and never past its
    expiry); a revocation reaches every process's cache at once (core/token_cache.py), and one that
    lands while this reads the database keeps this read out of the cache (its generation moved).
    """
    if authorization is None:
        return None
    digest = token_hash(_bearer_token(authorization))
    now = services.clock.now()
    known = services.tokens.get(digest, now)
    if known is None:
        generation = services.tokens.generation
        async with (read or services.db.read)() as session:
            row = (
                await session.execute(
                    select(
                        AuthToken.id,
                        AuthToken.user_id,
                        AuthToken.expires_at,
                        AuthToken.revoked_at.is_not(None).label("revoked"),
                        (AuthToken.expires_at <= now).label("expired"),
                    ).where(AuthToken.token_hash == digest)
                )
            ).first()
        if row is None:
            raise BadToken(BadToken.UNKNOWN)
        if row.revoked:
            raise BadToken(BadToken.REVOKED)
        if row.expired:
            raise BadToken(BadToken.EXPIRED)
        known = KnownToken(user_id=row.user_id, token_id=row.id, expires_at=row.expires_at)
        services.tokens.put(digest, known, generation)
    return Viewer(user_id=known.user_id, token_id=known.token_id)


async def live_tokens(services: Services, token_ids: list[int]) -> set[int]:
    """Which of these tokens are neither revoked nor expired, asked of the database (never the
    cache): one statement, whatever the number of ids."""
    if not token_ids:
        return set()
    async with services.db.read() as session:
        rows = await session.scalars(
            select(AuthToken.id).where(
                AuthToken.id.in_(token_ids),
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > services.clock.now(),
            )
        )
        return set(rows)


async def live_token_expiry(services: Services, token_id: int) -> datetime | None:
    """When a token stops being valid, asked of the database; None when it is revoked or expired."""
    async with services.db.read() as session:
        expires: datetime | None = await session.scalar(
            select(AuthToken.expires_at).where(
                AuthToken.id == token_id,
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > services.clock.now(),
            )
        )
        return expires
