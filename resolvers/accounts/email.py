"""An account's email address: given at sign-up or changed, and confirmed through a mailed link."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.context import RequestContext
from core.errors import BadInput, Conflict, NotFound, WriteConflict
from core.unit_of_work import UnitOfWork
from models import LinkPurpose, User
from resolvers.accounts.current_password import check_current_password
from resolvers.accounts.email_links import new_link, use_link
from resolvers.accounts.mail import link, queue_mail

MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(raw: str) -> str:
    """Trimmed and lowercased, so one mailbox is one address whatever case it was typed in."""
    address = raw.strip().lower()
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise BadInput("Enter an email address like name@example.com.", field="email")
    return address


async def send_confirmation(work: UnitOfWork, user_id: int, address: str) -> None:
    """A confirmation link to `address`, mailed after the commit."""
    token = await new_link(work, user_id, LinkPurpose.VERIFY_EMAIL, address)
    url = link(work.services, "verify-email", token)
    queue_mail(
        work,
        address,
        "Confirm your email address",
        f"Confirm that this address belongs to your Ephemera account:\n\n{url}\n\n"
        "The link works once, for 7 days. If you did not ask for it, ignore this message.\n",
    )


async def change_email(ctx: RequestContext, email: str, current_password: str) -> User:
    """The new address replaces the old one unconfirmed; it counts (password reset, uniqueness) once
    confirmed through the link mailed to it."""
    viewer = ctx.require_viewer()
    address = normalize_email(email)
    await check_current_password(ctx, current_password)
    async with ctx.write() as work:
        user = await work.session.scalar(
            select(User).where(User.id == viewer, User.deleted_at.is_(None)).with_for_update()
        )
        if user is None:
            raise NotFound("User")
        if user.email != address or not user.email_verified:
            user.email, user.email_verified = address, False
            await send_confirmation(work, viewer, address)
    return user


async def verify_email(ctx: RequestContext, token: str) -> User:
    """Confirms the address the link was sent to, if the account still has it. CONFLICT when
    another account confirmed that address first."""
    try:
        async with ctx.write() as work:
            found = await use_link(work, token, LinkPurpose.VERIFY_EMAIL)
            user = await work.session.scalar(
                select(User).where(User.id == found.user_id, User.deleted_at.is_(None)).with_for_update()
            )
            if user is None or user.email != found.email:
                raise BadInput("This link is for an address the account no longer uses.", field="token")
            taken = await work.session.scalar(
                select(User.id).where(
                    User.email == found.email, User.email_verified.is_(True), User.id != user.id
                )
            )
            if taken is not None:
                raise Conflict("Another account already uses this address.", field="email")
            user.email_verified = True
    except WriteConflict:
        raise Conflict("Another account already uses this address.", field="email") from None
    return user
