"""When each session was last used, kept without a database write per request.

A request records its token here, in process, at most once a minute per session; a periodic job
writes what was recorded in one batched statement. Until then, this process's sessions page
already shows the recorded time; other processes see it after the flush (a minute at most).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, or_, update

from core.context import Services
from models import AuthToken

EVERY = timedelta(minutes=1)


class SessionActivity:
    def __init__(self, every: timedelta = EVERY) -> None:
        self.every = every
        self._seen: dict[int, datetime] = {}  # token id -> last recorded use
        self._pending: dict[int, datetime] = {}

    def seen(self, token_id: int, now: datetime) -> None:
        last = self._seen.get(token_id)
        if last is None or now - last >= self.every:
            self._seen[token_id] = now
            self._pending[token_id] = now

    def last_seen(self, token_id: int) -> datetime | None:
        return self._seen.get(token_id)

    async def flush(self, services: Services) -> int:
        """Write the recorded uses in one statement; a failed write is retried on the next flush."""
        pending, self._pending = self._pending, {}
        if pending:
            # Core, not ORM: one executemany of a guarded update (a later use is never overwritten).
            tokens = AuthToken.__table__
            assert isinstance(tokens, Table)
            table = tokens.c
            stmt = (
                update(tokens)
                .where(
                    table.id == bindparam("token_id"),
                    or_(table.last_used_at.is_(None), table.last_used_at < bindparam("used")),
                )
                .values(last_used_at=bindparam("used"))
            )
            rows = [{"token_id": token_id, "used": used} for token_id, used in pending.items()]
            try:
                async with services.db.write() as session:
                    await session.execute(stmt, rows)
            except BaseException:
                for token_id, used in pending.items():
                    self._pending.setdefault(token_id, used)
                raise
        # What is older than a minute is re-recorded on its next use anyway.
        cutoff = services.clock.now() - self.every
        self._seen = {token_id: at for token_id, at in self._seen.items() if at > cutoff}
        return len(pending)


def session_activity(services: Services) -> SessionActivity:
    found = services.extras.get("session_activity")
    if found is None:
        found = services.extras["session_activity"] = SessionActivity()
    assert isinstance(found, SessionActivity)
    return found


async def flush_session_activity(services: Services) -> int:
    """The periodic job (services.py)."""
    return await session_activity(services).flush(services)
