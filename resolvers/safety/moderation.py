"""Moderators: the queue of reports, and resolving them (ARCHITECTURE.md has no moderator view
anywhere else: every path here checks the viewer is one, and answers FORBIDDEN otherwise).

REMOVE_CONTENT deletes the subject through its author's own delete action (deletePost, deleteComment,
deleteStory, unsendMessage), run as its author, so feeds, trays, activity and live subscribers see
it go as they do when the author deletes it. SUSPEND_ACCOUNT does that too, then suspends the
author: every session revoked (and so every socket closed on every process), log-in refused with
ACCOUNT_SUSPENDED, and the account hidden everywhere as a blocked one is (resolvers/visibility.py).
Every action is one row of the append-only audit log, `moderation_log`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from core.context import RequestContext, Services, Viewer
from core.errors import BadInput, Conflict, Forbidden, NotFound
from core.observability import MODERATION_ACTIONS
from core.unit_of_work import unit_of_work
from models import ModerationLog, Report, User
from models.safety import ACTIONED, DISMISSED, OPEN
from resolvers.accounts.sessions import revoke_sessions
from resolvers.accounts.users import UserById
from resolvers.conversations.changes import unsend_message
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.posts.comments import delete_comment
from resolvers.posts.posts import delete_post
from resolvers.stories.stories import delete_story

DISMISS, REMOVE_CONTENT, SUSPEND_ACCOUNT = "DISMISS", "REMOVE_CONTENT", "SUSPEND_ACCOUNT"
MAX_NOTE = 2000


async def viewer_is_moderator(ctx: RequestContext) -> bool:
    if ctx.viewer_id is None:
        return False
    user = await UserById(ctx).load(ctx.viewer_id)
    return user is not None and user.is_moderator and user.suspended_at is None and user.deleted_at is None


async def require_moderator(ctx: RequestContext) -> int:
    viewer = ctx.require_viewer()
    if not await viewer_is_moderator(ctx):
        raise Forbidden("Moderators only.")
    return viewer


async def queue_page(ctx: RequestContext, status: str, args: PageArgs) -> Page[Report]:
    """Reports of one status, oldest first."""
    await require_moderator(ctx)
    stmt = select(Report).where(Report.status == status)
    if args.after is not None:
        stmt = stmt.where(Report.id > args.after)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt.order_by(Report.id).limit(args.first + 1)))
    return page_from_rows([(row.id, row) for row in rows], args)


async def visible_report(ctx: RequestContext, report_id: int) -> Report | None:
    """node(id:): the reporter's own report, or any report for a moderator."""
    if ctx.viewer_id is None:
        return None
    async with ctx.read() as session:
        row = await session.get(Report, report_id)
    if row is None or (row.reporter_id != ctx.viewer_id and not await viewer_is_moderator(ctx)):
        return None
    return row


def _as_author(ctx: RequestContext, author_id: int) -> RequestContext:
    """The author's own point of view, for running their delete action (token 0: no session)."""
    return RequestContext(ctx.services, Viewer(author_id, 0), ctx.client_addr, request_id=ctx.request_id)


_REMOVERS: dict[str, Callable[[RequestContext, int], Awaitable[object]]] = {
    "Post": delete_post,
    "Comment": delete_comment,
    "Story": delete_story,
    "Message": unsend_message,
}


async def _remove_content(ctx: RequestContext, row: Report) -> None:
    remove = _REMOVERS.get(row.subject_kind)
    if remove is None or row.evidence_author_id is None:
        return
    # NOT_FOUND: already deleted, expired or unsent, so gone for everyone already.
    with contextlib.suppress(NotFound):
        await remove(_as_author(ctx, row.evidence_author_id), row.subject_id)


async def resolve_report(ctx: RequestContext, report_id: int, action: str, note: str | None) -> Report:
    moderator = await require_moderator(ctx)
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise BadInput(f"`note` is at most {MAX_NOTE} characters.", field="note")
    async with ctx.read() as session:
        found = await session.get(Report, report_id)
    if found is None:
        raise NotFound("Report")
    if found.status != OPEN:
        raise Conflict("This report was already resolved.")
    if action == REMOVE_CONTENT and found.subject_kind == "User":
        raise BadInput("A reported account has no content to remove: suspend it instead.", field="action")
    # The content goes first, in the author's own unit of work: if what follows fails, the report
    # stays OPEN and resolving it again finds the content already gone.
    if action in (REMOVE_CONTENT, SUSPEND_ACCOUNT):
        await _remove_content(ctx, found)
    services = ctx.services
    async with ctx.write() as work:
        locked = select(Report).where(Report.id == report_id).execution_options(populate_existing=True)
        if not services.db.is_sqlite:
            locked = locked.with_for_update()
        row = await work.session.scalar(locked)
        if row is None or row.status != OPEN:
            raise Conflict("This report was already resolved.")
        now = services.clock.now()
        row.status = DISMISSED if action == DISMISS else ACTIONED
        row.resolved_at = now
        subject_user = row.evidence_author_id
        if action == SUSPEND_ACCOUNT and subject_user is not None:
            await work.session.execute(
                update(User)
                .where(User.id == subject_user, User.suspended_at.is_(None))
                .values(suspended_at=now)
            )
            await revoke_sessions(work, subject_user)
        work.session.add(
            ModerationLog(
                id=services.ids.next_id(),
                moderator_id=moderator,
                report_id=row.id,
                action=action,
                subject_user_id=subject_user,
                note=text or None,
                created_at=now,
            )
        )

        async def count() -> None:
            MODERATION_ACTIONS.labels(action).inc()

        work.after_commit(count)
    return row


async def set_moderator(services: Services, username: str, on: bool) -> bool:
    """`ephemera moderator add|remove USERNAME`: whether the account exists (the change is logged
    with moderator id 0, the operator)."""
    async with unit_of_work(services) as work:
        user = await work.session.scalar(
            select(User).where(User.username == username.strip().lower(), User.deleted_at.is_(None))
        )
        if user is None:
            return False
        if user.is_moderator != on:
            user.is_moderator = on
            work.session.add(
                ModerationLog(
                    id=services.ids.next_id(),
                    moderator_id=0,
                    action="MODERATOR_ADD" if on else "MODERATOR_REMOVE",
                    subject_user_id=user.id,
                    created_at=services.clock.now(),
                )
            )
    return True


async def audit_log(services: Services, limit: int = 50) -> list[ModerationLog]:
    """The newest audit entries, newest first (`ephemera moderator log`)."""
    async with services.db.read() as session:
        stmt = select(ModerationLog).order_by(ModerationLog.id.desc()).limit(limit)
        return list(await session.scalars(stmt))
