"""Single-use links sent by mail: a random token handed out once, its SHA-256 digest stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from core.errors import BadInput
from core.unit_of_work import UnitOfWork
from models import EmailLink, LinkPurpose

LIFETIME = {
    LinkPurpose.VERIFY_EMAIL: timedelta(days=7),
    LinkPurpose.RESET_PASSWORD: timedelta(hours=1),
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_link(work: UnitOfWork, user_id: int, purpose: LinkPurpose, email: str) -> str:
    """A fresh token; earlier unused links of the same purpose stop working."""
    services = work.services
    now = services.clock.now()
    await work.session.execute(
        delete(EmailLink).where(
            EmailLink.user_id == user_id, EmailLink.purpose == purpose, EmailLink.used_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(32)
    work.session.add(
        EmailLink(
            id=services.ids.next_id(),
            user_id=user_id,
            purpose=purpose,
            token_hash=_digest(token),
            email=email,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    return token


async def use_link(work: UnitOfWork, token: str, purpose: LinkPurpose) -> EmailLink:
    """Spend a link inside the write: valid once, before it expires; BAD_USER_INPUT otherwise."""
    invalid = BadInput("This link is invalid, used or expired; ask for a new one.", field="token")
    if not 8 <= len(token) <= 128:
        raise invalid
    now = work.services.clock.now()
    # The guarded update is what makes it single-use when two requests race.
    spent = await work.session.execute(
        update(EmailLink)
        .where(
            EmailLink.token_hash == _digest(token),
            EmailLink.purpose == purpose,
            EmailLink.used_at.is_(None),
            EmailLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(spent, "rowcount", 0):
        raise invalid
    found = await work.session.scalar(select(EmailLink).where(EmailLink.token_hash == _digest(token)))
    assert found is not None
    return found
