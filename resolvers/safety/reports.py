"""Reports: anyone signed in reports a user, post, comment, story or message they may see.

At report time the server copies the evidence (the text, the author, the time, the media rows) into
the report, and the report holds the media's storage objects (resolvers/safety/holds.py): a
moderator can review it after the story expired or the author deleted it. One reporter's reports of
one subject are one report. The reported account is never told, and sees nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.observability import REPORTS_MADE
from core.rate_limiter import reserve
from core.unit_of_work import UnitOfWork
from models import Comment, Media, MediaStatus, Message, PostMedia, Report, ReportObject, Story
from models.safety import OPEN
from resolvers.accounts.users import findable_user
from resolvers.conversations.messages import visible_message
from resolvers.media.uploads import object_keys
from resolvers.posts.comments import visible_comment
from resolvers.posts.posts import visible_post
from resolvers.stories.stories import reachable_stories
from resolvers.text import clean_text

KINDS = ("User", "Post", "Comment", "Story", "Message")
REASONS = ("SPAM", "HARASSMENT", "HATE", "NUDITY", "VIOLENCE", "SELF_HARM", "IMPERSONATION", "OTHER")
MAX_DETAILS = 1000
# The media columns a report copies: enough to serve the object again, nothing of its upload.
_MEDIA_COLUMNS = (
    "id", "owner_id", "purpose", "kind", "content_type", "byte_size", "storage_key", "width", "height",
    "alt_text", "variants", "duration_seconds", "video_codec", "poster", "placeholder",
)  # fmt: skip


@dataclass
class Evidence:
    author_id: int
    text: str | None
    created_at: datetime | None
    media: list[Media] = field(default_factory=list)


def media_copy(row: Media) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _MEDIA_COLUMNS}


def media_from_copy(copy: dict[str, Any], created_at: datetime) -> Media:
    """A detached media row rebuilt from a report's copy, for the Media type to serve."""
    return Media(**copy, status=MediaStatus.READY, created_at=created_at)


async def _media(work: UnitOfWork, ids: list[int]) -> list[Media]:
    if not ids:
        return []
    rows = {m.id: m for m in await work.session.scalars(select(Media).where(Media.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


async def _evidence(ctx: RequestContext, work: UnitOfWork, kind: str, subject_id: int) -> Evidence:
    """The subject as the reporter may see it now; NOT_FOUND when they may not."""
    if kind == "User":
        user = await findable_user(ctx, subject_id)
        if user is None:
            raise NotFound("User")
        text = "\n".join(part for part in (user.display_name, user.bio) if part)
        avatar = [user.avatar_media_id] if user.avatar_media_id else []
        return Evidence(user.id, text, user.created_at, await _media(work, avatar))
    if kind == "Post":
        post = await visible_post(ctx, subject_id)
        if post is None:
            raise NotFound("Post")
        order = select(PostMedia.media_id).where(PostMedia.post_id == post.id).order_by(PostMedia.position)
        media = await _media(work, list(await work.session.scalars(order)))
        return Evidence(post.author_id, post.caption, post.created_at, media)
    if kind == "Comment":
        comment: Comment | None = await visible_comment(ctx, subject_id)
        if comment is None:
            raise NotFound("Comment")
        return Evidence(comment.author_id, comment.body, comment.created_at)
    if kind == "Story":
        story: Story | None = (await reachable_stories(ctx, [subject_id])).get(subject_id)
        if story is None:
            raise NotFound("Story")
        media = await _media(work, [story.media_id] if story.media_id else [])
        return Evidence(story.author_id, None, story.created_at, media)
    message: Message | None = await visible_message(ctx, subject_id)
    if message is None or message.unsent_at is not None:
        raise NotFound("Message")
    media = await _media(work, [message.media_id] if message.media_id else [])
    return Evidence(message.sender_id, message.body or None, message.sent_at, media)


async def report(ctx: RequestContext, kind: str, subject_id: int, reason: str, details: str | None) -> Report:
    viewer = ctx.require_viewer()
    services = ctx.services
    note = clean_text(details, field="details", max_length=MAX_DETAILS) if details else ""
    await reserve(
        services.limiter, f"reports:user:{viewer}", services.settings.reports_per_hour, 3600,
        "Too many reports at once; wait a little.",
    )  # fmt: skip
    async with ctx.write() as work:
        await work.lock("report", viewer, kind, subject_id)
        existing = await work.session.scalar(
            select(Report).where(
                Report.reporter_id == viewer, Report.subject_kind == kind, Report.subject_id == subject_id
            )
        )
        evidence = await _evidence(ctx, work, kind, subject_id)  # the subject is visible, even for a repeat
        if existing is not None:
            return existing
        if evidence.author_id == viewer:
            raise BadInput("You cannot report yourself or your own content.", field="subjectId")
        now = services.clock.now()
        row = Report(
            id=services.ids.next_id(),
            reporter_id=viewer,
            subject_kind=kind,
            subject_id=subject_id,
            reason=reason,
            details=note or None,
            status=OPEN,
            created_at=now,
            hold_until=now + timedelta(seconds=services.settings.report_retention_seconds),
            evidence_author_id=evidence.author_id,
            evidence_text=evidence.text,
            evidence_created_at=evidence.created_at,
            evidence_media=[media_copy(m) for m in evidence.media],
        )
        work.session.add(row)
        await work.session.flush()
        work.session.add_all(
            ReportObject(report_id=row.id, key=key, media_id=m.id)
            for m in evidence.media
            for key in dict.fromkeys(object_keys(m))
        )

        async def count() -> None:
            REPORTS_MADE.labels(kind).inc()

        work.after_commit(count)
    return row
