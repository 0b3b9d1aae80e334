"""Account security: email, password change and reset, sessions, deletion and data export."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from models import DataExport, ExportStatus
from resolvers.accounts import credentials, sessions
from resolvers.accounts import deletion as account_deletion
from resolvers.accounts import email as account_email
from resolvers.accounts import export as data_export
from resolvers.paging import Page
from schema.accounts.accounts import AuthPayload
from schema.accounts.users import UserType
from schema.node import After, First, Node, PageInfo, decode_id

Ctx = Info[RequestContext, None]


@strawberry.type(name="Session", description="A signed-in session: one token, from sign-up or a log-in.")
class SessionType(Node):
    row: strawberry.Private[sessions.SessionRow]

    @classmethod
    def of(cls, row: sessions.SessionRow) -> SessionType:
        return cls(id=strawberry.ID(to_global_id("Session", row.id)), row=row)

    @strawberry.field(description="When it signed in.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(
        description="When a request last used it, to the minute (recorded without a write per request)."
    )
    def last_used_at(self) -> datetime:
        return self.row.last_used_at

    @strawberry.field(description="The User-Agent the session signed in with.")
    def user_agent(self) -> str | None:
        return self.row.user_agent

    @strawberry.field(description="The session making this request.")
    def current(self) -> bool:
        return self.row.current


@strawberry.type(description="A session in a paged list, with the cursor of its position.")
class SessionEdge:
    cursor: str = strawberry.field(description="Opaque position of this session; pass it as `after`.")
    node: SessionType = strawberry.field(description="The session at this position.")


@strawberry.type(description="One page of the viewer's sessions.")
class SessionConnection:
    edges: list[SessionEdge] = strawberry.field(description="The page's sessions, most recently used first.")
    page_info: PageInfo = strawberry.field(
        description="Whether more sessions follow, and the cursor to get them."
    )

    @classmethod
    def of(cls, page: Page[sessions.SessionRow]) -> SessionConnection:
        edges = [SessionEdge(cursor=cursor, node=SessionType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.enum(description="Where a data export stands.")
class DataExportStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Being built in the background.")
    READY = strawberry.enum_value("READY", description="Built: `url` downloads it until `expiresAt`.")
    FAILED = strawberry.enum_value("FAILED", description="Could not be built; ask for a new one.")


@strawberry.type(
    name="DataExport",
    description="Everything the account holds (profile, graph, posts, comments, stories kept in the "
    "archive or highlights, messages it sent, media files), as one archive file.",
)
class DataExportType(Node):
    row: strawberry.Private[DataExport]

    @classmethod
    def of(cls, row: DataExport) -> DataExportType:
        return cls(id=strawberry.ID(to_global_id("DataExport", row.id)), row=row)

    @strawberry.field(description="PENDING while being built, then READY or FAILED.")
    def status(self) -> DataExportStatus:
        return DataExportStatus[ExportStatus(self.row.status).name]

    @strawberry.field(
        description="A download link while READY; null otherwise. A ZIP of JSON files (profile.json, "
        "graph.json, posts.json, comments.json, stories.json, messages.json, activity.json) and media/."
    )
    async def url(self, info: Ctx) -> str | None:
        return await data_export.download_url(info.context.services, self.row)

    @strawberry.field(description="When it was asked for.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When the link and the file stop working.")
    def expires_at(self) -> datetime | None:
        return self.row.expires_at


async def data_export_node(ctx: RequestContext, export_id: int) -> DataExportType | None:
    found = await data_export.export_by_id(ctx, export_id)
    return DataExportType.of(found) if found else None


async def session_node(ctx: RequestContext, token_id: int) -> SessionType | None:
    found = await sessions.session_by_id(ctx, token_id)
    return SessionType.of(found) if found else None


@strawberry.type
class AccountSecurityQuery:
    @strawberry.field(
        description="The viewer's signed-in sessions, most recently used first: every token is one "
        "(sign-up and each log-in)."
    )
    async def sessions(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> SessionConnection:
        cursor = after or None
        page = await sessions.sessions_page(info.context, first, cursor)
        return SessionConnection.of(Page(page.items, page.has_next, has_previous=cursor is not None))

    @strawberry.field(description="The viewer's latest data export, if any.")
    async def data_export(self, info: Ctx) -> DataExportType | None:
        found = await data_export.latest_export(info.context)
        return DataExportType.of(found) if found else None


Password = Annotated[str, strawberry.argument(description="8 to 256 characters.")]
CurrentPassword = Annotated[
    str,
    strawberry.argument(
        description="The account's password now: BAD_USER_INPUT when wrong, RATE_LIMITED after too many "
        "wrong ones (as logIn)."
    ),
]
Token = Annotated[str, strawberry.argument(description="The token of the link the mail carried.")]
Email = Annotated[str, strawberry.argument(description="An address; stored trimmed and in lowercase.")]


@strawberry.type
class AccountSecurityMutation:
    @strawberry.mutation(
        description="Returns a new token for this session and revokes every other session of the account."
        " The old token of this session stops working too; sockets of revoked tokens close (4403)."
    )
    async def change_password(
        self, info: Ctx, current_password: CurrentPassword, new_password: Password
    ) -> AuthPayload:
        return AuthPayload.of(await credentials.change_password(info.context, current_password, new_password))

    @strawberry.mutation(
        description="Always true, whether or not an account has that address (no account enumeration); "
        "sends a single-use link valid for an hour. Only a confirmed address receives it. RATE_LIMITED "
        "after too many requests for one address."
    )
    async def request_password_reset(self, info: Ctx, email: Email) -> bool:
        return await credentials.request_password_reset(info.context, email)

    @strawberry.mutation(
        description="Sets the password, revokes every session, and signs in. BAD_USER_INPUT for a link "
        "that is invalid, used or expired."
    )
    async def reset_password(self, info: Ctx, token: Token, new_password: Password) -> AuthPayload:
        return AuthPayload.of(await credentials.reset_password(info.context, token, new_password))

    @strawberry.mutation(
        description="Sends a confirmation link to the new address; the address counts once confirmed."
    )
    async def change_email(self, info: Ctx, email: Email, current_password: CurrentPassword) -> UserType:
        return UserType.of(await account_email.change_email(info.context, email, current_password))

    @strawberry.mutation(
        description="Confirms the address a confirmation link was sent to; works signed out. BAD_USER_INPUT "
        "for an invalid, used or expired link, CONFLICT when another account confirmed it first."
    )
    async def verify_email(self, info: Ctx, token: Token) -> UserType:
        return UserType.of(await account_email.verify_email(info.context, token))

    @strawberry.mutation(
        description="Signs one of the viewer's sessions out on every server instance (its sockets close); "
        "returns its id. NOT_FOUND for a session that is not the viewer's or already ended."
    )
    async def revoke_session(
        self, info: Ctx, id: Annotated[strawberry.ID, strawberry.argument(description="A Session's id.")]
    ) -> strawberry.ID:
        await sessions.revoke_session(info.context, decode_id(id, "Session"))
        return id

    @strawberry.mutation(
        description="Deletes the account and everything it made, for everyone, now; media objects are "
        "removed from storage within the retention period."
    )
    async def delete_account(self, info: Ctx, current_password: CurrentPassword) -> bool:
        return await account_deletion.delete_account(info.context, current_password)

    @strawberry.mutation(
        description="Starts building an archive of the account's data in the background (PENDING); while "
        "one is PENDING, returns that one. Poll `dataExport` for READY and its `url`."
    )
    async def request_data_export(self, info: Ctx) -> DataExportType:
        return DataExportType.of(await data_export.request_export(info.context))
