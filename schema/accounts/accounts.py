"""Accounts: sign up, log in and out, the viewer, and profile edits."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.accounts import auth, signup
from resolvers.accounts.profile import ProfileChanges, update_profile
from resolvers.accounts.users import signed_in_user
from schema.accounts.users import UserType
from schema.node import decode_id


@strawberry.input(description="A new account.")
class SignUpInput:
    username: str = strawberry.field(
        description="3 to 30 characters: letters, digits, '.' and '_', stored in lowercase; CONFLICT when "
        "taken."
    )
    password: str = strawberry.field(description="8 to 256 characters.")
    display_name: str | None = strawberry.field(
        default=None,
        description="The name to show, at most 64 characters, on one line; the username when omitted.",
    )
    email: str | None = strawberry.field(
        default=None,
        description="Optional; a confirmation link is sent to it. Stored trimmed and in lowercase; "
        "BAD_USER_INPUT when it is not an address.",
    )


@strawberry.input(description="The credentials of an existing account.")
class LogInInput:
    username: str = strawberry.field(description="The account's username, in any case.")
    password: str = strawberry.field(description="The account's password; a wrong one is UNAUTHENTICATED.")


@strawberry.input(description="Changes to the viewer's profile: omitted or null fields stay as they are.")
class UpdateProfileInput:
    display_name: str | None = strawberry.field(
        default=None,
        description="The name to show, at most 64 characters; refused with bidirectional control "
        "characters or nothing visible.",
    )
    bio: str | None = strawberry.field(
        default=None, description="Profile text, at most 150 characters; an empty string clears it."
    )
    is_private: bool | None = strawberry.field(
        default=None,
        description="True: new followers need approval. False: every pending follow request is accepted.",
    )
    avatar_media_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A photo uploaded with purpose AVATAR, checked now; it becomes the profile photo.",
    )
    archive_stories: bool | None = strawberry.field(
        default=None,
        description="True keeps expired stories in `storyArchive`; false empties it, and expired stories "
        "in no highlight are then deleted.",
    )


@strawberry.type(description="A signed-in session: its bearer token and its account.")
class AuthPayload:
    token: str = strawberry.field(
        description="Send it as `Authorization: Bearer <token>`; valid for 30 days, or until logOut."
    )
    user: UserType = strawberry.field(description="The signed-in account.")

    @classmethod
    def of(cls, session: auth.Session) -> AuthPayload:
        return cls(token=session.token, user=UserType.of(session.user, signed_in=True))


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in user; null without a valid token.")
    async def viewer(self, info: Info[RequestContext, None]) -> UserType | None:
        user = await signed_in_user(info.context)
        return UserType.of(user) if user else None


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Creates an account and signs it in. CONFLICT for a taken username, BAD_USER_INPUT for "
        "an invalid one or password, RATE_LIMITED after too many sign-ups from one address."
    )
    async def sign_up(
        self,
        info: Info[RequestContext, None],
        input: Annotated[SignUpInput, strawberry.argument(description="The new account.")],
    ) -> AuthPayload:
        return AuthPayload.of(
            await signup.sign_up(
                info.context, input.username, input.password, input.display_name, input.email
            )
        )

    @strawberry.mutation(
        description="Signs in with a new token (one per device). UNAUTHENTICATED for a wrong username or "
        "password, RATE_LIMITED after too many failed attempts for the username or address."
    )
    async def log_in(
        self,
        info: Info[RequestContext, None],
        input: Annotated[LogInInput, strawberry.argument(description="The account's credentials.")],
    ) -> AuthPayload:
        return AuthPayload.of(await auth.log_in(info.context, input.username, input.password))

    @strawberry.mutation(
        description="Revokes the token in use, on every server instance; WebSockets opened with it close "
        "(4403). Always true."
    )
    async def log_out(self, info: Info[RequestContext, None]) -> bool:
        return await auth.log_out(info.context)

    @strawberry.mutation(
        description="Changes the viewer's profile and returns it. BAD_USER_INPUT for text over its limit or "
        "an avatar that is not a usable AVATAR upload."
    )
    async def update_profile(
        self,
        info: Info[RequestContext, None],
        input: Annotated[UpdateProfileInput, strawberry.argument(description="The fields to change.")],
    ) -> UserType:
        avatar = decode_id(input.avatar_media_id, "Media") if input.avatar_media_id is not None else None
        changes = ProfileChanges(
            input.display_name, input.bio, input.is_private, avatar, input.archive_stories
        )
        return UserType.of(await update_profile(info.context, changes))
