"""What reports hold in object storage, and letting go of it.

A report holds the storage objects of the media in its evidence while it is open, and at least
REPORT_RETENTION_SECONDS after it was made. Every storage delete (a deleted post, an unsent
message, a deleted account, the story sweeper, abandoned uploads) goes through the outbox handler
below, which leaves held objects where they are. `release_report_holds` (a periodic job) lets go
of what closed reports past their retention held: the evidence is emptied and objects no longer
held by anything (no other report, no media row still using them) are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Services
from core.unit_of_work import unit_of_work
from models import Media, Report, ReportObject
from models.safety import OPEN

log = logging.getLogger("ephemera.reports")


def _holding(now: datetime) -> Any:
    return or_(Report.status == OPEN, Report.hold_until > now)


async def held_keys(session: AsyncSession, keys: Iterable[str], now: datetime) -> set[str]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return set()
    stmt = (
        select(ReportObject.key)
        .join(Report, Report.id == ReportObject.report_id)
        .where(ReportObject.key.in_(wanted), _holding(now))
    )
    return set(await session.scalars(stmt))


async def delete_unheld_objects(services: Services, payload: dict[str, Any]) -> None:
    """The outbox handler of storage deletes: keys already gone are not an error, held keys stay."""
    keys = [str(key) for key in payload["keys"]]
    async with services.db.read() as session:
        held = await held_keys(session, keys, services.clock.now())
    if held:
        log.info("kept %d objects that reports hold", len(held))
    rest = [key for key in keys if key not in held]
    if rest:
        await services.storage.delete(rest)


async def release_report_holds(services: Services, batch: int = 200) -> int:
    """Empty the evidence of closed reports past retention and delete the objects nothing else
    holds; how many reports were released."""
    released = 0
    while True:
        now = services.clock.now()
        async with unit_of_work(services) as work:
            session = work.session
            due = list(
                await session.scalars(
                    select(Report.id)
                    .where(
                        ~_holding(now),
                        or_(
                            Report.evidence_text.is_not(None),
                            exists().where(ReportObject.report_id == Report.id),
                        ),
                    )
                    .order_by(Report.id)
                    .limit(batch)
                )
            )
            if not due:
                return released
            rows = (
                await session.execute(
                    select(ReportObject.key, ReportObject.media_id).where(ReportObject.report_id.in_(due))
                )
            ).all()
            await session.execute(delete(ReportObject).where(ReportObject.report_id.in_(due)))
            await session.execute(
                update(Report)
                .where(Report.id.in_(due))
                .values(evidence_text=None, evidence_media=[])
                .execution_options(synchronize_session=False)
            )
            keys = {key for key, _ in rows}
            still_held = await held_keys(session, keys, now)
            alive = set(
                await session.scalars(
                    select(Media.id).where(Media.id.in_({media_id for _, media_id in rows}))
                )
            )
            work.delete_objects(
                sorted({key for key, media_id in rows if key not in still_held and media_id not in alive})
            )
            released += len(due)
        if len(due) < batch:
            return released
