"""Safety: reports, the moderation queue and resolving reports. Mute is in schema/graph/graph.py.

A moderator's view (a report's evidence and reporter, the queue) is checked on each field: anyone
else gets FORBIDDEN on the queue and null on those fields, whatever path reaches a report.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import from_global_id, to_global_id
from models import Report as ReportRow
from resolvers.accounts.users import UserById
from resolvers.paging import Page, page_args
from resolvers.posts.posts import MAX_MEDIA
from resolvers.safety import moderation, reports
from schema.accounts.users import UserType
from schema.extensions.query_limits import at_most
from schema.media.media import MediaType
from schema.node import After, First, Node, PageInfo, decode_id

Ctx = Info[RequestContext, None]


@strawberry.enum(description="Why the viewer reports something.")
class ReportReason(Enum):
    SPAM = strawberry.enum_value("SPAM", description="Unwanted ads, scams or repetitive content.")
    HARASSMENT = strawberry.enum_value("HARASSMENT", description="Bullying, threats or unwanted contact.")
    HATE = strawberry.enum_value("HATE", description="Attacks on people for who they are.")
    NUDITY = strawberry.enum_value("NUDITY", description="Nudity or sexual content.")
    VIOLENCE = strawberry.enum_value("VIOLENCE", description="Violence, or calls for it.")
    SELF_HARM = strawberry.enum_value("SELF_HARM", description="Suicide, self-injury or eating disorders.")
    IMPERSONATION = strawberry.enum_value("IMPERSONATION", description="Pretending to be someone else.")
    OTHER = strawberry.enum_value("OTHER", description="Anything else; say what in `details`.")


@strawberry.enum(description="Where a report stands.")
class ReportStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Awaiting a moderator.")
    ACTIONED = strawberry.enum_value("ACTIONED", description="A moderator removed content or suspended.")
    DISMISSED = strawberry.enum_value("DISMISSED", description="A moderator found no rule broken.")


@strawberry.enum(description="What a moderator does with a report (resolveReport).")
class ModerationAction(Enum):
    DISMISS = strawberry.enum_value("DISMISS", description="No rule broken.")
    REMOVE_CONTENT = strawberry.enum_value(
        "REMOVE_CONTENT", description="Delete the reported post, comment, story or message for everyone."
    )
    SUSPEND_ACCOUNT = strawberry.enum_value(
        "SUSPEND_ACCOUNT",
        description="Remove the content and suspend its author: sessions revoked, sockets closed, log-in "
        "refused, content hidden.",
    )


@strawberry.type(
    description="What was reported, as it was when the report was made: moderators can review it after the "
    "story expired or the author deleted it, within the retention period."
)
class ReportEvidence:
    kind: str = strawberry.field(
        description="The reported object's type: User, Post, Comment, Story or Message."
    )
    author: UserType | None = strawberry.field(description="Who made it (the reported account for a User).")
    text: str | None = strawberry.field(
        description="A caption, comment or message body, or a profile's name and bio; null after retention."
    )
    media: list[MediaType] = strawberry.field(
        description="Its photos and videos, through signed URLs valid for EVIDENCE_URL_SECONDS; empty after "
        "retention.",
        metadata=at_most(MAX_MEDIA),  # a post's; a story, message or avatar has one
    )
    created_at: datetime | None = strawberry.field(description="When the reported object was made.")


@strawberry.type(name="Report", description="A report of a user, post, comment, story or message.")
class ReportType(Node):
    row: strawberry.Private[ReportRow]

    @classmethod
    def of(cls, row: ReportRow) -> ReportType:
        return cls(id=strawberry.ID(to_global_id("Report", row.id)), row=row)

    @strawberry.field(description="Why it was reported.")
    def reason(self) -> ReportReason:
        return ReportReason[self.row.reason]

    @strawberry.field(description="The reporter's own words, if any.")
    def details(self) -> str | None:
        return self.row.details

    @strawberry.field(description="OPEN until a moderator resolves it.")
    def status(self) -> ReportStatus:
        return ReportStatus[self.row.status]

    @strawberry.field(description="When it was reported.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Moderators only; null for the reporter.")
    async def evidence(self, info: Ctx) -> ReportEvidence | None:
        ctx = info.context
        if not await moderation.viewer_is_moderator(ctx):
            return None
        row = self.row
        author = await UserById(ctx).load(row.evidence_author_id) if row.evidence_author_id else None
        urls_end_by = ctx.services.clock.now() + timedelta(seconds=ctx.services.settings.evidence_url_seconds)
        return ReportEvidence(
            kind=row.subject_kind,
            author=UserType.of(author) if author else None,
            text=row.evidence_text,
            media=[
                MediaType.of(reports.media_from_copy(copy, row.created_at), urls_end_by=urls_end_by)
                for copy in row.evidence_media
            ],
            created_at=row.evidence_created_at,
        )

    @strawberry.field(description="Moderators only; null for the reporter.")
    async def reporter(self, info: Ctx) -> UserType | None:
        if not await moderation.viewer_is_moderator(info.context):
            return None
        user = await UserById(info.context).load(self.row.reporter_id)
        return UserType.of(user) if user else None


@strawberry.type(description="A report in the queue, with the cursor of its position.")
class ReportEdge:
    cursor: str = strawberry.field(description="Opaque position of this report; pass it as `after`.")
    node: ReportType = strawberry.field(description="The report at this position.")


@strawberry.type(description="One page of reports.")
class ReportConnection:
    edges: list[ReportEdge] = strawberry.field(description="The page's reports, oldest first.")
    page_info: PageInfo = strawberry.field(
        description="Whether more reports follow, and the cursor to get them."
    )

    @classmethod
    def of(cls, page: Page[ReportRow]) -> ReportConnection:
        edges = [ReportEdge(cursor=cursor, node=ReportType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.input(description="What to report and why.")
class ReportInput:
    subject_id: strawberry.ID = strawberry.field(
        description="A User, Post, Comment, Story or Message the viewer may see."
    )
    reason: ReportReason = strawberry.field(description="Why.")
    details: str | None = strawberry.field(default=None, description="At most 1,000 characters.")


async def report_node(ctx: RequestContext, report_id: int) -> ReportType | None:
    row = await moderation.visible_report(ctx, report_id)
    return ReportType.of(row) if row else None


@strawberry.type
class SafetyQuery:
    @strawberry.field(
        description="Reports awaiting review, oldest first. Moderators only (FORBIDDEN for anyone else)."
    )
    async def moderation_queue(
        self,
        info: Ctx,
        first: First = 20,
        after: After = strawberry.UNSET,
        status: Annotated[
            ReportStatus | None, strawberry.argument(description="Which reports: OPEN by default.")
        ] = ReportStatus.OPEN,
    ) -> ReportConnection:
        args = page_args(first, after)
        wanted = (status or ReportStatus.OPEN).name
        return ReportConnection.of(await moderation.queue_page(info.context, wanted, args))


@strawberry.type
class SafetyMutation:
    @strawberry.mutation(
        description="Reports a user, post, comment, story or message the viewer may see (NOT_FOUND "
        "otherwise) and keeps its evidence for review. Reporting the same thing again returns the first "
        "report; the reported account is never told. Rate-limited (RATE_LIMITED)."
    )
    async def report(
        self,
        info: Ctx,
        input: Annotated[ReportInput, strawberry.argument(description="What to report and why.")],
    ) -> ReportType:
        parsed = from_global_id(str(input.subject_id))
        if parsed is None or parsed[0] not in reports.KINDS:
            raise NotFound("Object")
        kind, subject_id = parsed
        row = await reports.report(info.context, kind, subject_id, input.reason.name, input.details)
        return ReportType.of(row)

    @strawberry.mutation(
        description="Moderators only. Resolves an OPEN report (CONFLICT once resolved): DISMISS, "
        "REMOVE_CONTENT or SUSPEND_ACCOUNT; written to the audit log with the note."
    )
    async def resolve_report(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="The report's global ID.")],
        action: Annotated[ModerationAction, strawberry.argument(description="What to do about it.")],
        note: Annotated[
            str | None, strawberry.argument(description="Why, for the audit log; at most 2,000 characters.")
        ] = strawberry.UNSET,
    ) -> ReportType:
        text = note if isinstance(note, str) else None
        row = await moderation.resolve_report(info.context, decode_id(id, "Report"), action.name, text)
        return ReportType.of(row)
