"""Passwords after sign-up: changing the current one (resolvers/accounts/current_password.py
checks it first) and resetting a forgotten one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext, Services
from core.errors import BadInput
from core.rate_limiter import Reservation, reserve
from core.unit_of_work import unit_of_work
from models import AuthToken, LinkPurpose, User
from resolvers.accounts import auth
from resolvers.accounts.current_password import check_current_password
from resolvers.accounts.email import normalize_email
from resolvers.accounts.email_links import new_link, use_link
from resolvers.accounts.mail import link, queue_mail
from resolvers.accounts.sessions import revoke_sessions

RESET_REQUESTED = "password.reset_requested"


async def change_password(ctx: RequestContext, current_password: str, new_password: str) -> auth.Session:
    """A new token for this session; every session of the account, this one's old token included,
    is revoked on every process (their sockets close)."""
    viewer = ctx.require_viewer()
    assert ctx.viewer is not None
    token_id = ctx.viewer.token_id
    auth.check_password(new_password)
    user = await check_current_password(ctx, current_password)
    password_hash = await ctx.services.passwords.hash(new_password)
    async with ctx.write() as work:
        user_agent = await work.session.scalar(select(AuthToken.user_agent).where(AuthToken.id == token_id))
        await _set_password(work.session, viewer, password_hash)
        await revoke_sessions(work, viewer)
        token = await auth.issue_token(ctx.services, work, viewer, user_agent or ctx.user_agent)
    user.password_hash = password_hash
    return auth.Session(token, user)


async def _set_password(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash)
        .execution_options(synchronize_session=False)
    )


async def request_password_reset(ctx: RequestContext, email: str) -> bool:
    """Always true. Known and unknown addresses take the same path here (a rate-limit check and one
    queued outbox row); whether a mail goes out is decided by the outbox handler, off the request."""
    address = normalize_email(email)
    settings = ctx.services.settings
    await reserve(
        ctx.services.limiter,
        f"reset:email:{address}",
        settings.password_resets_per_window,
        settings.password_reset_window_seconds,
        "Too many reset requests for this address; wait a little.",
    )
    async with ctx.write() as work:
        work.outbox(RESET_REQUESTED, {"email": address})
    return True


async def send_reset_link(services: Services, payload: dict[str, Any]) -> None:
    """The outbox handler: a link to the account whose confirmed address this is, if any and if the
    account has not had too many links lately; otherwise nothing, silently."""
    address = str(payload["email"])
    async with services.db.read() as session:
        user_id = await session.scalar(
            select(User.id).where(
                User.email == address, User.email_verified.is_(True), User.deleted_at.is_(None)
            )
        )
    if user_id is None:
        return
    settings = services.settings
    allowed = await services.limiter.reserve(
        f"reset:user:{user_id}", settings.password_resets_per_window, settings.password_reset_window_seconds
    )
    if not isinstance(allowed, Reservation):
        return
    async with unit_of_work(services) as work:
        token = await new_link(work, user_id, LinkPurpose.RESET_PASSWORD, address)
        queue_mail(
            work,
            address,
            "Reset your password",
            "Someone asked to reset the password of your Ephemera account. To choose a new one, open:\n\n"
            f"{link(services, 'reset-password', token)}\n\n"
            "The link works once, for one hour. If you did not ask for it, ignore this message: your "
            "password stays as it is.\n",
        )


async def reset_password(ctx: RequestContext, token: str, new_password: str) -> auth.Session:
    """Sets the password, revokes every session of the account, and signs in with a new one."""
    auth.check_password(new_password)
    password_hash = await ctx.services.passwords.hash(new_password)
    async with ctx.write() as work:
        found = await use_link(work, token, LinkPurpose.RESET_PASSWORD)
        user = await work.session.scalar(
            select(User).where(User.id == found.user_id, User.deleted_at.is_(None)).with_for_update()
        )
        if user is None or user.email != found.email or not user.email_verified:
            raise BadInput("This link is invalid, used or expired; ask for a new one.", field="token")
        user.password_hash = password_hash
        await revoke_sessions(work, user.id)
        session_token = await auth.issue_token(ctx.services, work, user.id, ctx.user_agent)
    return auth.Session(session_token, user)
