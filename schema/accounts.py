"""Accounts: sign up, log in and out, the viewer, and profile edits."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers import auth
from resolvers.profile import ProfileChanges, update_profile
from resolvers.users import UserById
from schema.node import decode_id
from schema.users import UserType


@strawberry.input
class SignUpInput:
    username: str
    password: str
    display_name: str | None = None


@strawberry.input
class LogInInput:
    username: str
    password: str


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = None
    bio: str | None = None
    is_private: bool | None = None
    avatar_media_id: strawberry.ID | None = None
    archive_stories: bool | None = None


@strawberry.type
class AuthPayload:
    token: str
    user: UserType

    @classmethod
    def of(cls, session: auth.Session) -> AuthPayload:
        return cls(token=session.token, user=UserType.of(session.user))


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in user; null without a valid token.")
    async def viewer(self, info: Info[RequestContext, None]) -> UserType | None:
        viewer = info.context.viewer_id
        user = await UserById(info.context).load(viewer) if viewer is not None else None
        return UserType.of(user) if user else None


@strawberry.type
class AccountMutation:
    @strawberry.mutation
    async def sign_up(self, info: Info[RequestContext, None], input: SignUpInput) -> AuthPayload:
        return AuthPayload.of(
            await auth.sign_up(info.context, input.username, input.password, input.display_name)
        )

    @strawberry.mutation
    async def log_in(self, info: Info[RequestContext, None], input: LogInInput) -> AuthPayload:
        return AuthPayload.of(await auth.log_in(info.context, input.username, input.password))

    @strawberry.mutation(description="Revokes the token in use, on every server instance.")
    async def log_out(self, info: Info[RequestContext, None]) -> bool:
        return await auth.log_out(info.context)

    @strawberry.mutation
    async def update_profile(self, info: Info[RequestContext, None], input: UpdateProfileInput) -> UserType:
        avatar = decode_id(input.avatar_media_id, "Media") if input.avatar_media_id is not None else None
        changes = ProfileChanges(
            input.display_name, input.bio, input.is_private, avatar, input.archive_stories
        )
        return UserType.of(await update_profile(info.context, changes))
