"""Users and the viewer's relationships to them, loaded in batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, func, literal, select, type_coerce, union_all

from core.context import RequestContext
from core.sql import id_in
from models import Block, CloseFriend, Contact, Follow, FollowState, StoryHide, User
from resolvers.loader import RequestLoader, unique
from resolvers.visibility import SELF, STRANGER, Relationship, can_find_user


class UserById(RequestLoader[int, User | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, User | None]:
        # A global id may carry any 19-digit number; past 64 bits the database would fail, not miss.
        ids = [key for key in unique(keys) if 0 <= key < 1 << 63]
        if not ids:
            return {}
        postgres = not self.ctx.services.db.is_sqlite
        async with self.ctx.read() as session:
            rows = await session.scalars(select(User).where(id_in(User.id, ids, postgres=postgres)))
            return {user.id: user for user in rows}

    def default(self, key: int) -> User | None:
        return None


class RelationshipTo(RequestLoader[int, Relationship]):
    """The viewer's edges to many users in one statement (every edge table, both directions)."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Relationship]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        others = [key for key in unique(keys) if key != viewer]
        postgres = not self.ctx.services.db.is_sqlite
        result: dict[int, Relationship] = {viewer: SELF} if viewer in keys else {}
        if not others:
            return result
        # Plain strings: the union takes its column types from the first branch, and the edge
        # branches put "" in this column, which the FollowState enum type would refuse.
        state_text = type_coerce(Follow.state, String(16))
        branches: list[Any] = [
            select(literal("follow"), Follow.followee_id, state_text).where(
                Follow.follower_id == viewer, id_in(Follow.followee_id, others, postgres=postgres)
            ),
            select(literal("followed_by"), Follow.follower_id, state_text).where(
                Follow.followee_id == viewer, id_in(Follow.follower_id, others, postgres=postgres)
            ),
        ]
        for name, table in (
            ("blocking", Block),
            ("close_friend", CloseFriend),
            ("contact", Contact),
            ("hiding_stories", StoryHide),
        ):
            branches.append(
                select(literal(name), table.other_id, literal("")).where(
                    table.user_id == viewer, id_in(table.other_id, others, postgres=postgres)
                )
            )
        for name, table in (
            ("blocked_by", Block),
            ("in_their_close_friends", CloseFriend),
            ("their_contact", Contact),
            ("stories_hidden_by_them", StoryHide),
        ):
            branches.append(
                select(literal(name), table.user_id, literal("")).where(
                    table.other_id == viewer, id_in(table.user_id, others, postgres=postgres)
                )
            )
        edges: dict[int, dict[str, object]] = {}
        async with self.ctx.read() as session:
            for kind, other, state in (await session.execute(union_all(*branches))).all():
                edges.setdefault(other, {})[kind] = FollowState(state) if state else True
        for other in others:
            result[other] = Relationship(**edges[other]) if other in edges else STRANGER  # type: ignore[arg-type]
        return result

    def default(self, key: int) -> Relationship:
        return STRANGER


class FollowerCount(RequestLoader[int, int]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(Follow.followee_id, func.count())
            .where(Follow.followee_id.in_(unique(keys)), Follow.state == FollowState.ACCEPTED)
            .group_by(Follow.followee_id)
        )
        async with self.ctx.read() as session:
            return {user_id: count for user_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


class FollowingCount(RequestLoader[int, int]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(Follow.follower_id, func.count())
            .where(Follow.follower_id.in_(unique(keys)), Follow.state == FollowState.ACCEPTED)
            .group_by(Follow.follower_id)
        )
        async with self.ctx.read() as session:
            return {user_id: count for user_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


async def relationship(ctx: RequestContext, user_id: int) -> Relationship:
    if ctx.viewer_id is None:
        return STRANGER
    return await RelationshipTo(ctx).load(user_id)


async def relationships(ctx: RequestContext, user_ids: Sequence[int]) -> list[Relationship]:
    if ctx.viewer_id is None:
        return [STRANGER] * len(user_ids)
    return await RelationshipTo(ctx).load_many(user_ids)


async def findable_user(ctx: RequestContext, user_id: int) -> User | None:
    """The user if the viewer may find them at all (not when they blocked the viewer)."""
    return (await findable_users(ctx, [user_id]))[0]


async def findable_users(ctx: RequestContext, user_ids: Sequence[int]) -> list[User | None]:
    """The users the viewer may find, position by position (None where gone or hidden): the one
    rule behind every list of users (members, viewers, followers), in two batched loads."""
    users = await UserById(ctx).load_many(user_ids)
    rels = await relationships(ctx, user_ids)
    return [
        user if user is not None and user.deleted_at is None and can_find_user(rel) else None
        for user, rel in zip(users, rels, strict=True)
    ]


async def user_by_username(ctx: RequestContext, username: str) -> User | None:
    name = username.strip().lower()
    if not name or len(name) > 30:
        return None
    async with ctx.read() as session:
        user = await session.scalar(select(User).where(User.username == name))
    if user is None:
        return None
    UserById(ctx).prime(user.id, user)
    return await findable_user(ctx, user.id)
