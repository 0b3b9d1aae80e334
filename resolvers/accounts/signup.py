"""Signing up: a new account, its first session, and the confirmation mail when an email is given.

Above the rules it uses (the username's, the password's, the email's), so they never import it."""

from __future__ import annotations

from core.context import RequestContext
from core.errors import Conflict, WriteConflict
from core.rate_limiter import reserve
from models import User
from resolvers.accounts.auth import Session, check_password, issue_token, normalize_username
from resolvers.accounts.deletion import check_username_free
from resolvers.accounts.email import normalize_email, send_confirmation
from resolvers.text import clean_line


async def sign_up(
    ctx: RequestContext, username: str, password: str, display_name: str | None, email: str | None = None
) -> Session:
    services = ctx.services
    settings = services.settings
    name = normalize_username(username)
    check_password(password)
    address = normalize_email(email) if email else None
    shown = clean_line(display_name or "", field="displayName", max_length=64) or name
    # Counted before the (deliberately slow) hashing: attempts, not only successes, use the budget.
    await reserve(
        services.limiter,
        f"signup:{ctx.client_addr}",
        settings.signups_per_window,
        settings.signup_window_seconds,
        "Too many sign-ups from this address; wait a little.",
    )
    password_hash = await services.passwords.hash(password)
    now = services.clock.now()
    user = User(
        id=services.ids.next_id(),
        username=name,
        display_name=shown,
        bio="",
        is_private=False,
        password_hash=password_hash,
        created_at=now,
        last_active_at=now,
        email=address,
    )
    try:
        async with ctx.write() as work:
            await check_username_free(work, name)
            work.session.add(user)
            await work.session.flush()
            token = await issue_token(services, work, user.id, ctx.user_agent)
            if address:
                await send_confirmation(work, user.id, address)
    except WriteConflict:
        raise Conflict("That username is taken.", field="username") from None
    return Session(token, user)
