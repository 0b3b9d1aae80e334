"""Sessions: every token is one (sign-up and each log-in), listed and revoked by its account.

Revoking goes through the same path as logOut (resolvers/accounts/auth.py): the row is marked revoked in
the transaction and, after the commit, every process forgets the token and closes its sockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select, update

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.unit_of_work import UnitOfWork
from models import AuthToken
from resolvers.accounts.auth import TOKEN_REVOKED
from resolvers.accounts.session_activity import session_activity
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor


@dataclass(frozen=True)
class SessionRow:
    id: int
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    current: bool


async def revoke_sessions(work: UnitOfWork, user_id: int, keep: int | None = None) -> list[int]:
    """Revoke every live session of the account (but `keep`), announced after the commit."""
    services = work.services
    live = select(AuthToken.id).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if keep is not None:
        live = live.where(AuthToken.id != keep)
    ids = list(await work.session.scalars(live))
    if ids:
        await work.session.execute(
            update(AuthToken)
            .where(AuthToken.id.in_(ids))
            .values(revoked_at=services.clock.now())
            .execution_options(synchronize_session=False)
        )
    for token_id in ids:
        work.outbox(TOKEN_REVOKED, {"token_id": token_id}, before_answer=True)
    return ids


def _used(created_at: datetime, recorded: datetime | None) -> datetime:
    return max(created_at, recorded) if recorded is not None else created_at


async def sessions_page(ctx: RequestContext, first: int | None, after: str | None) -> Page[SessionRow]:
    """The viewer's live sessions, most recently used first (keyset over last use, then id)."""
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=20)
    now = ctx.services.clock.now()
    used = func.coalesce(AuthToken.last_used_at, AuthToken.created_at)
    stmt = select(AuthToken).where(
        AuthToken.user_id == viewer, AuthToken.revoked_at.is_(None), AuthToken.expires_at > now
    )
    if after:
        micros, token_id = _decode(after)
        at = datetime.fromtimestamp(micros / 1_000_000, UTC)
        stmt = stmt.where(or_(used < at, and_(used == at, AuthToken.id < token_id)))
    stmt = stmt.order_by(used.desc(), AuthToken.id.desc()).limit(size + 1)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt))
    activity = session_activity(ctx.services)
    current = ctx.viewer.token_id if ctx.viewer else None
    items = []
    for row in rows[:size]:
        stored = _used(row.created_at, row.last_used_at)
        shown = _used(stored, activity.last_seen(row.id))
        cursor = encode_cursor(f"{_micros(stored)}.{row.id}")
        items.append((cursor, SessionRow(row.id, row.created_at, shown, row.user_agent, row.id == current)))
    return Page(items, len(rows) > size)


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _decode(cursor: str) -> tuple[int, int]:
    micros, _, token_id = decode_cursor(cursor).partition(".")
    try:
        return int(micros), int(token_id)
    except ValueError:
        raise BadInput("Malformed cursor.", field="after") from None


async def session_by_id(ctx: RequestContext, token_id: int) -> SessionRow | None:
    """One of the viewer's live sessions (node(id:)); None for anyone else's."""
    if ctx.viewer is None:
        return None
    now = ctx.services.clock.now()
    async with ctx.read() as session:
        row = await session.scalar(
            select(AuthToken).where(
                AuthToken.id == token_id,
                AuthToken.user_id == ctx.viewer.user_id,
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > now,
            )
        )
    if row is None:
        return None
    shown = _used(_used(row.created_at, row.last_used_at), session_activity(ctx.services).last_seen(row.id))
    return SessionRow(row.id, row.created_at, shown, row.user_agent, row.id == ctx.viewer.token_id)


async def revoke_session(ctx: RequestContext, token_id: int) -> int:
    """Signs one of the viewer's sessions out everywhere (this one too, as logOut does)."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        found = await work.session.scalar(
            select(AuthToken.id).where(
                AuthToken.id == token_id, AuthToken.user_id == viewer, AuthToken.revoked_at.is_(None)
            )
        )
        if found is None:
            raise NotFound("Session")
        await work.session.execute(
            update(AuthToken)
            .where(AuthToken.id == token_id)
            .values(revoked_at=ctx.services.clock.now())
            .execution_options(synchronize_session=False)
        )
        work.outbox(TOKEN_REVOKED, {"token_id": token_id}, before_answer=True)
    return token_id
