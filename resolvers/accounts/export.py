"""Data export: one ZIP of everything an account holds, built in the background, downloaded by link.

`request_export` only writes a PENDING row and an outbox row; the drain (any process, no
transaction open) collects the account's rows (resolvers/accounts/export_contents.py) and original media
files, writes the archive to storage and marks the row READY with its expiry
(DATA_EXPORT_TTL_SECONDS). The link is signed to expire with the file; a periodic job deletes
expired files. One export at a time per account: asking again while one is PENDING returns it
(unless it has been pending for STALE_AFTER: it is then marked FAILED and a new one starts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from core.context import RequestContext, Services
from core.sql import skip_locked
from core.unit_of_work import unit_of_work
from models import DataExport, ExportStatus
from resolvers.accounts.export_contents import collect

log = logging.getLogger("ephemera.export")

BUILD_EXPORT = "export.build"
# A PENDING export this old is taken as failed: its build was given up (the outbox's dead letters).
STALE_AFTER = timedelta(hours=6)


async def request_export(ctx: RequestContext) -> DataExport:
    viewer = ctx.require_viewer()
    services = ctx.services
    async with ctx.write() as work:
        await work.lock("data-export", viewer)
        pending = await work.session.scalar(
            select(DataExport).where(DataExport.user_id == viewer, DataExport.status == ExportStatus.PENDING)
        )
        now = services.clock.now()
        if pending is not None and pending.created_at > now - STALE_AFTER:
            return pending
        if pending is not None:  # its build never finished (a dead letter): let a new one start
            pending.status, pending.finished_at = ExportStatus.FAILED, now
        export = DataExport(
            id=services.ids.next_id(),
            user_id=viewer,
            status=ExportStatus.PENDING,
            created_at=now,
        )
        work.session.add(export)
        work.outbox(BUILD_EXPORT, {"export_id": export.id})
    return export


async def latest_export(ctx: RequestContext) -> DataExport | None:
    viewer = ctx.require_viewer()
    async with ctx.read() as session:
        found: DataExport | None = await session.scalar(
            select(DataExport).where(DataExport.user_id == viewer).order_by(DataExport.id.desc()).limit(1)
        )
        return found


async def export_by_id(ctx: RequestContext, export_id: int) -> DataExport | None:
    """node(id:) for an export: the viewer's latest one only; None signed out or for any other."""
    found = await latest_export(ctx) if ctx.viewer is not None else None
    return found if found is not None and found.id == export_id else None


async def download_url(services: Services, export: DataExport) -> str | None:
    """A signed link while READY and unexpired, valid no longer than the file."""
    now = services.clock.now()
    if export.status is not ExportStatus.READY or export.storage_key is None or export.expires_at is None:
        return None
    seconds = int((export.expires_at - now).total_seconds())
    if seconds <= 0:
        return None
    return await services.storage.download_url(export.storage_key, seconds)


async def build_export(services: Services, payload: dict[str, Any]) -> None:
    """The outbox handler. A failure marks the export FAILED (the account may ask again)."""
    export_id = int(payload["export_id"])
    async with services.db.read() as session:
        export = await session.scalar(select(DataExport).where(DataExport.id == export_id))
    if export is None or export.status is not ExportStatus.PENDING:
        return
    key = f"exports/{export.user_id}/{export.id}.zip"
    try:
        contents = await collect(services, export.user_id)
        with tempfile.TemporaryDirectory(prefix="ephemera-export-") as tmp:
            archive = Path(tmp) / "export.zip"
            files: list[tuple[Path, str]] = []
            for index, (storage_key, name) in enumerate(contents.media):
                path = Path(tmp) / f"media-{index}"
                await services.storage.download(storage_key, path)
                files.append((path, name))
            await asyncio.to_thread(_write_zip, archive, contents.documents, files)
            data = await asyncio.to_thread(archive.read_bytes)
        await services.storage.put(key, data, "application/zip")
    except Exception:
        log.exception("data export %s failed", export_id)
        await _finish(services, export_id, ExportStatus.FAILED, None, None)
        return
    now = services.clock.now()
    expires = now + timedelta(seconds=services.settings.data_export_ttl_seconds)
    await _finish(services, export_id, ExportStatus.READY, key, expires)


def _write_zip(path: Path, documents: dict[str, Any], files: list[tuple[Path, str]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, document in documents.items():
            archive.writestr(name, json.dumps(document, indent=2, ensure_ascii=False, default=str))
        for source, name in files:
            archive.write(source, name, compress_type=zipfile.ZIP_STORED)


async def _finish(
    services: Services, export_id: int, status: ExportStatus, key: str | None, expires: datetime | None
) -> None:
    async with unit_of_work(services) as work:
        done = await work.session.execute(
            update(DataExport)
            .where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
            .values(status=status, storage_key=key, expires_at=expires, finished_at=services.clock.now())
            .execution_options(synchronize_session=False)
        )
        if key is not None and not getattr(done, "rowcount", 0):
            work.delete_objects([key])  # deleted (with its account) while being built


async def sweep_expired_exports(services: Services, batch: int = 200) -> int:
    """The periodic job: expired archives leave storage; their rows stay, without a link."""
    now = services.clock.now()
    async with unit_of_work(services) as work:
        due = select(DataExport).where(DataExport.expires_at <= now, DataExport.storage_key.is_not(None))
        rows = list(await work.session.scalars(skip_locked(due.limit(batch), services.db)))
        if rows:
            await work.session.execute(
                update(DataExport)
                .where(DataExport.id.in_([row.id for row in rows]))
                .values(storage_key=None)
                .execution_options(synchronize_session=False)
            )
            work.delete_objects([row.storage_key for row in rows if row.storage_key])
    return len(rows)
