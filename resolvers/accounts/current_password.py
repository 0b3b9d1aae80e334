"""Checking the viewer's current password before a sensitive change (password, email, deletion)."""

from __future__ import annotations

from sqlalchemy import select

from core.context import RequestContext
from core.errors import BadInput, RateLimited, Unauthenticated
from core.rate_limiter import reserve
from models import User


async def check_current_password(ctx: RequestContext, password: str) -> User:
    """The viewer's account when `password` is its password; attempts are limited as log-ins are
    (per account and per address), and a success gives them back."""
    viewer = ctx.require_viewer()
    services = ctx.services
    settings = services.settings
    window, limit = settings.login_window_seconds, settings.login_attempts_per_window
    message = "Too many wrong passwords; wait a little."
    per_user = await reserve(services.limiter, f"password:user:{viewer}", limit, window, message)
    try:
        per_address = await reserve(services.limiter, f"login:addr:{ctx.client_addr}", limit, window, message)
    except RateLimited:
        await services.limiter.release(per_user)
        raise
    async with ctx.read() as session:
        user = await session.scalar(select(User).where(User.id == viewer, User.deleted_at.is_(None)))
    if user is None:
        raise Unauthenticated()
    if not await services.passwords.verify(user.password_hash, password):
        raise BadInput("The current password is wrong.", field="currentPassword")
    await services.limiter.reset(per_user.key)
    await services.limiter.release(per_address)
    return user
